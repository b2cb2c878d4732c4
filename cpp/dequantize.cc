#include "dequantize.h"

#include <vector>

#include "errors.h"

namespace videovae {

at::Tensor Dequantize(const QuantizedWeight& w, c10::ScalarType dtype) {
  if (w.values.scalar_type() != c10::kChar || w.values.dim() < 1 || !c10::isFloatingType(w.scale.scalar_type()) ||
      w.scale.dim() != 1 || w.scale.size(0) != w.values.size(0)) {
    throw CodedError(code::kBundle, "quantized weight '" + w.name + "' has the wrong dtype or shape (int8 values, one " +
                                        "floating scale per dim-0 slice expected)");
  }
  std::vector<int64_t> view(static_cast<size_t>(w.values.dim()), 1);
  view[0] = -1;
  return w.values.to(c10::kFloat).mul(w.scale.to(c10::kFloat).reshape(view)).to(dtype);
}

}  // namespace videovae
