// Device strings ("cpu", "cuda", "cuda:N") and the CUDA runtime queries. Nothing here links
// against CUDA: libtorch's device-generic APIs reach the CUDA backend only when the loaded
// libtorch has one and a GPU is present, so the same source builds against CPU libtorch.
#pragma once

#include <c10/core/Device.h>
#include <napi.h>

#include <string>

namespace videovae {

// "cuda" means "cuda:0". Throws ERR_DEVICE for malformed strings, for CUDA when the loaded
// libtorch has no CUDA or no GPU is visible, and for indices past the device count.
c10::Device ParseDevice(const std::string& text);
std::string DeviceName(const c10::Device& device);

// Blocks until queued work on `device` finished (no-op on CPU).
void SynchronizeDevice(const c10::Device& device);

// float32 on CUDA is IEEE float32 by default, as on the CPU: libtorch lets cuDNN convolutions
// run in TF32 (a 10-bit mantissa), which moves float32 outputs by ~1e-3 and breaks parity with a
// CPU or strict-fp32 PyTorch reference. SetCudaTF32(true) trades that for speed (convs, matmuls).
void SetCudaTF32(bool allow);
bool CudaTF32();

// cuDNN benchmark mode (torch.backends.cudnn.benchmark): the first convolution of each new
// shape times the candidate algorithms and later ones reuse the fastest. Process-wide, off by
// default (libtorch's default); only a flag without CUDA.
void SetCudnnBenchmark(bool on);
bool CudnnBenchmark();

void RegisterDevice(Napi::Env env, Napi::Object exports);

}  // namespace videovae
