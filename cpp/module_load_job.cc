// moduleLoad(path, device, dtype?, quantized?, aoti?) -> Promise<module handle>: reads a
// TorchScript archive onto a device, fills in int8-stored weights, optionally converts its
// floating parameters and buffers to `dtype`. With `aoti` ({ runners, constants, quantized,
// inputs }) it loads an AOTInductor package (.pt2) instead, handing it the weights kept out of
// its shared object (int8-stored ones dequantized first).
#include <torch/csrc/jit/serialization/import.h>

#include <unordered_map>

#include <filesystem>

#include "aoti_package.h"
#include "channels_last.h"
#include "dequantize.h"
#include "device.h"
#include "dtype.h"
#include "job.h"
#include "module.h"
#include "tensor.h"

namespace videovae {
namespace {

// Replaces each placeholder parameter by values * scale, computed in float32 exactly as the
// Python loader does, then cast to the dtype the module ends up in. Every floating parameter of
// two or more dims must be filled: the archive holds only a one-element placeholder for them.
void FillQuantizedWeights(torch::jit::Module& module, const std::vector<QuantizedWeight>& weights,
                          std::optional<c10::ScalarType> dtype) {
  std::unordered_map<std::string, at::Tensor> params;
  for (const auto& p : module.named_parameters(true)) params.emplace(p.name, p.value);
  std::unordered_map<std::string, bool> filled;
  for (const auto& w : weights) {
    auto it = params.find(w.name);
    if (it == params.end()) {
      throw CodedError(code::kBundle, "quantized weight '" + w.name + "' is not a parameter of the module");
    }
    at::Tensor& param = it->second;
    if (w.values.sizes() != param.sizes()) {
      throw CodedError(code::kBundle, "quantized weight '" + w.name + "' has the wrong dtype or shape");
    }
    param.set_data(Dequantize(w, dtype.value_or(param.scalar_type())).to(param.device()));
    filled[w.name] = true;
  }
  for (const auto& [name, param] : params) {
    if (param.is_floating_point() && param.dim() >= 2 && !filled.count(name)) {
      throw CodedError(code::kBundle, "the quantized weights have no weight '" + name + "' for this module");
    }
  }
}

class PackageLoadJob : public Job {
 public:
  PackageLoadJob(Napi::Env env, std::string path, AotiLoadOptions options)
      : Job(env, "videovae:packageLoad", options.device), path_(std::move(path)), options_(std::move(options)) {}

 protected:
  void Run() override {
    LoadedModule loaded;
    loaded.device = options_.device;
    loaded.package = AotiPackage::Load(path_, std::move(options_));
    loaded.methods = {"forward"};
    loaded_ = std::move(loaded);
  }

  Napi::Value Result(Napi::Env env) override { return WrapModule(env, std::move(loaded_)); }

 private:
  std::string path_;
  AotiLoadOptions options_;
  LoadedModule loaded_;
};

// [name, values, scale] triples (lib/module.ts QuantizedWeight), for a module or a package.
std::vector<QuantizedWeight> ParseQuantized(const Napi::Array& entries) {
  std::vector<QuantizedWeight> out;
  for (uint32_t i = 0; i < entries.Length(); ++i) {
    Napi::Value entry = entries.Get(i);
    if (!entry.IsArray() || entry.As<Napi::Array>().Length() != 3 || !entry.As<Napi::Array>().Get(0u).IsString()) {
      throw CodedError(code::kArgument, "quantized weights must be [name, values, scale] triples");
    }
    Napi::Array triple = entry.As<Napi::Array>();
    std::string name = triple.Get(0u).As<Napi::String>();
    out.push_back({name, UnwrapTensor(triple.Get(1u), "values of " + name), UnwrapTensor(triple.Get(2u), "scale of " + name)});
  }
  return out;
}

// { runners: number, constants: { [fqn]: tensor } | null, quantized: [fqn, values, scale][] | null,
//   inputs: [{ name: string, dims: number[] (< 0: multiples of -d), dtype: string | null }] | null }
// (lib/module.ts has validated the input specs.)
AotiLoadOptions ParseAotiOptions(const Napi::Object& obj, const c10::Device& device) {
  AotiLoadOptions options;
  options.device = device;
  Napi::Value runners = obj.Get("runners");
  if (!runners.IsUndefined() && !runners.IsNull()) {
    if (!runners.IsNumber() || runners.As<Napi::Number>().Int64Value() < 1 || runners.As<Napi::Number>().Int64Value() > 1024) {
      throw CodedError(code::kArgument, "runners must be an integer from 1 to 1024");
    }
    options.runners = static_cast<size_t>(runners.As<Napi::Number>().Int64Value());
  }
  Napi::Value constants = obj.Get("constants");
  if (!constants.IsUndefined() && !constants.IsNull()) {
    if (!constants.IsObject()) throw CodedError(code::kArgument, "constants must be an object of tensors");
    Napi::Object map = constants.As<Napi::Object>();
    Napi::Array names = map.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); ++i) {
      std::string name = names.Get(i).As<Napi::String>();
      options.constants.emplace(name, UnwrapTensor(map.Get(name), "constant " + name));
    }
  }
  Napi::Value quantized = obj.Get("quantized");
  if (quantized.IsArray()) options.quantized = ParseQuantized(quantized.As<Napi::Array>());
  Napi::Value inputs = obj.Get("inputs");
  if (inputs.IsArray()) {
    Napi::Array list = inputs.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) {
      if (!list.Get(i).IsObject()) throw CodedError(code::kArgument, "inputs[" + std::to_string(i) + "] must be an object");
      Napi::Object item = list.Get(i).As<Napi::Object>();
      AotiInputSpec spec;
      if (item.Get("name").IsString()) spec.name = item.Get("name").As<Napi::String>();
      if (!item.Get("dims").IsArray()) throw CodedError(code::kArgument, "inputs[" + std::to_string(i) + "].dims must be an array");
      Napi::Array dims = item.Get("dims").As<Napi::Array>();
      for (uint32_t d = 0; d < dims.Length(); ++d) {
        Napi::Value v = dims.Get(d);
        if (!v.IsNumber() || v.As<Napi::Number>().Int64Value() == 0) {
          throw CodedError(code::kArgument, "inputs[" + std::to_string(i) + "].dims must be non-zero integers");
        }
        spec.dims.push_back(v.As<Napi::Number>().Int64Value());
      }
      if (item.Get("dtype").IsString()) spec.dtype = ParseDtype(item.Get("dtype").As<Napi::String>());
      options.inputs.push_back(std::move(spec));
    }
  }
  return options;
}

