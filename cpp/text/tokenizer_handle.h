// JS handles of caption tokenizers (an External owning a shared CaptionTokenizer) and the
// synchronous tokenizer functions. Tokenizing is pure CPU work of microseconds per caption,
// so it runs on the JS thread; captions inside encode/decode are tokenized in the job.
#pragma once

#include <napi.h>

#include <memory>

#include "tokenizer.h"

namespace videovae {

// Throws ERR_ARGUMENT for non-handles.
std::shared_ptr<const CaptionTokenizer> UnwrapTokenizer(const Napi::Value& value);

// string[] -> UTF-8 strings; non-strings are an ERR_TEXT naming the item.
std::vector<std::string> UnwrapCaptions(const Napi::Value& value);

void RegisterTokenizer(Napi::Env env, Napi::Object exports);  // tokenizerLoad, tokenizerInfo, tokenize

}  // namespace videovae
