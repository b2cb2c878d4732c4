#include "aoti_package.h"

#include <ATen/Context.h>
#include <ATen/DynamicLibrary.h>
#include <ATen/cpu/Utils.h>
#include <ATen/Version.h>
#include <sys/utsname.h>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "errors.h"

namespace videovae {
namespace {

constexpr const char* kCpuIsaCode = "ERR_CPU_ISA";

// Loader construction extracts files and dlopens a shared object with global side effects
// (the runner registry, the proxy executor): one at a time, as upstream's own tests do.
std::mutex& LoaderMutex() {
  static std::mutex mutex;
  return mutex;
}

// The vector level libtorch's own kernels use: the CPU's, capped by ATEN_CPU_CAPABILITY.
int CapabilityLevel() {
  std::string cap = at::get_cpu_capability();
  return cap == "AVX512" ? 2 : cap == "AVX2" ? 1 : 0;
}

bool HasFlag(const std::unordered_map<std::string, c10::IValue>& caps, const char* key) {
  auto it = caps.find(key);
  return it != caps.end() && it->second.isBool() && it->second.toBool();
}

// The leaves of the call spec's input tree: the package's number of flat inputs.
size_t CountInputs(const std::vector<std::string>& call_spec) {
  if (call_spec.empty()) return 0;
  const std::string& spec = call_spec[0];
  size_t count = 0;
  for (size_t at = spec.find("\"type\": null"); at != std::string::npos; at = spec.find("\"type\": null", at + 1)) ++count;
  return count;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string Machine() {
  struct utsname name {};
  return uname(&name) == 0 ? std::string(name.machine) : std::string();
}

// The runner keeps the package's shared object and container handle protected. The container's
// C API (aoti_runtime/interface.h) gives each constant's dtype and byte size, which
// load_constants does not check: a tensor of the wrong size there corrupts memory.
struct RunnerAccess : torch::inductor::AOTIModelContainerRunner {
  static at::DynamicLibrary& Library(torch::inductor::AOTIModelContainerRunner& r) { return *(r.*(&RunnerAccess::model_so_)); }
  static AOTInductorModelContainerHandle Container(torch::inductor::AOTIModelContainerRunner& r) {
    return r.*(&RunnerAccess::container_handle_);
  }
};

constexpr AOTIRuntimeError kAotiSuccess = 0;  // AOTI_RUNTIME_SUCCESS (aoti_runtime/utils.h)

struct ConstantSpec {
  c10::ScalarType dtype;
  size_t bytes;
};

// FQN -> what the package expects of the constant.
std::unordered_map<std::string, ConstantSpec> ConstantSpecs(torch::inductor::AOTIModelContainerRunner& runner) {
  at::DynamicLibrary& so = RunnerAccess::Library(runner);
  AOTInductorModelContainerHandle container = RunnerAccess::Container(runner);
  auto count = reinterpret_cast<decltype(&AOTInductorModelContainerGetNumConstants)>(so.sym("AOTInductorModelContainerGetNumConstants"));
  auto fqn_of = reinterpret_cast<decltype(&AOTInductorModelContainerGetConstantOriginalFQN)>(so.sym("AOTInductorModelContainerGetConstantOriginalFQN"));
  auto dtype_of = reinterpret_cast<decltype(&AOTInductorModelContainerGetConstantDtype)>(so.sym("AOTInductorModelContainerGetConstantDtype"));
  auto size_of = reinterpret_cast<decltype(&AOTInductorModelContainerGetConstantDataSize)>(so.sym("AOTInductorModelContainerGetConstantDataSize"));
  size_t n = 0;
  TORCH_CHECK(count(container, &n) == kAotiSuccess, "cannot count the package's constants");
  std::unordered_map<std::string, ConstantSpec> specs;
  for (size_t i = 0; i < n; ++i) {
    const char* fqn = nullptr;
    int32_t dtype = 0;
    size_t bytes = 0;
    TORCH_CHECK(fqn_of(container, i, &fqn) == kAotiSuccess && dtype_of(container, i, &dtype) == kAotiSuccess &&
                    size_of(container, i, &bytes) == kAotiSuccess,
                "cannot read the package's constant ", i);
    specs[fqn] = {static_cast<c10::ScalarType>(dtype), bytes};
  }
  return specs;
}

}  // namespace

std::vector<std::string> SupportedCpuIsa() {
#if defined(__x86_64__) || defined(_M_X64)
  std::vector<std::string> out;
  auto caps = at::cpu::get_cpu_capabilities();
  if (CapabilityLevel() >= 1) out.push_back("avx2");
  if (CapabilityLevel() >= 2) {
    out.push_back("avx512");
    if (at::cpu::is_avx512_vnni_supported()) out.push_back("avx512_vnni");
    if (HasFlag(caps, "avx512_bf16")) out.push_back("avx512_bf16");
    if (HasFlag(caps, "amx_tile")) out.push_back("amx_tile");
  }
  return out;
#else
  return {};
#endif
}

void CheckCpuIsa(const std::string& isa, const std::string& what) {
  std::vector<std::string> supported = SupportedCpuIsa();
  std::istringstream words(Lower(isa));
  std::string word;
  while (words >> word) {
    if (word == "invalid_vec_isa" || word == "none" || word == "default") continue;  // scalar kernels
    if (std::find(supported.begin(), supported.end(), word) != supported.end()) continue;
    std::string have;
    for (const auto& s : supported) have += (have.empty() ? "" : " ") + s;
    throw CodedError(kCpuIsaCode, what + " has kernels compiled for the CPU instruction set '" + Lower(isa) +
                                      "', which this CPU cannot run ('" + word + "' is missing; this CPU runs: " +
                                      (have.empty() ? "no vector instruction set" : have) +
                                      "). Re-export it on this machine, or export it with a lower instruction-set "
                                      "pin (videovae export --engine aoti --cpu-isa avx2)");
  }
}

std::shared_ptr<AotiPackage> AotiPackage::Load(const std::string& path, AotiLoadOptions options) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw CodedError(code::kNotFound, "no AOTInductor package at '" + path + "'");
  }
  std::shared_ptr<AotiPackage> package(new AotiPackage());
  package->path_ = path;
  package->device_ = options.device;
  try {
    // Under the loader lock too: concurrent reads of several packages' metadata (a bundle loads
    // its packages at once) failed now and then with a JSON error from inside libtorch.
    std::lock_guard<std::mutex> lock(LoaderMutex());
    package->metadata_ = torch::inductor::AOTIModelPackageLoader::load_metadata_from_package(path, "model");
  } catch (...) {
    ErrorInfo cause = DescribeCurrentException();
    throw CodedError(code::kModule, "'" + path + "' is not a readable AOTInductor package: " + cause.message);
  }
  auto meta = [&](const char* key) {
    auto it = package->metadata_.find(key);
    return it == package->metadata_.end() ? std::string() : it->second;
  };
  // Checked before the shared object is opened: a kernel for a missing ISA kills the process.
  std::string machine = meta("AOTI_MACHINE");
  if (!machine.empty() && machine != Machine()) {
    throw CodedError(kCpuIsaCode, "'" + path + "' was compiled for " + machine + ", this machine is " + Machine() +
                                      ": re-export it on this machine");
  }
  std::string device_key = meta("AOTI_DEVICE_KEY");
  if (device_key.empty()) device_key = "cpu";
  if (device_key == "cpu") CheckCpuIsa(meta("AOTI_CPU_ISA"), "'" + path + "'");
  if (device_key == "cuda" && !at::hasCUDA()) {
    throw CodedError(code::kDevice, "'" + path + "' is a CUDA package, and this libtorch has no CUDA (or sees no GPU): "
                                    "export the bundle for the cpu, or install a CUDA libtorch (videovae setup --cuda)");
  }
  if (device_key != c10::DeviceTypeName(options.device.type(), /*lower_case=*/true)) {
    throw CodedError(code::kDevice, "'" + path + "' was compiled for device '" + device_key + "' and cannot run on " +
                                        options.device.str() + ": load it with device '" + device_key +
                                        "', or export it for " + options.device.str());
  }
  {
    std::lock_guard<std::mutex> lock(LoaderMutex());
    // The generated input checks (read once per package) refuse size 1 on every dynamic dim,
    // which the packages compute correctly: they stay off, even when the environment sets
    // them, and Run checks inputs against the caller's specs instead.
    unsetenv("AOTI_RUNTIME_CHECK_INPUTS");
    try {
      package->loader_ = std::make_unique<torch::inductor::AOTIModelPackageLoader>(
          path, "model", /*run_single_threaded=*/false, std::max<size_t>(1, options.runners),
          options.device.is_cuda() ? options.device.index() : c10::DeviceIndex(-1));
    } catch (const CodedError&) {
      throw;
    } catch (...) {
      ErrorInfo cause = DescribeCurrentException();
      throw CodedError(code::kModule, "cannot load the AOTInductor package '" + path + "': " + cause.message);
    }
  }
  auto* runner = package->loader_->get_runner();
  auto names = runner->getConstantNamesToOriginalFQNs();
  if (!options.constants.empty() || !options.quantized.empty()) {
    std::unordered_map<std::string, ConstantSpec> specs = ConstantSpecs(*runner);
    // int8-stored weights (a bundle's int8 side file) join the constants in the constant's dtype.
    for (const QuantizedWeight& w : options.quantized) {
      auto spec = specs.find(w.name);
      if (spec == specs.end() || !c10::isFloatingType(spec->second.dtype)) {
        throw CodedError(code::kBundle, "quantized weight '" + w.name + "' is not a floating constant of '" + path + "'");
      }
      if (options.constants.count(w.name)) {
        throw CodedError(code::kBundle, "weight '" + w.name + "' is given twice (as a constant and quantized)");
      }
      options.constants.emplace(w.name, Dequantize(w, spec->second.dtype));
    }
    options.quantized.clear();
    for (auto& [fqn, tensor] : options.constants) {
      auto spec = specs.find(fqn);
      if (spec == specs.end()) throw CodedError(code::kBundle, "weight '" + fqn + "' is not a constant of '" + path + "'");
      // float16 storage (weights_storage "float16" / "int8-absmax-dim0"): computed in the package's dtype.
      if (tensor.scalar_type() == c10::kHalf && spec->second.dtype != c10::kHalf && c10::isFloatingType(spec->second.dtype)) {
        tensor = tensor.to(spec->second.dtype);
      }
      tensor = tensor.contiguous();
      const size_t want = spec->second.bytes;
      // The package records small constants padded to its 64-byte alignment: hand those over in
      // storage of that size, so nothing can read past the tensor.
      if (tensor.scalar_type() == spec->second.dtype && tensor.nbytes() < want && want % 64 == 0 &&
          want - tensor.nbytes() < 64 && want % tensor.element_size() == 0) {
        auto storage = tensor.new_zeros({static_cast<int64_t>(want / tensor.element_size())});
        storage.narrow(0, 0, tensor.numel()).copy_(tensor.reshape(-1));
        tensor = storage.narrow(0, 0, tensor.numel()).view(tensor.sizes());
      } else if (tensor.scalar_type() != spec->second.dtype || tensor.nbytes() != want) {
        throw CodedError(code::kBundle, "weight '" + fqn + "' is " + std::string(c10::toString(tensor.scalar_type())) + " of " +
                                            std::to_string(tensor.nbytes()) + " bytes; '" + path + "' expects " +
                                            c10::toString(spec->second.dtype) + " of " + std::to_string(spec->second.bytes) +
                                            " bytes");
      }
    }
    try {
      // Full update: every constant must be given; copied onto the package's device.
      package->loader_->load_constants(options.constants, /*use_inactive=*/false, /*check_full_update=*/true,
                                       /*user_managed=*/false, /*allow_h2d_copy=*/options.device.is_cuda());
    } catch (...) {
      ErrorInfo cause = DescribeCurrentException();
      throw CodedError(code::kBundle, "the weights do not fit '" + path + "': " + cause.message);
    }
    options.constants.clear();
  }
  // A package exported without its weights has an empty constant map until they are given.
  if (runner->extract_constants_map(false).size() < names.size()) {
    throw CodedError(code::kModule, "'" + path + "' was exported without its weights (package_constants_in_so=False): "
                                    "hand them over at load (the bundle's <stage>.weights.safetensors, or "
                                    "TorchModule.load(path, { constants }))");
  }
  // The dtype most floating constants have (a bfloat16 export may keep a few in float32).
  std::unordered_map<int, size_t> votes;
  for (const auto& [name, dtype] : runner->getConstantNamesToDtypes()) {
    if (c10::isFloatingType(static_cast<c10::ScalarType>(dtype))) ++votes[dtype];
  }
  size_t best = 0;
  for (const auto& [dtype, count] : votes) {
    if (count > best || (count == best && dtype < static_cast<int>(package->dtype_))) {
      best = count;
      package->dtype_ = static_cast<c10::ScalarType>(dtype);
    }
  }
  package->num_inputs_ = CountInputs(package->loader_->get_call_spec());
  if (!options.inputs.empty() && package->num_inputs_ != 0 && options.inputs.size() != package->num_inputs_) {
    throw CodedError(code::kArgument, "'" + path + "' takes " + std::to_string(package->num_inputs_) + " input(s), " +
                                          std::to_string(options.inputs.size()) + " input spec(s) given");
  }
  package->inputs_ = std::move(options.inputs);
  return package;
}

