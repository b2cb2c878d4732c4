#include "stages.h"

namespace videovae {
namespace {

torch::IValue optionalTensor(const std::optional<torch::Tensor>& t) {
  return t ? torch::IValue(*t) : torch::IValue();
}

Posterior toPosterior(const torch::IValue& out) {
  auto tuple = out.toTuple();
  return {tuple->elements()[0].toTensor(), tuple->elements()[1].toTensor()};
}

}  // namespace

Posterior runSpatialEncoder(const VaeStages& stages, const torch::Tensor& video,
                            const TextInputs& text, bool image) {
  return toPosterior(stages.spatialEncoder->forward(
      {video, optionalTensor(text.embedding), optionalTensor(text.mask), image}));
}

Posterior runTemporalEncoder(const VaeStages& stages, const torch::Tensor& z,
                             const TextInputs& text) {
  return toPosterior(stages.temporalEncoder->forward(
      {z, optionalTensor(text.embedding), optionalTensor(text.mask)}));
}

torch::Tensor runTemporalDecoder(const VaeStages& stages, const torch::Tensor& latent,
                                 const TextInputs& text) {
  return stages.temporalDecoder
      ->forward({latent, optionalTensor(text.embedding), optionalTensor(text.mask)})
      .toTensor();
}

torch::Tensor runSpatialDecoder(const VaeStages& stages, const torch::Tensor& z,
                                const TextInputs& text, bool image) {
  return stages.spatialDecoder
      ->forward({z, optionalTensor(text.embedding), optionalTensor(text.mask), image})
      .toTensor();
}

}  // namespace videovae
