// Cancellation and progress for long jobs. A CancelToken is an External that JS flips
// (AbortSignal -> cancelTokenCancel); the worker polls it between chunks and tiles.
// Progress goes back to a JS callback through a thread-safe function, never blocking
// the worker.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <optional>

#include "pipeline/pipeline.h"

namespace videovae {

using CancelFlag = std::shared_ptr<std::atomic<bool>>;

// The flag behind a token, or a fresh never-set flag for undefined/null.
CancelFlag UnwrapCancelToken(const Napi::Value& value);

// Owns the optional progress callback of one job.
class ProgressSink {
 public:
  ProgressSink(Napi::Env env, const Napi::Value& callback);
  ~ProgressSink();
  ProgressSink(const ProgressSink&) = delete;
  ProgressSink& operator=(const ProgressSink&) = delete;

  // A JobControl that reports here and watches `cancel`; valid while this sink lives.
  JobControl Control(const CancelFlag& cancel);
  // Called on the worker when the job ends: no more reports, the loop may exit.
  void Finish();

 private:
  std::optional<Napi::ThreadSafeFunction> tsfn_;
};

void RegisterJobControl(Napi::Env env, Napi::Object exports);  // cancelTokenNew, cancelTokenCancel

}  // namespace videovae
