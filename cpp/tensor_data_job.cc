// tensorData(handle) -> Promise<TypedArray>: a copy of the tensor's elements on the host.
#include <ATen/ops/empty.h>

#include <cstring>

#include "addon_state.h"
#include "device.h"
#include "dtype.h"
#include "job.h"
#include "tensor.h"
#include "tensor_jobs.h"
#include "transfers.h"

namespace videovae {
namespace {

// An ArrayBuffer over the tensor's own memory (no memcpy); its finalizer frees the tensor.
// Null where external buffers are refused (Electron: napi_no_external_buffers_allowed).
napi_value AdoptIntoArrayBuffer(napi_env env, const at::Tensor& tensor) {
  int64_t bytes = static_cast<int64_t>(tensor.nbytes());
  if (bytes == 0) return nullptr;
  auto* owner = new at::Tensor(tensor);
  auto release = [](napi_env env, void*, void* hint) {
    auto* owned = static_cast<at::Tensor*>(hint);
    int64_t size = static_cast<int64_t>(owned->nbytes());
    delete owned;
    int64_t ignored = 0;
    napi_adjust_external_memory(env, -size, &ignored);
  };
  napi_value buffer = nullptr;
  if (napi_create_external_arraybuffer(env, owner->data_ptr(), bytes, release, owner, &buffer) != napi_ok) {
    delete owner;
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    return nullptr;
  }
  int64_t ignored = 0;
  napi_adjust_external_memory(env, bytes, &ignored);  // GC pressure for memory V8 cannot see
  return buffer;
}

napi_value CopyIntoArrayBuffer(napi_env env, const at::Tensor& tensor) {
  Napi::ArrayBuffer copy = Napi::ArrayBuffer::New(env, tensor.nbytes());
  if (tensor.nbytes() > 0) std::memcpy(copy.Data(), tensor.data_ptr(), tensor.nbytes());
  return copy;
}

class TensorDataJob : public Job {
 public:
  TensorDataJob(Napi::Env env, at::Tensor source)
      : Job(env, "videovae:tensorData", source.device()),
        dtype_(source.scalar_type()),
        numel_(source.numel()),
        source_(std::move(source)) {}

 protected:
  void Run() override {
    auto host_options = source_.options().device(c10::kCPU);
    if (source_.is_cuda()) {
      // Device -> pinned staging (fast DMA), wait for it, then into pageable memory that JS can own.
      at::Tensor pinned = at::empty(source_.sizes(), host_options.pinned_memory(true));
      pinned.copy_(source_, /*non_blocking=*/true);
      SynchronizeDevice(source_.device());
      copy_ = at::empty(source_.sizes(), host_options);
      copy_.copy_(pinned);
    } else {
      copy_ = at::empty(source_.sizes(), host_options);  // contiguous, never aliases the source
      copy_.copy_(source_);
    }
    source_ = at::Tensor();
  }

  Napi::Value Result(Napi::Env env) override {
    CountTransfer(Transfer::kToHost, static_cast<int64_t>(copy_.nbytes()));
    napi_value buffer = StateOf(env).external_buffers ? AdoptIntoArrayBuffer(env, copy_) : nullptr;
    if (buffer == nullptr) buffer = CopyIntoArrayBuffer(env, copy_);
    copy_ = at::Tensor();
    napi_value array = nullptr;
    NAPI_THROW_IF_FAILED(env,
                         napi_create_typedarray(env, TypedArrayTypeFor(dtype_), static_cast<size_t>(numel_), buffer,
                                                0, &array),
                         Napi::Value());
    return Napi::Value(env, array);
  }

 private:
  c10::ScalarType dtype_;
  int64_t numel_;
  at::Tensor source_;
  at::Tensor copy_;
};

Napi::Value TensorData(const Napi::CallbackInfo& info) {
  return StartJob(info, [&]() -> Job* {
    at::Tensor tensor = UnwrapTensor(info[0], "tensor");
    TypedArrayTypeFor(tensor.scalar_type());  // throws ERR_DTYPE before queueing
    return new TensorDataJob(info.Env(), tensor);
  });
}

}  // namespace

void RegisterTensorData(Napi::Env env, Napi::Object exports) {
  exports.Set("tensorData", Napi::Function::New(env, TensorData, "tensorData"));
}

}  // namespace videovae
