#include "transfers.h"

#include <atomic>

namespace videovae {
namespace {

struct Counter {
  std::atomic<int64_t> count{0};
  std::atomic<int64_t> bytes{0};
};

Counter counters[2];

Counter& Of(Transfer direction) { return counters[direction == Transfer::kToNative ? 0 : 1]; }

}  // namespace

void CountTransfer(Transfer direction, int64_t bytes) {
  Counter& c = Of(direction);
  c.count += 1;
  c.bytes += bytes;
}

TransferCount TransferTotal(Transfer direction) {
  const Counter& c = Of(direction);
  return {c.count.load(), c.bytes.load()};
}

}  // namespace videovae
