// Zero-copy tensors point into JS ArrayBuffers. A lease is a strong reference to the buffer,
// owned by the torch storage: it lives exactly as long as the memory is in use, even when a
// worker thread holds the last reference (the release is then posted to the JS thread,
// because Node-API references may only be touched there).
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace videovae {

class BufferLeases : public std::enable_shared_from_this<BufferLeases> {
 public:
  static std::shared_ptr<BufferLeases> Create(Napi::Env env);
  ~BufferLeases();

  // Takes a reference on `buffer`; the returned deleter (for at::from_blob) drops it.
  std::function<void(void*)> Hold(Napi::Value buffer);

 private:
  explicit BufferLeases(napi_env env) : env_(env), js_thread_(std::this_thread::get_id()) {}
  void Release(napi_ref ref);
  static void ReleaseOnJsThread(napi_env env, napi_value, void* context, void* data);
  static void OnClosed(napi_env, void* data, void*);

  napi_env env_;
  std::thread::id js_thread_;
  std::mutex mutex_;
  napi_threadsafe_function tsfn_ = nullptr;  // null once the environment is gone
};

}  // namespace videovae
