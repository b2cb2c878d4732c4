#include "pipeline.h"

#include "tiling.h"

#include <ATen/CPUGeneratorImpl.h>

#include <sstream>
#include <stdexcept>
#include <vector>

namespace videovae {
namespace {

constexpr int64_t kSpatialFactor = 8;
constexpr int64_t kTemporalFactor = 4;

using torch::indexing::Slice;

std::string shapeString(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

void checkVideo(const torch::Tensor& video, bool image, bool pad) {
  if (video.dim() != 5 || video.size(1) != 3) {
    throw std::invalid_argument("expected a video [B,3,T,H,W], got " + shapeString(video));
  }
  if (!pad && (video.size(3) % kSpatialFactor || video.size(4) % kSpatialFactor)) {
    throw std::invalid_argument("H and W must be multiples of 8, got " + shapeString(video));
  }
  if (!image && video.size(2) < kTemporalFactor) {
    throw std::invalid_argument("the video path needs at least 4 frames, got " +
                                std::to_string(video.size(2)) + " (use the image path for stills)");
  }
}

void checkTile(const TileOptions& tile) {
  if (tile.size == 0) return;
  if (tile.size % kSpatialFactor || tile.overlap % kSpatialFactor || tile.overlap < 0 ||
      tile.overlap >= tile.size) {
    throw std::invalid_argument(
        "tile size and overlap must be multiples of 8 with 0 <= overlap < size");
  }
}

// Chunk boundaries along T: independent pieces of `chunk` (the last may be shorter).
std::vector<Span> chunkSpans(int64_t frames, int64_t chunk) {
  if (chunk <= 0 || chunk >= frames) return {{0, frames}};
  std::vector<Span> spans;
  for (int64_t s = 0; s < frames; s += chunk) spans.push_back({s, std::min(chunk, frames - s)});
  return spans;
}

Span scaled(const Span& s, int64_t factor) { return {s.start * factor, s.length * factor}; }

torch::Tensor region(const torch::Tensor& t, const Span& y, const Span& x) {
  return t.index({Slice(), Slice(), Slice(), Slice(y.start, y.end()), Slice(x.start, x.end())});
}

// Counts units of work and reports them; throws Cancelled between units when asked.
class Steps {
 public:
  Steps(const JobControl& control, int64_t total) : control_(control), total_(total) {}
  void checkCancelled() const {
    if (control_.cancelled && control_.cancelled->load()) throw Cancelled();
  }
  void done() {
    ++done_;
    if (control_.progress) control_.progress(done_, total_);
  }

 private:
  const JobControl& control_;
  int64_t total_;
  int64_t done_ = 0;
};

// mean + exp(logvar / 2) * eps, with eps drawn on the CPU like the official sampler.
torch::Tensor samplePosterior(const Posterior& p, at::Generator& gen) {
  auto eps = torch::randn(p.mean.sizes(), gen, torch::TensorOptions().dtype(p.mean.dtype()));
  return p.mean + torch::exp(0.5 * p.logvar) * eps.to(p.mean.device());
}

struct EncodedTile {
  torch::Tensor latent, mean, logvar;
};

EncodedTile encodeTile(const VaeStages& stages, const torch::Tensor& video,
                       const TextInputs& text, const EncodeOptions& options,
                       std::optional<at::Generator>& gen) {
  Posterior spatial = runSpatialEncoder(stages, video, text, options.image);
  torch::Tensor z = gen ? samplePosterior(spatial, *gen) : spatial.mean;
  if (options.image) return {z, spatial.mean, spatial.logvar};
  Posterior temporal = runTemporalEncoder(stages, z, text);
  torch::Tensor latent = gen ? samplePosterior(temporal, *gen) : temporal.mean;
  return {latent, temporal.mean, temporal.logvar};
}

torch::Tensor decodeTile(const VaeStages& stages, const torch::Tensor& latent,
                         const TextInputs& text, bool image) {
  torch::Tensor z = image ? latent : runTemporalDecoder(stages, latent, text);
  return runSpatialDecoder(stages, z, text, image);
}

}  // namespace

torch::Tensor toModelInput(const torch::Tensor& input) {
  if (input.scalar_type() != torch::kUInt8) return input;
  auto frames = input.dim() == 4 ? input.unsqueeze(0) : input;
  if (frames.dim() != 5 || frames.size(4) != 3) {
    throw std::invalid_argument("expected uint8 RGB frames [T,H,W,3] or [B,T,H,W,3], got " +
                                shapeString(input));
  }
  return frames.permute({0, 4, 1, 2, 3}).to(torch::kFloat32).div(255).sub(0.5).mul(2).contiguous();
}

torch::Tensor toFrames(const torch::Tensor& video) {
  auto scaled = video.to(torch::kFloat32).add(1).div(2).clamp(0, 1).mul(255);
  return scaled.to(torch::kUInt8).permute({0, 2, 3, 4, 1}).contiguous();
}

torch::Tensor padSpatial(const torch::Tensor& video, int64_t multiple) {
  const int64_t padH = (multiple - video.size(3) % multiple) % multiple;
  const int64_t padW = (multiple - video.size(4) % multiple) % multiple;
  if (padH == 0 && padW == 0) return video;
  namespace F = torch::nn::functional;
  return F::pad(video, F::PadFuncOptions({0, padW, 0, padH, 0, 0}).mode(torch::kReplicate));
}

torch::Tensor padFrames(const torch::Tensor& video, int64_t multiple) {
  const int64_t frames = video.size(2);
  const int64_t missing = (multiple - frames % multiple) % multiple;
  if (missing == 0) return video;
  auto last = video.narrow(2, frames - 1, 1);
  return torch::cat({video, last.expand({-1, -1, missing, -1, -1})}, 2);
}

EncodeResult encode(const VaeStages& stages, const torch::Tensor& input, const TextInputs& text,
                    const EncodeOptions& options, const JobControl& control) {
  checkVideo(input, options.image, options.pad);
  checkTile(options.tile);
  if (!options.image && options.chunkFrames % kTemporalFactor) {
    throw std::invalid_argument("chunkFrames must be a multiple of 4");
  }
  const int64_t frames = input.size(2), height = input.size(3), width = input.size(4);
  const auto padded = options.pad ? padSpatial(input, kSpatialFactor) : input;
  const auto video = options.image ? padded : padFrames(padded, kTemporalFactor);
  const int64_t H = video.size(3), W = video.size(4);

  const auto chunks = chunkSpans(video.size(2), options.chunkFrames);
  const auto ys = tileSpans(H, options.tile.size, options.tile.overlap, kSpatialFactor);
  const auto xs = tileSpans(W, options.tile.size, options.tile.overlap, kSpatialFactor);
  const bool tiled = ys.size() * xs.size() > 1;
  const int64_t ramp = options.tile.overlap / kSpatialFactor;
  Steps steps(control, int64_t(chunks.size() * ys.size() * xs.size()));

  std::optional<at::Generator> gen;
  if (options.sample) gen = at::make_generator<at::CPUGeneratorImpl>(options.seed);

  std::vector<torch::Tensor> latents, means, logvars;
  for (const auto& chunk : chunks) {
    auto piece = video.narrow(2, chunk.start, chunk.length);
    if (!tiled) {
      steps.checkCancelled();
      auto t = encodeTile(stages, piece, text, options, gen);
      latents.push_back(t.latent), means.push_back(t.mean), logvars.push_back(t.logvar);
      steps.done();
      continue;
    }
    std::optional<BlendCanvas> latent, mean, logvar;
    for (const auto& y : ys) {
      for (const auto& x : xs) {
        steps.checkCancelled();
        auto t = encodeTile(stages, region(piece, y, x), text, options, gen);
        if (!mean) {
          auto shape = t.mean.sizes().vec();
          shape[3] = H / kSpatialFactor, shape[4] = W / kSpatialFactor;
          latent.emplace(shape, t.mean.options(), ramp, ramp);
          mean.emplace(shape, t.mean.options(), ramp, ramp);
          logvar.emplace(shape, t.mean.options(), ramp, ramp);
        }
        const Span ly = {y.start / kSpatialFactor, y.length / kSpatialFactor};
        const Span lx = {x.start / kSpatialFactor, x.length / kSpatialFactor};
        mean->add(t.mean, ly, lx), logvar->add(t.logvar, ly, lx);
        if (options.sample) latent->add(t.latent, ly, lx);
        steps.done();
      }
    }
    means.push_back(mean->result()), logvars.push_back(logvar->result());
    latents.push_back(options.sample ? latent->result() : means.back());
  }
  return {torch::cat(latents, 2), torch::cat(means, 2), torch::cat(logvars, 2), frames, height, width};
}

torch::Tensor decode(const VaeStages& stages, const torch::Tensor& latent, const TextInputs& text,
                     const DecodeOptions& options, const JobControl& control) {
  if (latent.dim() != 5) {
    throw std::invalid_argument("expected a latent [B,z,T,h,w], got " + shapeString(latent));
  }
  checkTile(options.tile);
  const int64_t timeFactor = options.image ? 1 : kTemporalFactor;
  if (options.chunkFrames % timeFactor) {
    throw std::invalid_argument("chunkFrames must be a multiple of 4");
  }
  const int64_t h = latent.size(3), w = latent.size(4);
  const int64_t latentTile = options.tile.size / kSpatialFactor;
  const int64_t latentOverlap = options.tile.overlap / kSpatialFactor;

  const auto chunks = chunkSpans(latent.size(2), options.chunkFrames / timeFactor);
  const auto ys = tileSpans(h, latentTile, latentOverlap, 1);
  const auto xs = tileSpans(w, latentTile, latentOverlap, 1);
  const bool tiled = ys.size() * xs.size() > 1;
  Steps steps(control, int64_t(chunks.size() * ys.size() * xs.size()));

  std::vector<torch::Tensor> outputs;
  for (const auto& chunk : chunks) {
    auto piece = latent.narrow(2, chunk.start, chunk.length);
    if (!tiled) {
      steps.checkCancelled();
      outputs.push_back(decodeTile(stages, piece, text, options.image));
      steps.done();
      continue;
    }
    std::optional<BlendCanvas> canvas;
    for (const auto& y : ys) {
      for (const auto& x : xs) {
        steps.checkCancelled();
        auto out = decodeTile(stages, region(piece, y, x), text, options.image);
        if (!canvas) {
          auto shape = out.sizes().vec();
          shape[3] = h * kSpatialFactor, shape[4] = w * kSpatialFactor;
          canvas.emplace(shape, out.options(), options.tile.overlap, options.tile.overlap);
        }
        canvas->add(out, scaled(y, kSpatialFactor), scaled(x, kSpatialFactor));
        steps.done();
      }
    }
    outputs.push_back(canvas->result());
  }
  auto video = torch::cat(outputs, 2);
  if (options.frames >= 0 && options.frames < video.size(2)) {
    video = video.narrow(2, 0, options.frames);
  }
  if (options.height >= 0 && options.height < video.size(3)) video = video.narrow(3, 0, options.height);
  if (options.width >= 0 && options.width < video.size(4)) video = video.narrow(4, 0, options.width);
  return video;
}

}  // namespace videovae
