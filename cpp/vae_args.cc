#include "vae_args.h"

#include <torch/csrc/jit/api/module.h>

#include "device.h"
#include "errors.h"
#include "module.h"
#include "tensor.h"

#include <vector>

namespace videovae {

StagesOnDevice UnwrapStages(const Napi::Value& value) {
  uint32_t count = value.IsArray() ? value.As<Napi::Array>().Length() : 0;
  if (count != 4 && count != 6) {
    throw CodedError(code::kArgument, "expected the four stage modules of a bundle (and two image-path packages)");
  }
  auto array = value.As<Napi::Array>();
  std::vector<const LoadedModule*> loaded;
  for (uint32_t i = 0; i < count; ++i) {
    Napi::Value item = array.Get(i);
    // The image-path packages (items 4 and 5) may be null: the bundle then has no image path.
    loaded.push_back(i >= 4 && (item.IsNull() || item.IsUndefined()) ? nullptr : &UnwrapModule(item));
  }
  bool aoti = loaded[0]->package != nullptr;
  for (const LoadedModule* m : loaded) {
    if (m == nullptr) continue;
    if (m->device != loaded[0]->device) {
      throw CodedError(code::kDevice, "the stage modules of a bundle must live on one device");
    }
    if ((m->package != nullptr) != aoti) {
      throw CodedError(code::kArgument, "the stage modules of a bundle must all be TorchScript or all AOTInductor packages");
    }
  }
  if (!aoti) {
    if (count != 4) throw CodedError(code::kArgument, "image-path packages are for AOTInductor stages only");
    return {{scriptStage(loaded[0]->module), scriptStage(loaded[1]->module), scriptStage(loaded[2]->module),
             scriptStage(loaded[3]->module)},
            loaded[0]->device};
  }
  auto image = [&](uint32_t i) { return i < count && loaded[i] ? loaded[i]->package : nullptr; };
  return {{aotiStage(loaded[0]->package, image(4)), aotiStage(loaded[1]->package, nullptr),
           aotiStage(loaded[2]->package, nullptr), aotiStage(loaded[3]->package, image(5))},
          loaded[0]->device};
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
