// Base of every asynchronous operation: one Job subclass per operation (load, call, data, to).
// The JS thread builds the job from validated arguments (the "baton"), Run() does the libtorch
// work on a libuv worker thread under c10::InferenceMode, Result() converts on the JS thread.
// Any exception becomes a rejected promise with a coded Error; nothing reaches std::terminate.
// A job that ends after its environment started tearing down (worker.terminate() while it ran)
// settles nothing: nobody can await it any more, so it is deleted with its results.
#pragma once

#include <c10/core/Device.h>
#include <napi.h>

#include <optional>

#include "errors.h"

namespace videovae {

class Job : public Napi::AsyncWorker {
 public:
  // Queues the job; the promise settles with Result() or a coded error.
  Napi::Value Start();

 protected:
  Job(Napi::Env env, const char* name, std::optional<c10::Device> device = std::nullopt);

  virtual void Run() = 0;                              // worker thread, may throw
  virtual Napi::Value Result(Napi::Env env) = 0;       // JS thread, may throw

 private:
  void Execute() override;
  void OnWorkComplete(Napi::Env env, napi_status status) override;
  void OnOK() override;
  void OnError(const Napi::Error& error) override;
  void Reject();  // settles with error_, never throws
  void Settle(bool ok, napi_value value);

  // Raw Node-API handles: settling must not throw while the environment terminates.
  napi_deferred deferred_ = nullptr;
  napi_value promise_ = nullptr;  // valid in the constructor's handle scope, returned by Start()
  std::optional<c10::Device> device_;  // made current on the worker thread (CUDA)
  ErrorInfo error_;
  bool failed_ = false;  // Run() threw: error_ holds why
};

// The usual shape of an entry point: validate and build a job on the JS thread, then start it.
// Validation errors reject the returned promise (callers always get a promise).
template <typename MakeJob>
Napi::Value StartJob(const Napi::CallbackInfo& info, MakeJob&& make_job) {
  Napi::Env env = info.Env();
  try {
    Job* job = make_job();
    return job->Start();
  } catch (...) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(MakeError(env, DescribeCurrentException()).Value());
    return deferred.Promise();
  }
}

}  // namespace videovae
