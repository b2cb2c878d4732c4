// What the addon was compiled against, what libtorch it actually runs on, and the
// intra-op thread setting. The loader in lib/ compares the first two.
#pragma once

#include <napi.h>

namespace videovae {

void RegisterRuntimeInfo(Napi::Env env, Napi::Object exports);

}  // namespace videovae
