// What the encode and decode jobs share: the stages on their device, the text, progress and
// cancellation, and the translation of pipeline exceptions into coded errors.
#pragma once

#include <torch/csrc/jit/api/module.h>

#include "device.h"
#include "errors.h"
#include "job.h"
#include "job_control.h"
#include "text/text_encoder.h"
#include "vae_args.h"

namespace videovae {

class VaeJob : public Job {
 protected:
  VaeJob(Napi::Env env, const char* name, const Napi::CallbackInfo& info, size_t first_arg_after_options)
      : VaeJob(env, name, UnwrapStages(info[0]), info, first_arg_after_options) {}

  // Runs `body` with the control block; maps pipeline exceptions to stable codes.
  template <typename Body>
  void RunPipeline(Body&& body) {
    try {
      // Captions become embeddings here, inside the same job (tokenizer + T5, then the VAE).
      body(progress_.Control(cancel_), captions_ ? EmbedCaptions(*captions_, device_).text : TextOnDevice(text_, device_));
    } catch (const Cancelled& e) {
      progress_.Finish();
      throw CodedError("ERR_ABORTED", e.what());
    } catch (...) {
      progress_.Finish();
      throw;
    }
    SynchronizeDevice(device_);
    progress_.Finish();
  }

  // The floating dtype the stage weights are stored in (inputs are cast to it).
  c10::ScalarType ComputeDtype() const { return stages_.spatialEncoder->dtype(); }

  VaeStages stages_;
  c10::Device device_;
  TextInputs text_;

 private:
  VaeJob(Napi::Env env, const char* name, StagesOnDevice on_device, const Napi::CallbackInfo& info, size_t next)
      : Job(env, name, on_device.device),
        stages_(std::move(on_device.stages)),
        device_(on_device.device),
        text_(UnwrapText(info[2])),
        captions_(UnwrapCaptionRequest(info[2])),
        progress_(env, info[next]),
        cancel_(UnwrapCancelToken(info[next + 1])) {}

  std::optional<CaptionRequest> captions_;
  ProgressSink progress_;
  CancelFlag cancel_;
};

}  // namespace videovae
