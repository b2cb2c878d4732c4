// Weights stored as int8 with one float32 scale per dim-0 slice (scheme "int8-absmax-dim0",
// python/videovae/quantize.py): TorchScript bundles' quantized_weights file and AOTInductor
// bundles' int8 side files. The one place that rebuilds them, so both engines compute with the
// same numbers as the Python loaders.
#pragma once

#include <ATen/Tensor.h>

#include <string>

namespace videovae {

struct QuantizedWeight {
  std::string name;  // a TorchScript parameter's name, or an AOTInductor constant's FQN
  at::Tensor values;  // int8
  at::Tensor scale;   // one per slice along dim 0
};

// values * scale in float32 (scale broadcast along dim 0), cast to `dtype`: exactly what
// quantize.dequantize computes. Throws ERR_BUNDLE naming the weight when values are not int8 or
// scale is not one floating value per dim-0 slice.
at::Tensor Dequantize(const QuantizedWeight& w, c10::ScalarType dtype);

}  // namespace videovae
