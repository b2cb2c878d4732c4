// Live-object counters (tfjs-node style) and the memory() report.
#pragma once

#include <napi.h>

#include <cstdint>

namespace videovae {

// Called when a tensor handle starts or stops owning a tensor.
void CountTensorHandle(int64_t host_bytes, int sign);
void CountModuleHandle(int sign);

void RegisterMemory(Napi::Env env, Napi::Object exports);

}  // namespace videovae
