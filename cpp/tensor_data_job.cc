// tensorData(handle) -> Promise<TypedArray>: a copy of the tensor's elements on the host.
#include <ATen/ops/empty.h>

#include <cstring>

#include "addon_state.h"
#include "device.h"
#include "dtype.h"
#include "job.h"
#include "tensor.h"
#include "tensor_jobs.h"

namespace videovae {
namespace {

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
    size_t bytes = copy_.nbytes();
    napi_value buffer = nullptr;
    if (StateOf(env).external_buffers && bytes > 0) {
      // Hand the copy over without another memcpy; the finalizer frees the tensor.
      auto* owner = new at::Tensor(copy_);
      napi_status status = napi_create_external_arraybuffer(
          env, copy_.data_ptr(), bytes,
          [](napi_env env, void*, void* hint) {
            auto* tensor = static_cast<at::Tensor*>(hint);
            int64_t size = static_cast<int64_t>(tensor->nbytes());
            delete tensor;
            int64_t ignored = 0;
            napi_adjust_external_memory(env, -size, &ignored);
          },
          owner, &buffer);
      if (status == napi_ok) {
        Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(bytes));
      } else {
        delete owner;  // e.g. napi_no_external_buffers_allowed (Electron): copy below
        buffer = nullptr;
        if (env.IsExceptionPending()) env.GetAndClearPendingException();
      }
    }
    if (buffer == nullptr) {
      Napi::ArrayBuffer copy = Napi::ArrayBuffer::New(env, bytes);
      if (bytes > 0) std::memcpy(copy.Data(), copy_.data_ptr(), bytes);
      buffer = copy;
    }
    copy_ = at::Tensor();
    napi_value array = nullptr;
    NAPI_THROW_IF_FAILED(env,
                         napi_create_typedarray(env, TypedArrayTypeFor(dtype_), static_cast<size_t>(numel_),
                                                buffer, 0, &array),
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
