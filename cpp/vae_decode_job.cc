// vaeDecode(stages, latent, text, options, onProgress?, cancelToken?) -> Promise<Tensor>
// The result is float [B,3,T,H,W] on the stages' device, or with output 'uint8' the frames
// [B,T,H,W,3] on the CPU, quantised the way the official scripts save them.
#include "pipeline/pipeline.h"
#include "tensor.h"
#include "vae_job_base.h"
#include "vae_jobs.h"

namespace videovae {
namespace {

class VaeDecodeJob : public VaeJob {
 public:
  VaeDecodeJob(Napi::Env env, const Napi::CallbackInfo& info)
      : VaeJob(env, "videovae:vaeDecode", info, 4), latent_(UnwrapTensor(info[1], "latent")) {
    auto options = info[3].IsObject() ? info[3].As<Napi::Object>() : Napi::Object::New(env);
    options_.image = GetBool(options, "image", false);
    options_.chunkFrames = GetInt(options, "chunkFrames", 0);
    options_.tile = ParseTile(options);
    options_.compression = ParseCompression(options);
    options_.frames = GetInt(options, "frames", -1);
    options_.height = GetInt(options, "height", -1);
    options_.width = GetInt(options, "width", -1);
    uint8_output_ = GetBool(options, "uint8", false);
    if (!c10::isFloatingType(latent_.scalar_type())) {
      throw CodedError(code::kDtype, "latent must be a floating tensor");
    }
  }

 protected:
  void Run() override {
    RunPipeline([&](const JobControl& control, const TextInputs& text) {
      TextInputs cast = text;
      if (cast.embedding) cast.embedding = cast.embedding->to(ComputeDtype());
      auto video = decode(stages_, latent_.to(device_).to(ComputeDtype()), cast, options_, control);
      result_ = uint8_output_ ? toFrames(video).to(c10::kCPU) : video.to(c10::kFloat);
    });
    latent_ = at::Tensor();
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Value out = WrapTensor(env, result_);
    result_ = at::Tensor();
    return out;
  }

 private:
  at::Tensor latent_;
  DecodeOptions options_;
  bool uint8_output_ = false;
  at::Tensor result_;
};

Napi::Value VaeDecode(const Napi::CallbackInfo& info) {
  return StartJob(info, [&]() -> Job* { return new VaeDecodeJob(info.Env(), info); });
}

}  // namespace

void RegisterVaeDecode(Napi::Env env, Napi::Object exports) {
  exports.Set("vaeDecode", Napi::Function::New(env, VaeDecode, "vaeDecode"));
}

}  // namespace videovae
