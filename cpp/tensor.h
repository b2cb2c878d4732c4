// Tensor handles: a Node-API External owning one at::Tensor. JS sees an opaque value;
// dispose() drops the tensor early, the finalizer drops it when the handle is collected.
// Jobs copy the at::Tensor (a refcount) when they start, so disposing during a job is safe.
#pragma once

#include <ATen/core/Tensor.h>
#include <napi.h>

namespace videovae {

Napi::Value WrapTensor(Napi::Env env, at::Tensor tensor);

// The tensor behind a handle; throws ERR_ARGUMENT for non-handles, ERR_DISPOSED after dispose().
at::Tensor UnwrapTensor(const Napi::Value& value, const std::string& what);
bool IsTensorHandle(const Napi::Value& value);

void RegisterTensor(Napi::Env env, Napi::Object exports);

}  // namespace videovae
