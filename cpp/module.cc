#include "module.h"

#include "device.h"
#include "errors.h"
#include "memory.h"

namespace videovae {
namespace {

constexpr napi_type_tag kModuleTag = {0x7669646576616531ULL, 0x6d6f64756c650001ULL};

struct ModuleBox {
  LoadedModule loaded;
  bool live = true;
};

void Release(ModuleBox* box) {
  if (!box->live) return;
  box->live = false;
  box->loaded = LoadedModule();
  CountModuleHandle(-1);
}

ModuleBox* BoxOf(const Napi::Value& value) {
  if (!value.IsExternal() || !value.As<Napi::External<ModuleBox>>().CheckTypeTag(&kModuleTag)) {
    throw CodedError(code::kArgument, "not a module handle");
  }
  return value.As<Napi::External<ModuleBox>>().Data();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const LoadedModule& loaded = UnwrapModule(info[0]);
    Napi::Array methods = Napi::Array::New(env, loaded.methods.size());
    for (size_t i = 0; i < loaded.methods.size(); ++i) methods.Set(static_cast<uint32_t>(i), loaded.methods[i]);
    Napi::Object out = Napi::Object::New(env);
    out.Set("device", DeviceName(loaded.device));
    out.Set("methods", methods);
    out.Set("engine", loaded.package ? "aoti" : "torchscript");
    return out;
  });
}

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    ModuleBox* box = BoxOf(info[0]);
    bool was_live = box->live;
    Release(box);
    return Napi::Boolean::New(info.Env(), was_live);
  });
}

}  // namespace

Napi::Value WrapModule(Napi::Env env, LoadedModule loaded) {
  auto* box = new ModuleBox{std::move(loaded)};
  auto handle = Napi::External<ModuleBox>::New(env, box, [](Napi::Env, ModuleBox* box) {
    Release(box);
    delete box;
  });
  handle.TypeTag(&kModuleTag);
  CountModuleHandle(+1);
  return handle;
}

const LoadedModule& UnwrapModule(const Napi::Value& value) {
  ModuleBox* box = BoxOf(value);
  if (!box->live) throw CodedError(code::kDisposed, "module was disposed");
  return box->loaded;
}

void RegisterModule(Napi::Env env, Napi::Object exports) {
  exports.Set("moduleInfo", Napi::Function::New(env, Info, "moduleInfo"));
  exports.Set("moduleDispose", Napi::Function::New(env, Dispose, "moduleDispose"));
}

}  // namespace videovae
