#include "stages.h"

#include "../aoti_package.h"
#include "../errors.h"

namespace videovae {
namespace {

torch::IValue optionalTensor(const std::optional<torch::Tensor>& t) {
  return t ? torch::IValue(*t) : torch::IValue();
}

class ScriptStage : public Stage {
 public:
  explicit ScriptStage(ModulePtr module) : module_(std::move(module)) {
    for (const auto& p : module_->parameters()) {
      dtype_ = p.scalar_type();
      break;
    }
    // Only the spatial stages take the image flag (self, x, text_emb, text_mask, image).
    takes_image_ = module_->get_method("forward").function().getSchema().arguments().size() > 4;
  }

  std::vector<torch::Tensor> run(const torch::Tensor& x, const TextInputs& text, bool image) const override {
    std::vector<torch::IValue> args{x, optionalTensor(text.embedding), optionalTensor(text.mask)};
    if (takes_image_) args.emplace_back(image);
    torch::IValue out = module_->forward(std::move(args));
    if (out.isTensor()) return {out.toTensor()};
    std::vector<torch::Tensor> flat;
    for (const auto& item : out.toTupleRef().elements()) flat.push_back(item.toTensor());
    return flat;
  }

  c10::ScalarType dtype() const override { return dtype_; }

 private:
  ModulePtr module_;
  c10::ScalarType dtype_ = c10::kFloat;
  bool takes_image_ = false;
};

class AotiStage : public Stage {
 public:
  AotiStage(std::shared_ptr<const AotiPackage> video, std::shared_ptr<const AotiPackage> image)
      : video_(std::move(video)), image_(std::move(image)) {}

  std::vector<torch::Tensor> run(const torch::Tensor& x, const TextInputs& text, bool image) const override {
    const AotiPackage* package = image ? image_.get() : video_.get();
    if (package == nullptr) {
      throw CodedError(code::kUnsupported, "this AOTInductor bundle has no image-path package: re-export it with the image stages");
    }
    std::vector<torch::Tensor> inputs{x};
    if (package->numInputs() == 3) {  // a text variant: [x, text_emb, text_mask]
      if (!text.embedding || !text.mask) throw CodedError("ERR_TEXT", "this text model needs a text embedding and mask");
      inputs.push_back(*text.embedding);
      inputs.push_back(*text.mask);
    }
    return package->Run(inputs);
  }

  c10::ScalarType dtype() const override { return video_->dtype(); }

 private:
  std::shared_ptr<const AotiPackage> video_;
  std::shared_ptr<const AotiPackage> image_;
};

Posterior toPosterior(std::vector<torch::Tensor> out) {
  TORCH_CHECK(out.size() == 2, "an encoder stage must return [mean, logvar], got ", out.size(), " tensor(s)");
  return {std::move(out[0]), std::move(out[1])};
}

torch::Tensor single(std::vector<torch::Tensor> out) {
  TORCH_CHECK(out.size() == 1, "a decoder stage must return one tensor, got ", out.size());
  return std::move(out[0]);
}

}  // namespace

StagePtr scriptStage(ModulePtr module) { return std::make_shared<ScriptStage>(std::move(module)); }

StagePtr aotiStage(std::shared_ptr<const AotiPackage> video, std::shared_ptr<const AotiPackage> image) {
  return std::make_shared<AotiStage>(std::move(video), std::move(image));
}

Posterior runSpatialEncoder(const VaeStages& stages, const torch::Tensor& video,
                            const TextInputs& text, bool image) {
  return toPosterior(stages.spatialEncoder->run(video, text, image));
}

Posterior runTemporalEncoder(const VaeStages& stages, const torch::Tensor& z,
                             const TextInputs& text) {
  return toPosterior(stages.temporalEncoder->run(z, text, false));
}

torch::Tensor runTemporalDecoder(const VaeStages& stages, const torch::Tensor& latent,
                                 const TextInputs& text) {
  return single(stages.temporalDecoder->run(latent, text, false));
}

torch::Tensor runSpatialDecoder(const VaeStages& stages, const torch::Tensor& z,
                                const TextInputs& text, bool image) {
  return single(stages.spatialDecoder->run(z, text, image));
}

}  // namespace videovae
