#include "buffer_leases.h"

namespace videovae {

std::shared_ptr<BufferLeases> BufferLeases::Create(Napi::Env env) {
  std::shared_ptr<BufferLeases> leases(new BufferLeases(env));
  napi_value name = Napi::String::New(env, "videovae:release-buffer");
  // The finalize data is a heap weak_ptr: OnClosed must not keep the object alive.
  auto* weak = new std::weak_ptr<BufferLeases>(leases);
  napi_status status = napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, weak, OnClosed,
                                                       nullptr, ReleaseOnJsThread, &leases->tsfn_);
  NAPI_THROW_IF_FAILED(env, status, leases);
  // Pending releases must not keep the process alive.
  napi_unref_threadsafe_function(env, leases->tsfn_);
  return leases;
}

BufferLeases::~BufferLeases() = default;

std::function<void(void*)> BufferLeases::Hold(Napi::Value buffer) {
  napi_ref ref = nullptr;
  NAPI_THROW_IF_FAILED(env_, napi_create_reference(env_, buffer, 1, &ref), {});
  std::shared_ptr<BufferLeases> self = shared_from_this();
  return [self, ref](void*) { self->Release(ref); };
}

void BufferLeases::Release(napi_ref ref) {
  if (std::this_thread::get_id() == js_thread_) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (tsfn_ != nullptr) napi_delete_reference(env_, ref);
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  // After environment teardown the reference died with it: nothing left to release.
  if (tsfn_ != nullptr) napi_call_threadsafe_function(tsfn_, ref, napi_tsfn_nonblocking);
}

void BufferLeases::ReleaseOnJsThread(napi_env env, napi_value, void*, void* data) {
  if (env != nullptr) napi_delete_reference(env, static_cast<napi_ref>(data));
}

void BufferLeases::OnClosed(napi_env, void* data, void*) {
  auto* weak = static_cast<std::weak_ptr<BufferLeases>*>(data);
  if (auto leases = weak->lock()) {
    std::lock_guard<std::mutex> lock(leases->mutex_);
    leases->tsfn_ = nullptr;
  }
  delete weak;
}

}  // namespace videovae
