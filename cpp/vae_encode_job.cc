// vaeEncode(stages, input, text, options, onProgress?, cancelToken?)
//   -> Promise<{ latent, mean, logvar, frames }>
// input: uint8 frames [T,H,W,3] / [B,T,H,W,3] (converted natively) or float [B,3,T,H,W].
// options.padTime: a video of 1 to 3 frames (a stream's short tail chunk) is padded to 4 by
// repeating its last frame, as the whole clip's padding would; `frames` stays the real count.
#include "pipeline/pipeline.h"
#include "tensor.h"
#include "vae_job_base.h"
#include "vae_jobs.h"

namespace videovae {
namespace {

// The model expects RGB in [-1, 1]; a [0, 1] or [0, 255] float video is the usual mistake.
// A little slack lets resampling overshoot through.
void CheckRange(const at::Tensor& video) {
  if (video.numel() == 0) return;
  auto [lo, hi] = at::aminmax(video);
  const double min = lo.item<double>(), max = hi.item<double>();
  if (!(min >= -1.01 && max <= 1.01)) {  // also catches NaN
    throw CodedError("ERR_RANGE", "video values must be in [-1, 1] ((pixel / 255 - 0.5) * 2), got [" +
                                      std::to_string(min) + ", " + std::to_string(max) + "]");
  }
}

class VaeEncodeJob : public VaeJob {
 public:
  VaeEncodeJob(Napi::Env env, const Napi::CallbackInfo& info)
      : VaeJob(env, "videovae:vaeEncode", info, 4), input_(UnwrapTensor(info[1], "video")) {
    auto options = info[3].IsObject() ? info[3].As<Napi::Object>() : Napi::Object::New(env);
    options_.image = GetBool(options, "image", false);
    options_.chunkFrames = GetInt(options, "chunkFrames", 0);
    options_.tile = ParseTile(options);
    options_.compression = ParseCompression(options);
    options_.pad = GetBool(options, "pad", false);
    options_.sample = GetBool(options, "sample", false);
    options_.seed = static_cast<uint64_t>(GetInt(options, "seed", 0));
    pad_time_ = GetBool(options, "padTime", false);
    const auto dtype = input_.scalar_type();
    if (dtype != c10::kByte && !c10::isFloatingType(dtype)) {
      throw CodedError(code::kDtype, "video must be uint8 frames or a floating tensor");
    }
  }

 protected:
  void Run() override {
    RunPipeline([&](const JobControl& control, const TextInputs& text) {
      if (input_.scalar_type() != c10::kByte) CheckRange(input_);
      auto video = toModelInput(input_.to(device_)).to(ComputeDtype());
      const int64_t frames = video.dim() == 5 ? video.size(2) : 0;
      const int64_t step = options_.compression.t;  // a short tail is padded to one latent frame
      const bool short_tail = pad_time_ && !options_.image && frames > 0 && frames < step;
      if (short_tail) video = padFrames(video, step);
      TextInputs cast = text;
      if (cast.embedding) cast.embedding = cast.embedding->to(ComputeDtype());
      result_ = encode(stages_, video, cast, options_, control);
      if (short_tail) result_.frames = frames;
    });
    input_ = at::Tensor();
  }

  Napi::Value Result(Napi::Env env) override {
    auto out = Napi::Object::New(env);
    out.Set("latent", WrapTensor(env, result_.latent.to(c10::kFloat)));
    out.Set("mean", WrapTensor(env, result_.mean.to(c10::kFloat)));
    out.Set("logvar", WrapTensor(env, result_.logvar.to(c10::kFloat)));
    out.Set("frames", Napi::Number::New(env, double(result_.frames)));
    out.Set("height", Napi::Number::New(env, double(result_.height)));
    out.Set("width", Napi::Number::New(env, double(result_.width)));
    result_ = {};
    return out;
  }

 private:
  at::Tensor input_;
  EncodeOptions options_;
  bool pad_time_ = false;
  EncodeResult result_;
};

Napi::Value VaeEncode(const Napi::CallbackInfo& info) {
  return StartJob(info, [&]() -> Job* { return new VaeEncodeJob(info.Env(), info); });
}

}  // namespace

void RegisterVaeEncode(Napi::Env env, Napi::Object exports) {
  exports.Set("vaeEncode", Napi::Function::New(env, VaeEncode, "vaeEncode"));
}

}  // namespace videovae
