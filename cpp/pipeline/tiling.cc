#include "tiling.h"

#include <algorithm>
#include "assertion.h"

namespace videovae {
namespace {

// Weights of one tile along one axis: 1 inside, rising over `ramp` samples at an edge that
// lies inside the canvas. (i + 1) / (ramp + 1) keeps every weight > 0, and two opposite
// ramps over the same `ramp` samples sum to exactly 1.
torch::Tensor axisRamp(const Span& span, int64_t extent, int64_t ramp) {
  auto idx = torch::arange(span.length, torch::kFloat64);
  auto w = torch::ones({span.length}, torch::kFloat64);
  if (ramp > 0 && span.start > 0) w = torch::minimum(w, (idx + 1) / double(ramp + 1));
  if (ramp > 0 && span.end() < extent) {
    w = torch::minimum(w, (double(span.length) - idx) / double(ramp + 1));
  }
  return w;
}

}  // namespace

std::vector<Span> tileSpans(int64_t extent, int64_t tile, int64_t overlap, int64_t align) {
  if (tile <= 0 || extent <= tile) return {{0, extent}};
  expect(overlap >= 0 && overlap < tile, "tile overlap must be in [0, tile size)");
  const int64_t stride = std::max<int64_t>(align, (tile - overlap) / align * align);
  std::vector<Span> spans;
  for (int64_t start = 0; start + tile < extent; start += stride) spans.push_back({start, tile});
  const int64_t last = (extent - tile) / align * align;
  if (spans.empty() || spans.back().start != last) spans.push_back({last, extent - last});
  return spans;
}

BlendCanvas::BlendCanvas(torch::IntArrayRef shape, torch::TensorOptions options,
                         int64_t rampY, int64_t rampX)
    : sum_(torch::zeros(shape, options.dtype(torch::kFloat32))),
      weight_(torch::zeros({shape[3], shape[4]}, options.dtype(torch::kFloat32))),
      rampY_(rampY),
      rampX_(rampX) {}

void BlendCanvas::add(const torch::Tensor& tile, const Span& y, const Span& x) {
  const auto H = sum_.size(3), W = sum_.size(4);
  auto wy = axisRamp(y, H, rampY_), wx = axisRamp(x, W, rampX_);
  auto w = torch::outer(wy, wx).to(weight_.options());
  using torch::indexing::Slice;
  sum_.index({Slice(), Slice(), Slice(), Slice(y.start, y.end()), Slice(x.start, x.end())})
      .add_(tile.to(torch::kFloat32) * w);
  weight_.index({Slice(y.start, y.end()), Slice(x.start, x.end())}).add_(w);
}

torch::Tensor BlendCanvas::result() const { return sum_ / weight_; }

}  // namespace videovae
