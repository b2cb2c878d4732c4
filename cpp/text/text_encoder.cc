#include "text_encoder.h"

#include "../errors.h"
#include "../module.h"
#include "tokenizer_handle.h"

namespace videovae {

CaptionRequest MakeCaptionRequest(const Napi::Value& tokenizer, const Napi::Value& t5,
                                  const Napi::Value& captions, const Napi::Value& max_length) {
  CaptionRequest request;
  request.tokenizer = UnwrapTokenizer(tokenizer);
  const LoadedModule& loaded = UnwrapModule(t5);
  if (!loaded.module) throw CodedError(code::kArgument, "the T5 encoder must be a TorchScript module");
  request.t5 = loaded.module;
  request.t5Device = loaded.device;
  request.captions = UnwrapCaptions(captions);
  if (request.captions.empty()) throw CodedError("ERR_TEXT", "no captions given");
  if (!max_length.IsNumber()) throw CodedError(code::kArgument, "maxLength must be a number");
  request.maxLength = max_length.As<Napi::Number>().Int64Value();
  if (request.maxLength < 1) throw CodedError(code::kArgument, "maxLength must be at least 1");
  return request;
}

std::optional<CaptionRequest> UnwrapCaptionRequest(const Napi::Value& text) {
  if (!text.IsObject()) return std::nullopt;
  auto obj = text.As<Napi::Object>();
  if (!obj.Has("captions")) return std::nullopt;
  return MakeCaptionRequest(obj.Get("tokenizer"), obj.Get("t5"), obj.Get("captions"), obj.Get("maxLength"));
}

CaptionEmbedding EmbedCaptions(const CaptionRequest& request, const c10::Device& device) {
  const auto n = static_cast<int64_t>(request.captions.size());
  const int64_t length = request.maxLength;
  auto ids = torch::empty({n, length}, torch::kLong);
  auto mask = torch::zeros({n, length}, torch::kLong);
  CaptionEmbedding out;
  auto* id_data = ids.data_ptr<int64_t>();
  auto* mask_data = mask.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    TokenizedCaption t = request.tokenizer->Encode(request.captions[i], length);
    std::copy(t.ids.begin(), t.ids.end(), id_data + i * length);
    std::fill(mask_data + i * length, mask_data + i * length + t.length, 1);
    out.fullLengths.push_back(t.fullLength);
  }
  auto embedding = request.t5->forward({ids.to(request.t5Device), mask.to(request.t5Device)}).toTensor();
  out.text.embedding = embedding.to(device, torch::kFloat);
  out.text.mask = mask.to(device, torch::kFloat);
  return out;
}

}  // namespace videovae
