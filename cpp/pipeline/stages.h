// The four TorchScript stages of a VideoVAE+ bundle and the text inputs they share.
// The bundle contract (python/videovae/export.py):
//   spatial_encoder(x, text_emb?, text_mask?, image)  -> (mean, logvar)   [B,zc,T,H/8,W/8]
//   temporal_encoder(z, text_emb?, text_mask?)        -> (mean, logvar)   [B,zc,T/4,h,w]
//   temporal_decoder(z, text_emb?, text_mask?)        -> z                [B,zc,T,h,w]
//   spatial_decoder(z, text_emb?, text_mask?, image)  -> x                [B,3,T,H,W]
#pragma once

#include <torch/script.h>

#include <memory>
#include <optional>
#include <utility>

namespace videovae {

using ModulePtr = std::shared_ptr<torch::jit::Module>;

struct VaeStages {
  ModulePtr spatialEncoder;
  ModulePtr temporalEncoder;
  ModulePtr temporalDecoder;
  ModulePtr spatialDecoder;
};

// Caption conditioning; both empty for the non-text variants.
struct TextInputs {
  std::optional<torch::Tensor> embedding;  // [B, L, d]
  std::optional<torch::Tensor> mask;       // [B, L]
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
