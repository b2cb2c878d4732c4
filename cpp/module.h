// Module handles: an External owning a shared torch::jit::Module (TorchScript) or a shared
// AOTInductor package (.pt2). Calls copy the shared_ptr when they start, so dispose() while a
// call runs frees the module afterwards.
#pragma once

#include <c10/core/Device.h>
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

namespace torch::jit {
struct Module;
}

namespace videovae {

class AotiPackage;

struct LoadedModule {
  std::shared_ptr<torch::jit::Module> module;  // TorchScript, or
  std::shared_ptr<const AotiPackage> package;  // an AOTInductor package (one method: forward)
  c10::Device device{c10::kCPU};
  std::vector<std::string> methods;
};

Napi::Value WrapModule(Napi::Env env, LoadedModule loaded);
// Throws ERR_ARGUMENT for non-handles, ERR_DISPOSED after dispose().
const LoadedModule& UnwrapModule(const Napi::Value& value);

void RegisterModule(Napi::Env env, Napi::Object exports);      // moduleInfo, moduleDispose
void RegisterModuleLoad(Napi::Env env, Napi::Object exports);  // moduleLoad (module_load_job.cc)
void RegisterModuleCall(Napi::Env env, Napi::Object exports);  // moduleCall (module_call_job.cc)

}  // namespace videovae
