// Captions to T5 embeddings on a worker thread: the tokenizer, then the bundle's scripted T5
// encoder. Used by textEmbed and by encode/decode jobs given captions (one job does all).
#pragma once

#include <napi.h>

#include <optional>
#include <string>
#include <vector>

#include "../pipeline/stages.h"
#include "tokenizer.h"

namespace videovae {

struct CaptionRequest {
  std::shared_ptr<const CaptionTokenizer> tokenizer;
  ModulePtr t5;
  c10::Device t5Device{c10::kCPU};
  std::vector<std::string> captions;  // already cleaned (lib/text)
  int64_t maxLength = 100;
};

// JS thread: { captions: string[], tokenizer, t5, maxLength } (the `text` argument of the
// VAE jobs); nullopt when there are no captions in it.
std::optional<CaptionRequest> UnwrapCaptionRequest(const Napi::Value& text);
CaptionRequest MakeCaptionRequest(const Napi::Value& tokenizer, const Napi::Value& t5,
                                  const Napi::Value& captions, const Napi::Value& max_length);

struct CaptionEmbedding {
  TextInputs text;                   // embedding [N, L, d] float32, mask [N, L] float32 0/1
  std::vector<int64_t> fullLengths;  // tokens before truncation, </s> included
};

// Worker thread: tokenizes, runs T5 and moves the result to `device`.
CaptionEmbedding EmbedCaptions(const CaptionRequest& request, const c10::Device& device);

}  // namespace videovae
