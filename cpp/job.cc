#include "job.h"

#include "host_allocator.h"

#include <ATen/Parallel.h>
#include <c10/core/DeviceGuard.h>
#include <c10/core/InferenceMode.h>

namespace videovae {

Job::Job(Napi::Env env, const char* name, std::optional<c10::Device> device)
    : Napi::AsyncWorker(env, name), device_(device) {
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_promise(env, &deferred_, &promise_));
}

Napi::Value Job::Start() {
  Napi::Value promise(Env(), promise_);
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
    failed_ = true;
    SetError(error_.message);
  }
}

// Whether JS can still run in `env`: false once a worker's environment is terminating, when
// every Node-API call that could run JS fails (and node-addon-api would throw from them).
// napi_coerce_to_bool runs no JS itself but makes that check (NAPI_PREAMBLE).
static bool CanRunJs(napi_env env) {
  napi_value value = nullptr, result = nullptr;
  return napi_get_undefined(env, &value) == napi_ok && napi_coerce_to_bool(env, value, &result) == napi_ok;
}

void Job::OnWorkComplete(Napi::Env env, napi_status status) {
  // Not node-addon-api's version: its HandleScope and Error::New throw (outside any catch, so
  // std::terminate) when a worker's environment starts terminating after the check below.
  if (status != napi_cancelled && CanRunJs(env)) {
    napi_handle_scope scope = nullptr;
    if (napi_open_handle_scope(env, &scope) == napi_ok) {
      try {
        if (failed_) {
          Reject();
        } else {
          OnOK();
        }
      } catch (...) {
        // The environment is going away: nobody is left to tell.
      }
      napi_close_handle_scope(env, scope);
    }
  }
  Destroy();  // the job, its results and references
}

void Job::OnOK() {
  Napi::Env env = Env();
  try {
    try {
      Settle(true, Result(env));
    } catch (const Napi::Error& e) {
      Settle(false, e.Value());
    } catch (...) {
      Settle(false, MakeError(env, DescribeCurrentException()).Value());
    }
  } catch (...) {
    // Only when the environment started terminating while Result() ran: nobody is left to tell.
  }
}

void Job::OnError(const Napi::Error&) { Reject(); }

void Job::Reject() {
  try {
    Settle(false, MakeError(Env(), error_).Value());
  } catch (...) {
  }
}

// Settles the promise without throwing: if the environment started terminating meanwhile
// (Result() may run JS), the call fails and there is nobody left to tell.
void Job::Settle(bool ok, napi_value value) {
  if (ok) {
    napi_resolve_deferred(Env(), deferred_, value);
  } else {
    napi_reject_deferred(Env(), deferred_, value);
  }
}

}  // namespace videovae
