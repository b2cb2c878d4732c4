// Encode and decode orchestration: frame padding, independent chunks (the official
// process_in_chunks), spatial tiles with blending, posterior mode or seeded sampling.
// Pure libtorch; runs on a worker thread, never on the JS thread.
#pragma once

#include "assertion.h"
#include "stages.h"

#include <atomic>
#include <functional>

namespace videovae {

struct TileOptions {
  int64_t size = 0;     // tile edge in pixels (multiple of the spatial factors); 0 disables tiling
  int64_t overlap = 0;  // overlap in pixels (multiple of the spatial factors), < size
};

// The bundle's compression factors (manifest `compression`), passed in by TypeScript: a model
// fact, not a constant of the pipeline. Zero means "not given", an internal assertion.
struct Compression {
  int64_t t = 0;  // frames per latent frame
  int64_t h = 0;  // pixels per latent row
  int64_t w = 0;  // pixels per latent column
};

// Progress and cancellation, checked between chunks and tiles.
struct JobControl {
  const std::atomic<bool>* cancelled = nullptr;
  std::function<void(int64_t done, int64_t total)> progress;
};

struct EncodeOptions {
  bool image = false;        // the image path (mask_temporal): spatial stage only
  int64_t chunkFrames = 0;   // frames per independent chunk (multiple of compression.t); 0 = one chunk
  TileOptions tile;
  Compression compression;
  bool pad = false;          // pad H and W up to multiples of compression.h/w (edge pixels repeated)
  bool sample = false;       // draw from the posterior instead of taking its mode
  uint64_t seed = 0;         // generator seed when sampling
};

struct EncodeResult {
  torch::Tensor latent;   // the mode, or a sample
  torch::Tensor mean;     // posterior mean (equals latent unless sampling)
  torch::Tensor logvar;   // posterior log-variance, clamped to [-30, 20]
  int64_t frames;         // input frame count before padding
  int64_t height, width;  // input frame size before padding
};

struct DecodeOptions {
  bool image = false;
  int64_t chunkFrames = 0;  // output frames per independent chunk (multiple of compression.t); 0 = one
  TileOptions tile;
  Compression compression;
  int64_t frames = -1;      // crop the output to this many frames (-1: keep all)
  int64_t height = -1;      // crop the output to this size (-1: keep all): undoes pad
  int64_t width = -1;
};

class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("the operation was aborted") {}
};

// uint8 RGB frames [T,H,W,3] or [B,T,H,W,3] -> float32 [B,3,T,H,W] in [-1, 1], the official
// conversion ((v / 255) - 0.5) * 2. Float input [B,3,T,H,W] is passed through.
torch::Tensor toModelInput(const torch::Tensor& input);

// Float [B,3,T,H,W] -> uint8 [B,T,H,W,3] the way the official scripts save:
// clamp((x + 1) / 2, 0, 1) * 255, truncated.
torch::Tensor toFrames(const torch::Tensor& video);

// Pads T up to a multiple of `multiple` by repeating the last frame.
torch::Tensor padFrames(const torch::Tensor& video, int64_t multiple);

// Pads H and W up to multiples of `multipleH` and `multipleW` by repeating the last row and column.
torch::Tensor padSpatial(const torch::Tensor& video, int64_t multipleH, int64_t multipleW);

EncodeResult encode(const VaeStages& stages, const torch::Tensor& video,
                    const TextInputs& text, const EncodeOptions& options,
                    const JobControl& control);

torch::Tensor decode(const VaeStages& stages, const torch::Tensor& latent,
                     const TextInputs& text, const DecodeOptions& options,
                     const JobControl& control);

}  // namespace videovae