class ModuleLoadJob : public Job {
 public:
  ModuleLoadJob(Napi::Env env, std::string path, c10::Device device, std::optional<c10::ScalarType> dtype,
                std::optional<std::vector<QuantizedWeight>> quantized)
      : Job(env, "videovae:moduleLoad", device), path_(std::move(path)), dtype_(dtype), quantized_(std::move(quantized)) {
    loaded_.device = device;
  }

 protected:
  void Run() override {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path_, ec)) {
      throw CodedError(code::kNotFound, "no TorchScript file at '" + path_ + "'");
    }
    torch::jit::Module module;
    try {
      module = torch::jit::load(path_, loaded_.device);
    } catch (...) {
      ErrorInfo cause = DescribeCurrentException();
      throw CodedError(code::kModule, "'" + path_ + "' is not a readable TorchScript archive: " + cause.message);
    }
    if (quantized_) FillQuantizedWeights(module, *quantized_, dtype_);
    quantized_.reset();
    if (dtype_) module.to(*dtype_);
    module.eval();  // inference only: dropout off, batch norm uses running stats
    PrepareConvWeights(module, loaded_.device);  // fast bundles on CUDA: channels-last-3d weights
    for (const auto& method : module.get_methods()) loaded_.methods.push_back(method.name());
    loaded_.module = std::make_shared<torch::jit::Module>(std::move(module));
  }

  Napi::Value Result(Napi::Env env) override { return WrapModule(env, std::move(loaded_)); }

 private:
  std::string path_;
  std::optional<c10::ScalarType> dtype_;
  std::optional<std::vector<QuantizedWeight>> quantized_;  // set: an int8-stored module
  LoadedModule loaded_;
};

Napi::Value ModuleLoad(const Napi::CallbackInfo& info) {
  return StartJob(info, [&]() -> Job* {
    if (!info[0].IsString()) throw CodedError(code::kArgument, "path must be a string");
    c10::Device device = ParseDevice(info[1].As<Napi::String>());
    if (info.Length() > 4 && info[4].IsObject()) {
      if ((info[2].IsString()) || info[3].IsArray()) {
        throw CodedError(code::kArgument, "an AOTInductor package runs in the dtype it was exported in: no dtype "
                                          "(its int8 weights go in the aoti options' quantized list)");
      }
      return new PackageLoadJob(info.Env(), info[0].As<Napi::String>(), ParseAotiOptions(info[4].As<Napi::Object>(), device));
    }
    std::optional<c10::ScalarType> dtype;
    if (info.Length() > 2 && info[2].IsString()) {
      dtype = ParseDtype(info[2].As<Napi::String>());
      if (!c10::isFloatingType(*dtype)) {
        throw CodedError(code::kDtype, "a module can only be converted to a floating dtype");
      }
    }
    std::optional<std::vector<QuantizedWeight>> quantized;
    if (info.Length() > 3 && info[3].IsArray()) quantized = ParseQuantized(info[3].As<Napi::Array>());
    return new ModuleLoadJob(info.Env(), info[0].As<Napi::String>(), device, dtype, std::move(quantized));
  });
}

}  // namespace

void RegisterModuleLoad(Napi::Env env, Napi::Object exports) {
  exports.Set("moduleLoad", Napi::Function::New(env, ModuleLoad, "moduleLoad"));
}

}  // namespace videovae
