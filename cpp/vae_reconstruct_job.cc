// vaeReconstruct(stages, input, text, options, onProgress?, cancelToken?) -> Promise<Tensor>
// encode -> decode -> crop back to the input's frames, height and width, in one job: the latent
// never leaves the device. input as vaeEncode's; options: image, chunkFrames, tile, pad,
// padTime, sample, seed (as vaeEncode), height and width (crop below the input's size) and uint8 (as vaeDecode: RGB frames [B,T,H,W,3] on the
// CPU, else float [B,3,T,H,W] on the device). Progress counts the encode's units, then the
// decode's.
#include "pipeline/pipeline.h"
#include "tensor.h"
#include "vae_job_base.h"
#include "vae_jobs.h"

namespace videovae {
namespace {

class VaeReconstructJob : public VaeJob {
 public:
  VaeReconstructJob(Napi::Env env, const Napi::CallbackInfo& info)
      : VaeJob(env, "videovae:vaeReconstruct", info, 4), input_(UnwrapTensor(info[1], "video")) {
    auto options = info[3].IsObject() ? info[3].As<Napi::Object>() : Napi::Object::New(env);
    encode_.image = decode_.image = GetBool(options, "image", false);
    encode_.chunkFrames = decode_.chunkFrames = GetInt(options, "chunkFrames", 0);
    encode_.tile = decode_.tile = ParseTile(options);
    encode_.compression = decode_.compression = ParseCompression(options);
    encode_.pad = GetBool(options, "pad", false);
    encode_.sample = GetBool(options, "sample", false);
    encode_.seed = static_cast<uint64_t>(GetInt(options, "seed", 0));
    pad_time_ = GetBool(options, "padTime", false);
    uint8_output_ = GetBool(options, "uint8", false);
    crop_height_ = GetInt(options, "height", -1);
    crop_width_ = GetInt(options, "width", -1);
    const auto dtype = input_.scalar_type();
    if (dtype != c10::kByte && !c10::isFloatingType(dtype)) {
      throw CodedError(code::kDtype, "video must be uint8 frames or a floating tensor");
    }
  }

 protected:
  void Run() override {
    RunPipeline([&](const JobControl& control, const TextInputs& text) {
      // The float path's range check is vaeEncode's; the engine sends uint8 frames.
      auto video = toModelInput(input_.to(device_)).to(ComputeDtype());
      input_ = at::Tensor();
      const int64_t frames = video.dim() == 5 ? video.size(2) : 0;
      const int64_t step = encode_.compression.t;  // a short tail is padded to one latent frame
      if (pad_time_ && !encode_.image && frames > 0 && frames < step) video = padFrames(video, step);
      TextInputs cast = text;
      if (cast.embedding) cast.embedding = cast.embedding->to(ComputeDtype());

      // One progress scale for both halves: encode reports (d, 2e), decode (e + d', e + d_total).
      int64_t encode_total = 0;
      JobControl first{control.cancelled, [&](int64_t done, int64_t total) {
                         encode_total = total;
                         if (control.progress) control.progress(done, 2 * total);
                       }};
      JobControl second{control.cancelled, [&](int64_t done, int64_t total) {
                          if (control.progress) control.progress(encode_total + done, encode_total + total);
                        }};
      EncodeResult encoded = encode(stages_, video, cast, encode_, first);
      video = at::Tensor();
      decode_.frames = std::min(frames, encoded.frames);
      decode_.height = crop_height_ >= 0 ? std::min(crop_height_, encoded.height) : encoded.height;
      decode_.width = crop_width_ >= 0 ? std::min(crop_width_, encoded.width) : encoded.width;
      auto latent = std::move(encoded.latent);
      encoded = {};
      auto out = decode(stages_, latent, cast, decode_, second);
      result_ = uint8_output_ ? toFrames(out).to(c10::kCPU) : out.to(c10::kFloat);
    });
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Value out = WrapTensor(env, result_);
    result_ = at::Tensor();
    return out;
  }

 private:
  at::Tensor input_;
  EncodeOptions encode_;
  DecodeOptions decode_;
  bool pad_time_ = false;
  bool uint8_output_ = false;
  int64_t crop_height_ = -1, crop_width_ = -1;  // crop further than the input's size (--fit pad)
  at::Tensor result_;
};

Napi::Value VaeReconstruct(const Napi::CallbackInfo& info) {
  return StartJob(info, [&]() -> Job* { return new VaeReconstructJob(info.Env(), info); });
}

}  // namespace

void RegisterVaeReconstruct(Napi::Env env, Napi::Object exports) {
  exports.Set("vaeReconstruct", Napi::Function::New(env, VaeReconstruct, "vaeReconstruct"));
}

}  // namespace videovae
