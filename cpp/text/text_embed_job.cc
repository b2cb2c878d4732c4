// textEmbed(tokenizer, t5, captions[], maxLength) -> Promise<{ embedding, mask, fullLengths }>:
// captions (already cleaned) to T5 embeddings [N, L, d] float32 and masks [N, L], in one job.
#include "../device.h"
#include "../job.h"
#include "../tensor.h"
#include "text_encoder.h"
#include "text_jobs.h"

namespace videovae {
namespace {

class TextEmbedJob : public Job {
 public:
  TextEmbedJob(Napi::Env env, CaptionRequest request)
      : Job(env, "videovae:textEmbed", request.t5Device), request_(std::move(request)) {}

 protected:
  void Run() override {
    result_ = EmbedCaptions(request_, request_.t5Device);
    SynchronizeDevice(request_.t5Device);
  }

  Napi::Value Result(Napi::Env env) override {
    auto out = Napi::Object::New(env);
    out.Set("embedding", WrapTensor(env, *result_.text.embedding));
    out.Set("mask", WrapTensor(env, *result_.text.mask));
    auto full = Napi::Array::New(env, result_.fullLengths.size());
    for (size_t i = 0; i < result_.fullLengths.size(); ++i) {
      full.Set(uint32_t(i), Napi::Number::New(env, double(result_.fullLengths[i])));
    }
    out.Set("fullLengths", full);
    result_ = {};
    return out;
  }

 private:
  CaptionRequest request_;
  CaptionEmbedding result_;
};

Napi::Value TextEmbed(const Napi::CallbackInfo& info) {
  return StartJob(info, [&]() -> Job* {
    return new TextEmbedJob(info.Env(), MakeCaptionRequest(info[0], info[1], info[2], info[3]));
  });
}

}  // namespace

void RegisterTextEmbed(Napi::Env env, Napi::Object exports) {
  exports.Set("textEmbed", Napi::Function::New(env, TextEmbed, "textEmbed"));
}

}  // namespace videovae
