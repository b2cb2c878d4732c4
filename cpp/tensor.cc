#include "tensor.h"

#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>

#include <cstring>

#include "addon_state.h"
#include "buffer_leases.h"
#include "device.h"
#include "dtype.h"
#include "errors.h"
#include "memory.h"
#include "transfers.h"

namespace videovae {
namespace {

constexpr napi_type_tag kTensorTag = {0x7669646576616531ULL, 0x74656e736f720001ULL};

struct TensorBox {
  at::Tensor tensor;
  int64_t host_bytes = 0;      // counted in memory().hostBytes
  int64_t external_bytes = 0;  // reported to V8 so large tensors create GC pressure
  bool live = true;
};

int64_t HostBytes(const at::Tensor& t) { return t.defined() && t.is_cpu() ? static_cast<int64_t>(t.nbytes()) : 0; }

// Also runs from the GC finalizer: must not throw.
void Release(napi_env env, TensorBox* box) noexcept {
  if (!box->live) return;
  box->live = false;
  CountTensorHandle(box->host_bytes, -1);
  int64_t ignored = 0;
  if (box->external_bytes != 0) napi_adjust_external_memory(env, -box->external_bytes, &ignored);
  box->tensor = at::Tensor();
}

TensorBox* BoxOf(const Napi::Value& value, const std::string& what) {
  if (!IsTensorHandle(value)) throw CodedError(code::kArgument, what + " is not a tensor handle");
  return value.As<Napi::External<TensorBox>>().Data();
}

Napi::Value MakeHandle(Napi::Env env, at::Tensor tensor, bool js_backed) {
  auto* box = new TensorBox();
  box->host_bytes = HostBytes(tensor);
  box->external_bytes = js_backed ? 0 : box->host_bytes;
  box->tensor = std::move(tensor);
  auto handle = Napi::External<TensorBox>::New(env, box, [](Napi::Env env, TensorBox* box) {
    Release(env, box);
    delete box;
  });
  handle.TypeTag(&kTensorTag);
  CountTensorHandle(box->host_bytes, +1);
  if (box->external_bytes != 0) Napi::MemoryManagement::AdjustExternalMemory(env, box->external_bytes);
  return handle;
}

std::vector<int64_t> ParseShape(const Napi::Value& value) {
  if (!value.IsArray()) throw CodedError(code::kShape, "shape must be an array of non-negative integers");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<int64_t> shape;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value dim = array.Get(i);
    double d = dim.IsNumber() ? dim.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0) || d != static_cast<double>(static_cast<int64_t>(d))) {
      throw CodedError(code::kShape, "shape must be an array of non-negative integers");
    }
    shape.push_back(static_cast<int64_t>(d));
  }
  return shape;
}

// tensorFromTypedArray(data, shape, dtype, device, copy): zero-copy on CPU unless `copy`;
// CUDA tensors are staged through pinned memory and uploaded asynchronously on the stream.
Napi::Value FromTypedArray(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray()) throw CodedError(code::kArgument, "data must be a typed array");
    auto array = info[0].As<Napi::TypedArray>();
    std::vector<int64_t> shape = ParseShape(info[1]);
    c10::ScalarType dtype = ParseDtype(info[2].As<Napi::String>().Utf8Value());
    c10::Device device = ParseDevice(info[3].As<Napi::String>().Utf8Value());
    bool copy = info[4].ToBoolean().Value() || device.is_cuda();

    if (!TypedArrayCarries(array.TypedArrayType(), dtype)) {
      throw CodedError(code::kDtype, std::string("dtype ") + DtypeName(dtype) + " cannot be read from this typed array");
    }
    int64_t numel = 1;
    for (int64_t d : shape) numel *= d;
    if (static_cast<size_t>(numel) != array.ElementLength()) {
      throw CodedError(code::kShape, "shape holds " + std::to_string(numel) + " elements but the array has " +
                                         std::to_string(array.ElementLength()));
    }
    auto options = at::TensorOptions().dtype(dtype);
    CountTransfer(Transfer::kToNative, static_cast<int64_t>(array.ByteLength()));
    void* data = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();

    if (!copy && numel > 0) {
      auto deleter = StateOf(env).leases->Hold(array.ArrayBuffer());
      return MakeHandle(env, at::from_blob(data, shape, deleter, options), true);
    }
    at::Tensor host = at::empty(shape, options.pinned_memory(device.is_cuda()));
    if (numel > 0) std::memcpy(host.data_ptr(), data, array.ByteLength());
    if (device.is_cpu()) return MakeHandle(env, host, false);
    // The caching host allocator keeps the pinned block until the async copy has finished.
    return MakeHandle(env, host.to(device, /*non_blocking=*/true), false);
  });
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    at::Tensor t = UnwrapTensor(info[0], "tensor");
    Napi::Array shape = Napi::Array::New(env, t.dim());
    for (int64_t i = 0; i < t.dim(); ++i) shape.Set(static_cast<uint32_t>(i), static_cast<double>(t.size(i)));
    Napi::Object out = Napi::Object::New(env);
    out.Set("shape", shape);
    out.Set("dtype", DtypeName(t.scalar_type()));
    out.Set("device", DeviceName(t.device()));
    return out;
  });
}

// Idempotent: returns whether this call released the tensor.
Napi::Value Dispose(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    TensorBox* box = BoxOf(info[0], "tensor");
    bool was_live = box->live;
    Release(info.Env(), box);
    return Napi::Boolean::New(info.Env(), was_live);
  });
}

}  // namespace

Napi::Value WrapTensor(Napi::Env env, at::Tensor tensor) { return MakeHandle(env, std::move(tensor), false); }

bool IsTensorHandle(const Napi::Value& value) {
  return value.IsExternal() && value.As<Napi::External<TensorBox>>().CheckTypeTag(&kTensorTag);
}

at::Tensor UnwrapTensor(const Napi::Value& value, const std::string& what) {
  TensorBox* box = BoxOf(value, what);
  if (!box->live) throw CodedError(code::kDisposed, what + " was disposed");
  return box->tensor;
}

void RegisterTensor(Napi::Env env, Napi::Object exports) {
  exports.Set("tensorFromTypedArray", Napi::Function::New(env, FromTypedArray, "tensorFromTypedArray"));
  exports.Set("tensorInfo", Napi::Function::New(env, Info, "tensorInfo"));
  exports.Set("tensorDispose", Napi::Function::New(env, Dispose, "tensorDispose"));
}

}  // namespace videovae
