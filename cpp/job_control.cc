#include "job_control.h"

#include <utility>

#include "errors.h"

namespace videovae {
namespace {

using TokenExternal = Napi::External<CancelFlag>;

Napi::Value CancelTokenNew(const Napi::CallbackInfo& info) {
  return TokenExternal::New(info.Env(), new CancelFlag(std::make_shared<std::atomic<bool>>(false)),
                            [](Napi::Env, CancelFlag* flag) { delete flag; });
}

Napi::Value CancelTokenCancel(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    UnwrapCancelToken(info[0])->store(true);
    return info.Env().Undefined();
  });
}

struct ProgressEvent {
  int64_t done, total;
};

}  // namespace

CancelFlag UnwrapCancelToken(const Napi::Value& value) {
  if (value.IsUndefined() || value.IsNull()) return std::make_shared<std::atomic<bool>>(false);
  if (!value.IsExternal()) throw CodedError(code::kArgument, "expected a cancel token");
  return *value.As<TokenExternal>().Data();
}

ProgressSink::ProgressSink(Napi::Env env, const Napi::Value& callback) {
  if (callback.IsFunction()) {
    tsfn_ = Napi::ThreadSafeFunction::New(env, callback.As<Napi::Function>(), "videovae:progress", 0, 1);
  } else if (!callback.IsUndefined() && !callback.IsNull()) {
    throw CodedError(code::kArgument, "onProgress must be a function");
  }
}

ProgressSink::~ProgressSink() { Finish(); }

void ProgressSink::Finish() {
  if (tsfn_) {
    tsfn_->Release();
    tsfn_.reset();
  }
}

JobControl ProgressSink::Control(const CancelFlag& cancel) {
  JobControl control;
  control.cancelled = cancel.get();
  if (tsfn_) {
    Napi::ThreadSafeFunction tsfn = *tsfn_;
    control.progress = [tsfn](int64_t done, int64_t total) mutable {
      auto* event = new ProgressEvent{done, total};
      napi_status status = tsfn.NonBlockingCall(event, [](Napi::Env env, Napi::Function fn, ProgressEvent* e) {
        // A throwing progress callback must not take the job down: report and move on.
        try {
          fn.Call({Napi::Number::New(env, double(e->done)), Napi::Number::New(env, double(e->total))});
        } catch (...) {
        }
        delete e;
      });
      if (status != napi_ok) delete event;
    };
  }
  return control;
}

void RegisterJobControl(Napi::Env env, Napi::Object exports) {
  exports.Set("cancelTokenNew", Napi::Function::New(env, CancelTokenNew, "cancelTokenNew"));
  exports.Set("cancelTokenCancel", Napi::Function::New(env, CancelTokenCancel, "cancelTokenCancel"));
}

}  // namespace videovae
