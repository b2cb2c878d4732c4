// AOTInductor packages (.pt2, torch._inductor.aoti_compile_and_package) loaded with libtorch's
// AOTIModelPackageLoader. The loader extracts the package's shared object into a fresh
// directory under the temp dir ($TMPDIR, else /tmp) and removes it when the package is freed.
// Kernels are native code for one CPU instruction level (or one GPU): a package is checked
// against this CPU and this libtorch before its shared object is opened, and a package whose
// weights live outside the .so cannot run until they are handed over (running it would crash).
#pragma once

#include <ATen/Tensor.h>
#include <c10/core/Device.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dequantize.h"

namespace torch::inductor {
class AOTIModelPackageLoader;
}

namespace videovae {

// What a package accepts for one input (AOTInductor records no input specs that libtorch
// exposes, so the caller states them: the bundle manifest's aoti.shapes, or TorchModule.load's
// `inputs`). Checked before every run, since the package's own generated checks stay off.
struct AotiInputSpec {
  std::string name;
  // Per dim: > 0 that size; < 0 any positive multiple of -d (-1: any size >= 1).
  std::vector<int64_t> dims;
  // Unset: the package's floating dtype.
  std::optional<c10::ScalarType> dtype;
};

struct AotiLoadOptions {
  c10::Device device{c10::kCPU};
  // Model instances in the loader's pool: that many calls run at once, more wait for one.
  size_t runners = 1;
  // Weights kept out of the .so (the package's constant FQNs -> tensors); empty: none given.
  // A float16 tensor for a constant of another floating dtype is converted to it.
  std::unordered_map<std::string, at::Tensor> constants;
  // Weights stored as int8 + scale (by FQN): dequantized in float32, cast to the constant's
  // dtype, then handed over with the constants.
  std::vector<QuantizedWeight> quantized;
  // One per input, in call order; empty: only the count, device and floating dtype are checked.
  std::vector<AotiInputSpec> inputs;
};

class AotiPackage {
 public:
  // Worker thread. Throws ERR_NOT_FOUND, ERR_MODULE (unreadable, missing weights),
  // ERR_CPU_ISA (kernels for instructions this CPU lacks), ERR_DEVICE (package for another device).
  static std::shared_ptr<AotiPackage> Load(const std::string& path, AotiLoadOptions options);
  ~AotiPackage();

  // Flat tensors in, flat tensors out (the package's calling convention). Thread-safe. Throws
  // ERR_ARGUMENT (count), ERR_DEVICE, ERR_SHAPE / ERR_DTYPE (against the input specs).
  std::vector<at::Tensor> Run(const std::vector<at::Tensor>& inputs) const;

  size_t numInputs() const { return num_inputs_; }
  // The floating dtype of the package's weights (inputs are cast to it); float32 when none.
  c10::ScalarType dtype() const { return dtype_; }
  const std::unordered_map<std::string, std::string>& metadata() const { return metadata_; }
  const c10::Device& device() const { return device_; }

 private:
  AotiPackage() = default;
  // Throws ERR_SHAPE / ERR_DTYPE when input i does not fit its spec.
  void CheckInput(const at::Tensor& t, const AotiInputSpec& spec, size_t i) const;

  std::unique_ptr<torch::inductor::AOTIModelPackageLoader> loader_;
  std::unordered_map<std::string, std::string> metadata_;
  c10::Device device_{c10::kCPU};
  c10::ScalarType dtype_ = c10::kFloat;
  size_t num_inputs_ = 0;
  std::vector<AotiInputSpec> inputs_;
  std::string path_;
};

// The CPU instruction sets this process may run, as AOTInductor names them (avx2, avx512,
// avx512_vnni, avx512_bf16, amx_tile), capped by ATEN_CPU_CAPABILITY like libtorch's own kernels.
std::vector<std::string> SupportedCpuIsa();

// Throws ERR_CPU_ISA naming the fix when `isa` (AOTI_CPU_ISA, space-separated) needs an
// instruction set this CPU (or ATEN_CPU_CAPABILITY) does not allow. `what` names the package.
void CheckCpuIsa(const std::string& isa, const std::string& what);

}  // namespace videovae
