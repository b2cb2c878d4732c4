// Spatial tiling with overlap and linear blending. Tiles are cut on a grid whose positions
// are multiples of `align`; overlapping tiles are cross-faded with linear ramps, and every
// output sample is normalised by the sum of the weights that touched it.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace videovae {

struct Span {
  int64_t start;
  int64_t length;
  int64_t end() const { return start + length; }
};

// Spans of at most `tile` covering [0, extent), consecutive ones overlapping by at least
// `overlap`; the last span is aligned to the end. One span when extent <= tile.
std::vector<Span> tileSpans(int64_t extent, int64_t tile, int64_t overlap, int64_t align);

// Accumulates tiles of a [B, C, T, H, W] tensor and blends them.
class BlendCanvas {
 public:
  BlendCanvas(torch::IntArrayRef shape, torch::TensorOptions options, int64_t rampY,
              int64_t rampX);

  // Adds `tile` at rows [y.start, y.end) and columns [x.start, x.end). Edges that touch
  // the border of the canvas get no ramp.
  void add(const torch::Tensor& tile, const Span& y, const Span& x);

  // The weighted mean of everything added. The canvas must be fully covered.
  torch::Tensor result() const;

 private:
  torch::Tensor sum_;
  torch::Tensor weight_;  // [H, W]
  int64_t rampY_, rampX_;
};

}  // namespace videovae
