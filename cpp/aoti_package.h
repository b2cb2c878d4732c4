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
#include <string>
#include <unordered_map>
#include <vector>

namespace torch::inductor {
class AOTIModelPackageLoader;
}

namespace videovae {

struct AotiLoadOptions {
  c10::Device device{c10::kCPU};
  // Model instances in the loader's pool: that many calls run at once, more wait for one.
  size_t runners = 1;
  // Weights kept out of the .so (the package's constant FQNs -> tensors); empty: none given.
  std::unordered_map<std::string, at::Tensor> constants;
};

class AotiPackage {
 public:
  // Worker thread. Throws ERR_NOT_FOUND, ERR_MODULE (unreadable, missing weights),
  // ERR_CPU_ISA (kernels for instructions this CPU lacks), ERR_DEVICE (package for another device).
  static std::shared_ptr<AotiPackage> Load(const std::string& path, AotiLoadOptions options);
  ~AotiPackage();

  // Flat tensors in, flat tensors out (the package's calling convention). Thread-safe.
  std::vector<at::Tensor> Run(const std::vector<at::Tensor>& inputs) const;

  size_t numInputs() const { return num_inputs_; }
  // The floating dtype of the package's weights (inputs are cast to it); float32 when none.
  c10::ScalarType dtype() const { return dtype_; }
  const std::unordered_map<std::string, std::string>& metadata() const { return metadata_; }
  const c10::Device& device() const { return device_; }

 private:
  AotiPackage() = default;

  std::unique_ptr<torch::inductor::AOTIModelPackageLoader> loader_;
  std::unordered_map<std::string, std::string> metadata_;
  c10::Device device_{c10::kCPU};
  c10::ScalarType dtype_ = c10::kFloat;
  size_t num_inputs_ = 0;
  std::string path_;
};

// The CPU instruction sets this process may run, as AOTInductor names them (avx2, avx512,
// avx512_vnni, avx512_bf16, amx_tile), capped by ATEN_CPU_CAPABILITY like libtorch's own kernels.
std::vector<std::string> SupportedCpuIsa();

// Throws ERR_CPU_ISA naming the fix when `isa` (AOTI_CPU_ISA, space-separated) needs an
// instruction set this CPU (or ATEN_CPU_CAPABILITY) does not allow. `what` names the package.
void CheckCpuIsa(const std::string& isa, const std::string& what);

}  // namespace videovae
