// Entry points of the per-tensor jobs (one file each).
#pragma once

#include <napi.h>

namespace videovae {

void RegisterTensorData(Napi::Env env, Napi::Object exports);  // tensorData
void RegisterTensorTo(Napi::Env env, Napi::Object exports);    // tensorTo
void RegisterTensorOps(Napi::Env env, Napi::Object exports);   // tensorNarrow, tensorCat (tensor_ops.cc)

}  // namespace videovae