AotiPackage::~AotiPackage() {
  // The loader's destructor unloads the .so and removes its extraction directory.
  std::lock_guard<std::mutex> lock(LoaderMutex());
  loader_.reset();
}

std::vector<at::Tensor> AotiPackage::Run(const std::vector<at::Tensor>& inputs) const {
  size_t expected = !inputs_.empty() ? inputs_.size() : num_inputs_;
  if (expected != 0 && inputs.size() != expected) {
    throw CodedError(code::kArgument, "the package '" + path_ + "' takes " + std::to_string(expected) +
                                          " tensor(s), got " + std::to_string(inputs.size()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) throw CodedError(code::kArgument, "input " + std::to_string(i) + " is undefined");
    if (inputs[i].device() != device_) {
      throw CodedError(code::kDevice, "input " + std::to_string(i) + " is on " + inputs[i].device().str() +
                                          ", the package runs on " + device_.str());
    }
    if (i < inputs_.size()) {
      CheckInput(inputs[i], inputs_[i], i);
    } else if (c10::isFloatingType(inputs[i].scalar_type()) && inputs[i].scalar_type() != dtype_) {
      throw CodedError(code::kDtype, "input " + std::to_string(i) + " of '" + path_ + "' is " +
                                         c10::toString(inputs[i].scalar_type()) + ", the package computes in " +
                                         c10::toString(dtype_));
    }
  }
  // The generated code reads inputs as dense row-major buffers: contiguous copies where needed.
  std::vector<at::Tensor> flat;
  flat.reserve(inputs.size());
  for (const auto& t : inputs) flat.push_back(t.contiguous());
  // nullptr: the CUDA runner uses the current stream, as TorchScript modules do.
  return loader_->run(flat, nullptr);
}

void AotiPackage::CheckInput(const at::Tensor& t, const AotiInputSpec& spec, size_t i) const {
  std::string what = "input " + std::to_string(i) + (spec.name.empty() ? "" : " (" + spec.name + ")") + " of '" + path_ + "'";
  std::string want = "[";
  for (size_t d = 0; d < spec.dims.size(); ++d) {
    int64_t s = spec.dims[d];
    want += (d ? ", " : "") + (s > 0 ? std::to_string(s) : s == -1 ? std::string("k") : std::to_string(-s) + "k");
  }
  want += "] (k: any size >= 1)";
  auto shape_of = [&]() {
    std::string out = "[";
    for (int64_t d = 0; d < t.dim(); ++d) out += (d ? ", " : "") + std::to_string(t.size(d));
    return out + "]";
  };
  if (static_cast<size_t>(t.dim()) != spec.dims.size()) {
    throw CodedError(code::kShape, what + " has shape " + shape_of() + " (rank " + std::to_string(t.dim()) +
                                       "); the package takes " + want);
  }
  for (size_t d = 0; d < spec.dims.size(); ++d) {
    int64_t s = spec.dims[d], n = t.size(static_cast<int64_t>(d));
    bool ok = s > 0 ? n == s : n >= 1 && n % (-s) == 0;
    if (!ok) {
      throw CodedError(code::kShape, what + " has shape " + shape_of() + ": dim " + std::to_string(d) +
                                         " does not fit; the package takes " + want);
    }
  }
  c10::ScalarType dtype = spec.dtype.value_or(dtype_);
  if (t.scalar_type() != dtype) {
    throw CodedError(code::kDtype, what + " is " + c10::toString(t.scalar_type()) + ", the package takes " +
                                       c10::toString(dtype));
  }
}

}  // namespace videovae
