#include "channels_last.h"

#include <torch/script.h>

#include "errors.h"
#include "module.h"

namespace videovae {

bool DeclaresChannelsLast(const torch::jit::Module& module) {
  for (const auto& sub : module.modules()) {
    for (const char* flag : {"channels_last", "channels_last_in"}) {
      if (!sub.hasattr(flag)) continue;
      c10::IValue value = sub.attr(flag);
      if (value.isBool() && value.toBool()) return true;
    }
  }
  return false;
}

int64_t ConvWeightsToChannelsLast3d(torch::jit::Module& module) {
  int64_t converted = 0;
  for (const auto& p : module.named_parameters(true)) {
    at::Tensor param = p.value;
    if (param.dim() != 5 || !param.is_floating_point()) continue;
    if (param.is_contiguous(at::MemoryFormat::ChannelsLast3d)) continue;  // 1x1x1 kernels already are
    param.set_data(param.detach().contiguous(at::MemoryFormat::ChannelsLast3d));
    ++converted;
  }
  return converted;
}

void PrepareConvWeights(torch::jit::Module& module, const c10::Device& device) {
  if (device.is_cuda() && DeclaresChannelsLast(module)) ConvWeightsToChannelsLast3d(module);
}

namespace {

Napi::Array Ints(Napi::Env env, c10::IntArrayRef values) {
  Napi::Array out = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); ++i) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(values[i])));
  return out;
}

// With `convert`, converts a module's conv weights on whatever device it lives (the load path
// does so on CUDA only); reports every 5-D parameter's strides after, so that CPU tests can
// check both the load path (convert false) and the conversion.
// Synchronous on the JS thread: for tests on small modules that no job is running.
Napi::Value DebugModuleChannelsLast3d(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const LoadedModule& loaded = UnwrapModule(info[0]);
    torch::jit::Module& module = *loaded.module;
    c10::InferenceMode mode;  // as in the load job
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("declared", Napi::Boolean::New(env, DeclaresChannelsLast(module)));
    const bool convert = info.Length() > 1 && info[1].ToBoolean().Value();
    const int64_t converted = convert ? ConvWeightsToChannelsLast3d(module) : 0;
    out.Set("converted", Napi::Number::New(env, static_cast<double>(converted)));
    Napi::Array weights = Napi::Array::New(env);
    uint32_t n = 0;
    for (const auto& p : module.named_parameters(true)) {
      if (p.value.dim() != 5) continue;
      Napi::Object w = Napi::Object::New(env);
      w.Set("name", Napi::String::New(env, p.name));
      w.Set("sizes", Ints(env, p.value.sizes()));
      w.Set("strides", Ints(env, p.value.strides()));
      weights.Set(n++, w);
    }
    out.Set("weights", weights);
    return out;
  });
}

}  // namespace

void RegisterChannelsLast(Napi::Env env, Napi::Object exports) {
  exports.Set("debugModuleChannelsLast3d", Napi::Function::New(env, DebugModuleChannelsLast3d, "debugModuleChannelsLast3d"));
}

}  // namespace videovae
