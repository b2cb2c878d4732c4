// moduleCall(module, methodName, args[]) -> Promise<result>: runs one TorchScript method, or an
// AOTInductor package (flat tensors in, an array of tensors out).
#include <torch/csrc/jit/api/module.h>

#include "aoti_package.h"
#include "device.h"
#include "ivalue_convert.h"
#include "job.h"
#include "module.h"
#include "tensor.h"

namespace videovae {
namespace {

class PackageCallJob : public Job {
 public:
  PackageCallJob(Napi::Env env, const LoadedModule& loaded, std::vector<at::Tensor> inputs)
      : Job(env, "videovae:packageCall", loaded.device), package_(loaded.package), inputs_(std::move(inputs)) {}

 protected:
  void Run() override {
    outputs_ = package_->Run(inputs_);
    inputs_.clear();
    SynchronizeDevice(package_->device());
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Value out = FromIValue(env, c10::IValue(c10::List<at::Tensor>(outputs_)));
    outputs_.clear();
    return out;
  }

 private:
  std::shared_ptr<const AotiPackage> package_;
  std::vector<at::Tensor> inputs_;
  std::vector<at::Tensor> outputs_;
};

class ModuleCallJob : public Job {
 public:
  ModuleCallJob(Napi::Env env, const LoadedModule& loaded, std::string method, std::vector<c10::IValue> stack)
      : Job(env, "videovae:moduleCall", loaded.device),
        module_(loaded.module),
        sync_device_(loaded.device),
        method_(std::move(method)),
        stack_(std::move(stack)) {}

 protected:
  void Run() override {
    result_ = module_->get_method(method_)(std::move(stack_));
    stack_.clear();
    // Results are read on other threads and streams: make sure the kernels have finished.
    SynchronizeDevice(sync_device_);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Value out = FromIValue(env, result_);
    result_ = c10::IValue();
    return out;
  }

 private:
  std::shared_ptr<torch::jit::Module> module_;
  c10::Device sync_device_;
  std::string method_;
  std::vector<c10::IValue> stack_;
  c10::IValue result_;
};

// Converts the JS arguments against the method's schema (arity, types, device) before queueing.
std::vector<c10::IValue> BuildStack(const LoadedModule& loaded, const torch::jit::Method& method, Napi::Array args) {
  const auto& params = method.function().getSchema().arguments();  // params[0] is `self`
  size_t accepted = params.size() - 1;
  std::string signature = method.name() + "()";
  if (args.Length() > accepted) {
    throw CodedError(code::kArgument, signature + " takes " + std::to_string(accepted) + " argument(s), got " +
                                          std::to_string(args.Length()));
  }
  std::vector<c10::IValue> stack;
  for (size_t i = 0; i < accepted; ++i) {
    const auto& param = params[i + 1];
    if (i >= args.Length()) {
      if (!param.default_value()) {
        throw CodedError(code::kArgument, signature + " is missing argument '" + param.name() + "'");
      }
      break;  // the method fills in the remaining defaults
    }
    ArgumentContext context{loaded.device, "argument '" + param.name() + "' of " + signature};
    stack.push_back(ToIValue(args.Get(static_cast<uint32_t>(i)), param.type(), context));
  }
  return stack;
}

Napi::Value ModuleCall(const Napi::CallbackInfo& info) {
  return StartJob(info, [&]() -> Job* {
    const LoadedModule& loaded = UnwrapModule(info[0]);
    std::string name = info[1].As<Napi::String>();
    if (loaded.package) {
      if (name != "forward") throw CodedError(code::kModule, "an AOTInductor package has one method, forward, not '" + name + "'");
      if (!info[2].IsArray()) throw CodedError(code::kArgument, "arguments must be an array");
      Napi::Array args = info[2].As<Napi::Array>();
      std::vector<at::Tensor> inputs;
      for (uint32_t i = 0; i < args.Length(); ++i) {
        inputs.push_back(UnwrapTensor(args.Get(i), "argument " + std::to_string(i) + " of an AOTInductor package"));
      }
      if (loaded.package->numInputs() != 0 && inputs.size() != loaded.package->numInputs()) {
        throw CodedError(code::kArgument, "the package takes " + std::to_string(loaded.package->numInputs()) +
                                              " tensor(s), got " + std::to_string(inputs.size()));
      }
      return new PackageCallJob(info.Env(), loaded, std::move(inputs));
    }
    std::optional<torch::jit::Method> method = loaded.module->find_method(name);
    if (!method) throw CodedError(code::kModule, "the module has no method '" + name + "'");
    if (!info[2].IsArray()) throw CodedError(code::kArgument, "arguments must be an array");
    std::vector<c10::IValue> stack = BuildStack(loaded, *method, info[2].As<Napi::Array>());
    return new ModuleCallJob(info.Env(), loaded, std::move(name), std::move(stack));
  });
}

}  // namespace

void RegisterModuleCall(Napi::Env env, Napi::Object exports) {
  exports.Set("moduleCall", Napi::Function::New(env, ModuleCall, "moduleCall"));
}

}  // namespace videovae
