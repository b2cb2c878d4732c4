#include "job.h"

#include "host_allocator.h"

#include <ATen/Parallel.h>
#include <c10/core/DeviceGuard.h>
#include <c10/core/InferenceMode.h>

namespace videovae {

Job::Job(Napi::Env env, const char* name, std::optional<c10::Device> device)
    : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), device_(device) {}

Napi::Promise Job::Start() {
  Napi::Promise promise = deferred_.Promise();
  Queue();
  return promise;
}

void Job::Execute() {
  // Large freed blocks are reused while any job runs (see host_allocator.h).
  struct CacheScope {
    CacheScope() { HostAllocatorJobStarted(); }
    ~CacheScope() { HostAllocatorJobEnded(); }
  } cache_scope;
  try {
    // libuv threads start with OpenMP defaults: apply setNumThreads() here too.
    at::init_num_threads();
    c10::InferenceMode inference;
    std::optional<c10::DeviceGuard> device_guard;
    if (device_ && !device_->is_cpu()) device_guard.emplace(*device_);
    Run();
  } catch (...) {
    error_ = DescribeCurrentException();
    SetError(error_.message);
  }
}

void Job::OnOK() {
  Napi::Env env = Env();
  try {
    deferred_.Resolve(Result(env));
  } catch (const Napi::Error& e) {
    deferred_.Reject(e.Value());
  } catch (...) {
    deferred_.Reject(MakeError(env, DescribeCurrentException()).Value());
  }
}

void Job::OnError(const Napi::Error&) { deferred_.Reject(MakeError(Env(), error_).Value()); }

}  // namespace videovae
