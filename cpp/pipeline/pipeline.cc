#include "pipeline.h"

#include "tiling.h"

#include <ATen/CPUGeneratorImpl.h>

#include <sstream>
#include <vector>

namespace videovae {
namespace {

using torch::indexing::Slice;

std::string shapeString(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

// Internal assertions only: lib/rules.ts has checked all of this against the bundle's rules.
void checkCompression(const Compression& c) {
  expect(c.t > 0 && c.h > 0 && c.w > 0,
         "the job options lack the bundle's compression factors (t " + std::to_string(c.t) + ", h " +
             std::to_string(c.h) + ", w " + std::to_string(c.w) + ")");
}

void checkVideo(const torch::Tensor& video, const Compression& c, bool image, bool pad) {
  expect(video.dim() == 5 && video.size(1) == 3, "expected a video [B,3,T,H,W], got " + shapeString(video));
  expect(pad || (video.size(3) % c.h == 0 && video.size(4) % c.w == 0),
         "H and W must be multiples of " + std::to_string(c.h) + " and " + std::to_string(c.w) + ", got " +
             shapeString(video));
  expect(image || video.size(2) >= c.t, "the video path needs at least " + std::to_string(c.t) +
                                            " frames, got " + std::to_string(video.size(2)));
}

void checkTile(const TileOptions& tile, const Compression& c) {
  if (tile.size == 0) return;
  expect(tile.size > 0 && tile.size % c.h == 0 && tile.size % c.w == 0 && tile.overlap >= 0 &&
             tile.overlap % c.h == 0 && tile.overlap % c.w == 0 && tile.overlap < tile.size,
         "tile size " + std::to_string(tile.size) + " and overlap " + std::to_string(tile.overlap) +
             " must be multiples of " + std::to_string(c.h) + "x" + std::to_string(c.w) +
             " with 0 <= overlap < size");
}

void checkChunk(int64_t chunkFrames, int64_t multiple) {
  expect(chunkFrames >= 0 && chunkFrames % multiple == 0,
         "chunkFrames " + std::to_string(chunkFrames) + " is not a multiple of " + std::to_string(multiple));
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
  expect(frames.dim() == 5 && frames.size(4) == 3,
         "expected uint8 RGB frames [T,H,W,3] or [B,T,H,W,3], got " + shapeString(input));
  return frames.permute({0, 4, 1, 2, 3}).to(torch::kFloat32).div(255).sub(0.5).mul(2).contiguous();
}

torch::Tensor toFrames(const torch::Tensor& video) {
  auto scaled = video.to(torch::kFloat32).add(1).div(2).clamp(0, 1).mul(255);
  return scaled.to(torch::kUInt8).permute({0, 2, 3, 4, 1}).contiguous();
}

torch::Tensor padSpatial(const torch::Tensor& video, int64_t multipleH, int64_t multipleW) {
  const int64_t padH = (multipleH - video.size(3) % multipleH) % multipleH;
  const int64_t padW = (multipleW - video.size(4) % multipleW) % multipleW;
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
  const Compression& c = options.compression;
  checkCompression(c);
  checkVideo(input, c, options.image, options.pad);
  checkTile(options.tile, c);
  if (!options.image) checkChunk(options.chunkFrames, c.t);
  const int64_t frames = input.size(2), height = input.size(3), width = input.size(4);
  const auto padded = options.pad ? padSpatial(input, c.h, c.w) : input;
  const auto video = options.image ? padded : padFrames(padded, c.t);
  const int64_t H = video.size(3), W = video.size(4);

  const auto chunks = chunkSpans(video.size(2), options.chunkFrames);
  const auto ys = tileSpans(H, options.tile.size, options.tile.overlap, c.h);
  const auto xs = tileSpans(W, options.tile.size, options.tile.overlap, c.w);
  const bool tiled = ys.size() * xs.size() > 1;
  const int64_t rampY = options.tile.overlap / c.h, rampX = options.tile.overlap / c.w;
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
          shape[3] = H / c.h, shape[4] = W / c.w;
          latent.emplace(shape, t.mean.options(), rampY, rampX);
          mean.emplace(shape, t.mean.options(), rampY, rampX);
          logvar.emplace(shape, t.mean.options(), rampY, rampX);
        }
        const Span ly = {y.start / c.h, y.length / c.h};
        const Span lx = {x.start / c.w, x.length / c.w};
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
  const Compression& c = options.compression;
  checkCompression(c);
  expect(latent.dim() == 5, "expected a latent [B,z,T,h,w], got " + shapeString(latent));
  checkTile(options.tile, c);
  const int64_t timeFactor = options.image ? 1 : c.t;
  checkChunk(options.chunkFrames, timeFactor);
  const int64_t h = latent.size(3), w = latent.size(4);
  const auto chunks = chunkSpans(latent.size(2), options.chunkFrames / timeFactor);
  const auto ys = tileSpans(h, options.tile.size / c.h, options.tile.overlap / c.h, 1);
  const auto xs = tileSpans(w, options.tile.size / c.w, options.tile.overlap / c.w, 1);
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
          shape[3] = h * c.h, shape[4] = w * c.w;
          canvas.emplace(shape, out.options(), options.tile.overlap, options.tile.overlap);
        }
        canvas->add(out, scaled(y, c.h), scaled(x, c.w));
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
