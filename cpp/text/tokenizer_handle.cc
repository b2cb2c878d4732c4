#include "tokenizer_handle.h"

#include "../errors.h"

namespace videovae {
namespace {

constexpr napi_type_tag kTokenizerTag = {0x7669646576616531ULL, 0x746f6b656e000001ULL};

using TokenizerBox = std::shared_ptr<const CaptionTokenizer>;

int64_t OptionInt(const Napi::Object& options, const char* key, int64_t fallback) {
  Napi::Value v = options.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) throw CodedError(code::kArgument, std::string(key) + " must be a number");
  return v.As<Napi::Number>().Int64Value();
}

// tokenizerLoad(path, { extraIds, padId, eosId }) -> handle
Napi::Value Load(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    if (!info[0].IsString()) throw CodedError(code::kArgument, "tokenizer path must be a string");
    auto options = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(info.Env());
    TokenizerSpec spec{OptionInt(options, "extraIds", 100), OptionInt(options, "padId", 0), OptionInt(options, "eosId", 1)};
    auto* box = new TokenizerBox(std::make_shared<CaptionTokenizer>(info[0].As<Napi::String>().Utf8Value(), spec));
    auto handle = Napi::External<TokenizerBox>::New(info.Env(), box, [](Napi::Env, TokenizerBox* b) { delete b; });
    handle.TypeTag(&kTokenizerTag);
    return handle;
  });
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto tokenizer = UnwrapTokenizer(info[0]);
    auto out = Napi::Object::New(info.Env());
    out.Set("pieces", Napi::Number::New(info.Env(), double(tokenizer->Pieces())));
    out.Set("vocabSize", Napi::Number::New(info.Env(), double(tokenizer->VocabSize())));
    return out;
  });
}

// tokenize(handle, captions[], maxLength) -> { ids: Int32Array [N * maxLength], lengths, fullLengths }
Napi::Value Tokenize(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    auto tokenizer = UnwrapTokenizer(info[0]);
    auto captions = UnwrapCaptions(info[1]);
    if (!info[2].IsNumber()) throw CodedError(code::kArgument, "maxLength must be a number");
    const int64_t max_length = info[2].As<Napi::Number>().Int64Value();
    auto ids = Napi::Int32Array::New(env, captions.size() * static_cast<size_t>(std::max<int64_t>(max_length, 0)));
    auto lengths = Napi::Array::New(env, captions.size());
    auto full = Napi::Array::New(env, captions.size());
    for (size_t i = 0; i < captions.size(); ++i) {
      TokenizedCaption t = tokenizer->Encode(captions[i], max_length);
      std::copy(t.ids.begin(), t.ids.end(), ids.Data() + i * t.ids.size());
      lengths.Set(uint32_t(i), Napi::Number::New(env, double(t.length)));
      full.Set(uint32_t(i), Napi::Number::New(env, double(t.fullLength)));
    }
    auto out = Napi::Object::New(env);
    out.Set("ids", ids);
    out.Set("lengths", lengths);
    out.Set("fullLengths", full);
    return out;
  });
}

}  // namespace

std::shared_ptr<const CaptionTokenizer> UnwrapTokenizer(const Napi::Value& value) {
  if (!value.IsExternal() || !value.As<Napi::External<TokenizerBox>>().CheckTypeTag(&kTokenizerTag)) {
    throw CodedError(code::kArgument, "not a tokenizer handle");
  }
  return *value.As<Napi::External<TokenizerBox>>().Data();
}

std::vector<std::string> UnwrapCaptions(const Napi::Value& value) {
  if (!value.IsArray()) throw CodedError("ERR_TEXT", "captions must be an array of strings");
  auto array = value.As<Napi::Array>();
  std::vector<std::string> out;
  out.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsString()) throw CodedError("ERR_TEXT", "caption " + std::to_string(i) + " is not a string");
    out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return out;
}

void RegisterTokenizer(Napi::Env env, Napi::Object exports) {
  exports.Set("tokenizerLoad", Napi::Function::New(env, Load, "tokenizerLoad"));
  exports.Set("tokenizerInfo", Napi::Function::New(env, Info, "tokenizerInfo"));
  exports.Set("tokenize", Napi::Function::New(env, Tokenize, "tokenize"));
}

}  // namespace videovae
