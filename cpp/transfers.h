// Counts of the copies between JS memory and native tensors, reported by memory().transfers so
// that tests can check how often a path moves data: toNative for Tensor.from and host -> CUDA
// tensorTo, toHost for data() and CUDA -> host tensorTo. On CPU the "native" side is the tensor,
// on CUDA the device.
#pragma once

#include <cstdint>

namespace videovae {

enum class Transfer { kToNative, kToHost };

struct TransferCount {
  int64_t count = 0;
  int64_t bytes = 0;
};

void CountTransfer(Transfer direction, int64_t bytes);
TransferCount TransferTotal(Transfer direction);

}  // namespace videovae
