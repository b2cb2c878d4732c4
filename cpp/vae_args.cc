#include "vae_args.h"

#include <torch/csrc/jit/api/module.h>

#include "device.h"
#include "errors.h"
#include "module.h"
#include "tensor.h"

namespace videovae {

StagesOnDevice UnwrapStages(const Napi::Value& value) {
  if (!value.IsArray() || value.As<Napi::Array>().Length() != 4) {
    throw CodedError(code::kArgument, "expected the four stage modules of a bundle");
  }
  auto array = value.As<Napi::Array>();
  const LoadedModule* loaded[4];
  for (uint32_t i = 0; i < 4; ++i) loaded[i] = &UnwrapModule(array.Get(i));
  for (uint32_t i = 1; i < 4; ++i) {
    if (loaded[i]->device != loaded[0]->device) {
      throw CodedError(code::kDevice, "the stage modules of a bundle must live on one device");
    }
  }
  return {{loaded[0]->module, loaded[1]->module, loaded[2]->module, loaded[3]->module}, loaded[0]->device};
}

TextInputs UnwrapText(const Napi::Value& value) {
  TextInputs text;
  if (value.IsUndefined() || value.IsNull()) return text;
  if (!value.IsObject()) throw CodedError(code::kArgument, "text must be an object or null");
  auto obj = value.As<Napi::Object>();
  Napi::Value emb = obj.Get("embedding"), mask = obj.Get("mask");
  if (!emb.IsUndefined() && !emb.IsNull()) text.embedding = UnwrapTensor(emb, "text embedding");
  if (!mask.IsUndefined() && !mask.IsNull()) text.mask = UnwrapTensor(mask, "text mask");
  return text;
}

int64_t GetInt(const Napi::Object& options, const char* key, int64_t fallback) {
  Napi::Value v = options.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) throw CodedError(code::kArgument, std::string(key) + " must be a number");
  return v.As<Napi::Number>().Int64Value();
}

bool GetBool(const Napi::Object& options, const char* key, bool fallback) {
  Napi::Value v = options.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  return v.ToBoolean().Value();
}

TileOptions ParseTile(const Napi::Object& options) {
  return {GetInt(options, "tileSize", 0), GetInt(options, "tileOverlap", 0)};
}

Compression ParseCompression(const Napi::Object& options) {
  return {GetInt(options, "compressionT", 0), GetInt(options, "compressionH", 0), GetInt(options, "compressionW", 0)};
}

TextInputs TextOnDevice(const TextInputs& text, const c10::Device& device) {
  TextInputs out;
  if (text.embedding) out.embedding = text.embedding->to(device);
  if (text.mask) out.mask = text.mask->to(device);
  return out;
}

}  // namespace videovae
