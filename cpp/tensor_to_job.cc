// tensorTo(handle, device | null, dtype | null) -> Promise<handle>: a converted copy.
#include "device.h"
#include "dtype.h"
#include "job.h"
#include "tensor.h"
#include "tensor_jobs.h"
#include "transfers.h"

namespace videovae {
namespace {

class TensorToJob : public Job {
 public:
  TensorToJob(Napi::Env env, at::Tensor source, c10::Device device, c10::ScalarType dtype)
      : Job(env, "videovae:tensorTo", device.is_cuda() ? device : source.device()),
        source_(std::move(source)),
        target_(device),
        dtype_(dtype) {}

 protected:
  void Run() override {
    at::Tensor from = source_;
    if (from.is_cpu() && target_.is_cuda()) {
      // Upload from pinned memory; wait so the result is complete when the promise resolves.
      from = from.pin_memory();
      result_ = from.to(target_, dtype_, /*non_blocking=*/true, /*copy=*/true);
      SynchronizeDevice(target_);
    } else {
      result_ = from.to(target_, dtype_, /*non_blocking=*/false, /*copy=*/true);
      if (source_.is_cuda()) SynchronizeDevice(source_.device());
    }
    // Only copies between the host and a CUDA device cross: CPU -> CPU stays native.
    if (source_.is_cpu() != result_.is_cpu()) {
      CountTransfer(result_.is_cpu() ? Transfer::kToHost : Transfer::kToNative, static_cast<int64_t>(result_.nbytes()));
    }
    source_ = at::Tensor();
  }

  Napi::Value Result(Napi::Env env) override { return WrapTensor(env, std::move(result_)); }

 private:
  at::Tensor source_;
  c10::Device target_;
  c10::ScalarType dtype_;
  at::Tensor result_;
};

Napi::Value TensorTo(const Napi::CallbackInfo& info) {
  return StartJob(info, [&]() -> Job* {
    at::Tensor tensor = UnwrapTensor(info[0], "tensor");
    c10::Device device = info[1].IsString() ? ParseDevice(info[1].As<Napi::String>()) : tensor.device();
    c10::ScalarType dtype = info[2].IsString() ? ParseDtype(info[2].As<Napi::String>()) : tensor.scalar_type();
    return new TensorToJob(info.Env(), tensor, device, dtype);
  });
}

}  // namespace

void RegisterTensorTo(Napi::Env env, Napi::Object exports) {
  exports.Set("tensorTo", Napi::Function::New(env, TensorTo, "tensorTo"));
}

}  // namespace videovae
