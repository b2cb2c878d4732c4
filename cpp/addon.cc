// Entry point of the native addon: registers every concept's functions on `exports`.
// lib/native.ts is the typed contract of what ends up here.
#include <napi.h>

#include "addon_state.h"
#include "channels_last.h"
#include "device.h"
#include "host_allocator.h"
#include "memory.h"
#include "module.h"
#include "runtime_info.h"
#include "tensor.h"
#include "tensor_jobs.h"
#include "text/text_jobs.h"
#include "text/tokenizer_handle.h"
#include "vae_jobs.h"
#include "job_control.h"
#include "warnings.h"

namespace videovae {
namespace {

Napi::Value SetExternalBuffers(const Napi::CallbackInfo& info) {
  // Test switch: exercise the copy path that Electron (no external buffers) takes.
  StateOf(info.Env()).external_buffers = info[0].ToBoolean().Value();
  return info.Env().Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallWarningHandler();
  InitAddonState(env);
  InstallHostAllocator();
  RegisterRuntimeInfo(env, exports);
  RegisterDevice(env, exports);
  RegisterMemory(env, exports);
  RegisterTensor(env, exports);
  RegisterTensorData(env, exports);
  RegisterTensorTo(env, exports);
  RegisterTensorOps(env, exports);
  RegisterModule(env, exports);
  RegisterModuleLoad(env, exports);
  RegisterChannelsLast(env, exports);
  RegisterModuleCall(env, exports);
  RegisterJobControl(env, exports);
  RegisterVaeEncode(env, exports);
  RegisterVaeDecode(env, exports);
  RegisterVaeReconstruct(env, exports);
  RegisterTokenizer(env, exports);
  RegisterTextEmbed(env, exports);
  exports.Set("setExternalBuffers", Napi::Function::New(env, SetExternalBuffers, "setExternalBuffers"));
  return exports;
}

}  // namespace videovae

// NODE_API_MODULE pastes the name into an identifier: it needs an unqualified function.
static Napi::Object InitVideovae(Napi::Env env, Napi::Object exports) { return videovae::Init(env, exports); }

NODE_API_MODULE(videovae, InitVideovae)
