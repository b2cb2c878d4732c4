// The four stages of a VideoVAE+ bundle and the text inputs they share. Two engines stand
// behind one interface:
// - TorchScript (python/videovae/export.py), one module per stage:
//     spatial_encoder(x, text_emb?, text_mask?, image)  -> (mean, logvar)   [B,zc,T,H/8,W/8]
//     temporal_encoder(z, text_emb?, text_mask?)        -> (mean, logvar)   [B,zc,T/4,h,w]
//     temporal_decoder(z, text_emb?, text_mask?)        -> z                [B,zc,T,h,w]
//     spatial_decoder(z, text_emb?, text_mask?, image)  -> x                [B,3,T,H,W]
// - AOTInductor (.pt2 packages, engine "aoti"): the same stages with flat tensors, inputs
//   [x] or [x, text_emb, text_mask] (text variants), outputs [mean, logvar] or [x]; the image
//   path of the spatial stages is a package of its own.
#pragma once

#include <torch/script.h>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace videovae {

class AotiPackage;

using ModulePtr = std::shared_ptr<torch::jit::Module>;

// Caption conditioning; both empty for the non-text variants.
struct TextInputs {
  std::optional<torch::Tensor> embedding;  // [B, L, d]
  std::optional<torch::Tensor> mask;       // [B, L]
};

// One stage: its outputs as a flat list ([mean, logvar] or [x]).
class Stage {
 public:
  virtual ~Stage() = default;
  virtual std::vector<torch::Tensor> run(const torch::Tensor& x, const TextInputs& text, bool image) const = 0;
  // The floating dtype of the stage's weights: inputs are cast to it.
  virtual c10::ScalarType dtype() const = 0;
};

using StagePtr = std::shared_ptr<const Stage>;

StagePtr scriptStage(ModulePtr module);
// `image` may be null: the stage then refuses the image path (ERR_UNSUPPORTED).
StagePtr aotiStage(std::shared_ptr<const AotiPackage> video, std::shared_ptr<const AotiPackage> image);

struct VaeStages {
  StagePtr spatialEncoder;
  StagePtr temporalEncoder;
  StagePtr temporalDecoder;
  StagePtr spatialDecoder;
};

// A diagonal Gaussian as the stages return it (logvar already clamped to [-30, 20]).
struct Posterior {
  torch::Tensor mean;
  torch::Tensor logvar;
};

Posterior runSpatialEncoder(const VaeStages& stages, const torch::Tensor& video,
                            const TextInputs& text, bool image);
Posterior runTemporalEncoder(const VaeStages& stages, const torch::Tensor& z,
                             const TextInputs& text);
torch::Tensor runTemporalDecoder(const VaeStages& stages, const torch::Tensor& latent,
                                 const TextInputs& text);
torch::Tensor runSpatialDecoder(const VaeStages& stages, const torch::Tensor& z,
                                const TextInputs& text, bool image);

}  // namespace videovae
