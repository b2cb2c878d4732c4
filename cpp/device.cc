#include "device.h"

#include <dlfcn.h>

#include <ATen/Context.h>
#include <ATen/DeviceAccelerator.h>
#include <torch/cuda.h>

#include "errors.h"

namespace videovae {

c10::Device ParseDevice(const std::string& text) {
  if (text == "cpu") return c10::Device(c10::kCPU);
  const std::string prefix = "cuda";
  if (text.rfind(prefix, 0) != 0) {
    throw CodedError(code::kDevice, "unknown device '" + text + "' (use 'cpu', 'cuda' or 'cuda:N')");
  }
  int index = 0;
  if (text.size() > prefix.size()) {
    std::string digits = text.substr(prefix.size() + 1);
    if (text[prefix.size()] != ':' || digits.empty() || digits.size() > 3 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      throw CodedError(code::kDevice, "unknown device '" + text + "' (use 'cpu', 'cuda' or 'cuda:N')");
    }
    index = std::stoi(digits);
  }
  if (!torch::cuda::is_available()) {
    throw CodedError(code::kDevice, "device '" + text +
                                        "' requested but CUDA is not available (CPU-only libtorch or no GPU visible)");
  }
  int count = static_cast<int>(torch::cuda::device_count());
  if (index >= count) {
    throw CodedError(code::kDevice,
                     "device '" + text + "' requested but only " + std::to_string(count) + " CUDA device(s) exist");
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

std::string DeviceName(const c10::Device& device) {
  if (device.is_cpu()) return "cpu";
  return device.str();  // "cuda:0"
}

void SynchronizeDevice(const c10::Device& device) {
  if (device.is_cuda()) at::accelerator::synchronizeDevice(device.index());
}

// The legacy switches, not setFloat32Precision: their signature is the same in every libtorch
// 2.x (the new API changed from strings to enums between 2.9 and 2.13).
void SetCudaTF32(bool allow) {
  at::globalContext().setAllowTF32CuDNN(allow);
  at::globalContext().setAllowTF32CuBLAS(allow);
}

bool CudaTF32() { return at::globalContext().allowTF32CuDNN(); }

void SetCudnnBenchmark(bool on) { at::globalContext().setBenchmarkCuDNN(on); }

bool CudnnBenchmark() { return at::globalContext().benchmarkCuDNN(); }

namespace {

Napi::Value CudaIsAvailable(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), torch::cuda::is_available()); });
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), torch::cuda::is_available() ? torch::cuda::device_count() : 0);
  });
}

// cuBLAS(Lt) keeps a workspace per handle and stream in the caching allocator, a handle per
// thread (so one per worker thread that ran a matmul), and the allocator's emptyCache leaves
// them: ~130 MB on an H200. at::cuda::clearCublasWorkspaces frees them; it lives in
// libtorch_cuda, so it is looked up at run time and the same source builds against CPU libtorch.
void ClearCublasWorkspaces() {
  void* lib = dlopen("libtorch_cuda.so", RTLD_LAZY | RTLD_NOLOAD);
  if (lib == nullptr) return;
  using Clear = void (*)();
  auto clear = reinterpret_cast<Clear>(dlsym(lib, "_ZN2at4cuda21clearCublasWorkspacesEv"));
  if (clear != nullptr) clear();
  dlclose(lib);
}

// Returns cached, unused blocks of the CUDA caching allocator (and cuBLAS workspaces) to the driver.
Napi::Value CudaEmptyCache(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    if (!torch::cuda::is_available()) return info.Env().Undefined();
    ClearCublasWorkspaces();
    at::accelerator::emptyCache();
    return info.Env().Undefined();
  });
}

Napi::Value CudaSetTF32(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    SetCudaTF32(info[0].ToBoolean().Value());
    return info.Env().Undefined();
  });
}

Napi::Value CudaGetTF32(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), CudaTF32()); });
}

Napi::Value CudaSetCudnnBenchmark(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    if (!info[0].IsBoolean()) throw CodedError(code::kArgument, "cudnnBenchmark must be a boolean");
    SetCudnnBenchmark(info[0].As<Napi::Boolean>().Value());
    return info.Env().Undefined();
  });
}

Napi::Value CudaGetCudnnBenchmark(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), CudnnBenchmark()); });
}

}  // namespace

void RegisterDevice(Napi::Env env, Napi::Object exports) {
  // float32 means IEEE float32 on every device (libtorch would let cuDNN use TF32).
  SetCudaTF32(false);
  exports.Set("cudaSetTF32", Napi::Function::New(env, CudaSetTF32, "cudaSetTF32"));
  exports.Set("cudaTF32", Napi::Function::New(env, CudaGetTF32, "cudaTF32"));
  exports.Set("cudaSetCudnnBenchmark", Napi::Function::New(env, CudaSetCudnnBenchmark, "cudaSetCudnnBenchmark"));
  exports.Set("cudaCudnnBenchmark", Napi::Function::New(env, CudaGetCudnnBenchmark, "cudaCudnnBenchmark"));
  exports.Set("cudaIsAvailable", Napi::Function::New(env, CudaIsAvailable, "cudaIsAvailable"));
  exports.Set("cudaDeviceCount", Napi::Function::New(env, CudaDeviceCount, "cudaDeviceCount"));
  exports.Set("cudaEmptyCache", Napi::Function::New(env, CudaEmptyCache, "cudaEmptyCache"));
}

}  // namespace videovae
