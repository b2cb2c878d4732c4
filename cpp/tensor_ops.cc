// Native views and joins for the streaming engine (lib/engine), so latent chunks never make a
// round trip through JS memory:
//   tensorNarrow(handle, dim, start, length) -> handle   a view (no copy), synchronous
//   tensorCat(handles, dim) -> Promise<handle>           one new tensor, on a worker thread
#include <ATen/ops/cat.h>

#include <vector>

#include "device.h"
#include "errors.h"
#include "job.h"
#include "tensor.h"
#include "tensor_jobs.h"

namespace videovae {
namespace {

int64_t IntArg(const Napi::Value& value, const char* what) {
  double d = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 0) || d != static_cast<double>(static_cast<int64_t>(d))) {
    throw CodedError(code::kArgument, std::string(what) + " must be a non-negative integer");
  }
  return static_cast<int64_t>(d);
}

Napi::Value TensorNarrow(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    at::Tensor t = UnwrapTensor(info[0], "tensor");
    const int64_t dim = IntArg(info[1], "dim"), start = IntArg(info[2], "start"), length = IntArg(info[3], "length");
    if (dim >= t.dim() || start + length > t.size(dim)) {
      throw CodedError(code::kShape, "narrow(" + std::to_string(dim) + ", " + std::to_string(start) + ", " +
                                         std::to_string(length) + ") is outside the tensor");
    }
    return WrapTensor(info.Env(), t.narrow(dim, start, length));
  });
}

class TensorCatJob : public Job {
 public:
  TensorCatJob(Napi::Env env, std::vector<at::Tensor> parts, int64_t dim)
      : Job(env, "videovae:tensorCat", parts.front().device()), parts_(std::move(parts)), dim_(dim) {}

 protected:
  void Run() override {
    result_ = at::cat(parts_, dim_);
    SynchronizeDevice(result_.device());
    parts_.clear();
  }

  Napi::Value Result(Napi::Env env) override { return WrapTensor(env, std::move(result_)); }

 private:
  std::vector<at::Tensor> parts_;
  int64_t dim_;
  at::Tensor result_;
};

Napi::Value TensorCat(const Napi::CallbackInfo& info) {
  return StartJob(info, [&]() -> Job* {
    if (!info[0].IsArray() || info[0].As<Napi::Array>().Length() == 0) {
      throw CodedError(code::kArgument, "tensorCat needs a non-empty array of tensors");
    }
    Napi::Array array = info[0].As<Napi::Array>();
    std::vector<at::Tensor> parts;
    for (uint32_t i = 0; i < array.Length(); ++i) parts.push_back(UnwrapTensor(array.Get(i), "tensor"));
    const int64_t dim = IntArg(info[1], "dim");
    for (const auto& p : parts) {
      if (p.dim() != parts.front().dim() || dim >= p.dim() || p.device() != parts.front().device() ||
          p.scalar_type() != parts.front().scalar_type()) {
        throw CodedError(code::kShape, "tensorCat needs tensors of one rank, dtype and device");
      }
      for (int64_t d = 0; d < p.dim(); ++d) {
        if (d != dim && p.size(d) != parts.front().size(d)) {
          throw CodedError(code::kShape, "tensorCat: sizes differ outside dim " + std::to_string(dim));
        }
      }
    }
    return new TensorCatJob(info.Env(), std::move(parts), dim);
  });
}

}  // namespace

void RegisterTensorOps(Napi::Env env, Napi::Object exports) {
  exports.Set("tensorNarrow", Napi::Function::New(env, TensorNarrow, "tensorNarrow"));
  exports.Set("tensorCat", Napi::Function::New(env, TensorCat, "tensorCat"));
}

}  // namespace videovae
