// moduleLoad(path, device, dtype?) -> Promise<module handle>: reads a TorchScript archive onto a
// device, optionally converting its floating parameters and buffers to `dtype`.
#include <torch/csrc/jit/serialization/import.h>

#include <filesystem>

#include "device.h"
#include "dtype.h"
#include "job.h"
#include "module.h"

namespace videovae {
namespace {

class ModuleLoadJob : public Job {
 public:
  ModuleLoadJob(Napi::Env env, std::string path, c10::Device device, std::optional<c10::ScalarType> dtype)
      : Job(env, "videovae:moduleLoad", device), path_(std::move(path)), dtype_(dtype) {
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
    if (dtype_) module.to(*dtype_);
    module.eval();  // inference only: dropout off, batch norm uses running stats
    for (const auto& method : module.get_methods()) loaded_.methods.push_back(method.name());
    loaded_.module = std::make_shared<torch::jit::Module>(std::move(module));
  }

  Napi::Value Result(Napi::Env env) override { return WrapModule(env, std::move(loaded_)); }

 private:
  std::string path_;
  std::optional<c10::ScalarType> dtype_;
  LoadedModule loaded_;
};

Napi::Value ModuleLoad(const Napi::CallbackInfo& info) {
  return StartJob(info, [&]() -> Job* {
    if (!info[0].IsString()) throw CodedError(code::kArgument, "path must be a string");
    c10::Device device = ParseDevice(info[1].As<Napi::String>());
    std::optional<c10::ScalarType> dtype;
    if (info.Length() > 2 && info[2].IsString()) {
      dtype = ParseDtype(info[2].As<Napi::String>());
      if (!c10::isFloatingType(*dtype)) {
        throw CodedError(code::kDtype, "a module can only be converted to a floating dtype");
      }
    }
    return new ModuleLoadJob(info.Env(), info[0].As<Napi::String>(), device, dtype);
  });
}

}  // namespace

void RegisterModuleLoad(Napi::Env env, Napi::Object exports) {
  exports.Set("moduleLoad", Napi::Function::New(env, ModuleLoad, "moduleLoad"));
}

}  // namespace videovae
