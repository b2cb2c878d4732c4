// Registration of the caption functions (tokenizer handles live in tokenizer_handle.h).
#pragma once

#include <napi.h>

namespace videovae {

void RegisterTextEmbed(Napi::Env env, Napi::Object exports);  // textEmbed (text_embed_job.cc)

}  // namespace videovae
