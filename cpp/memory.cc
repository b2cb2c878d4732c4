#include "memory.h"

#include <ATen/DeviceAccelerator.h>
#include <torch/cuda.h>

#include <atomic>
#include <climits>

#include "errors.h"
#include "host_allocator.h"
#include "transfers.h"

namespace videovae {
namespace {

std::atomic<int64_t> live_tensors{0};
std::atomic<int64_t> live_host_bytes{0};
std::atomic<int64_t> live_modules{0};

Napi::Value Memory(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("tensors", static_cast<double>(live_tensors.load()));
    out.Set("hostBytes", static_cast<double>(live_host_bytes.load()));
    out.Set("modules", static_cast<double>(live_modules.load()));
    const HostCacheStats cache = GetHostCacheStats();
    Napi::Object host_cache = Napi::Object::New(env);
    host_cache.Set("enabled", cache.enabled);
    host_cache.Set("cachedBytes", static_cast<double>(cache.cached_bytes));
    host_cache.Set("peakCachedBytes", static_cast<double>(cache.peak_cached_bytes));
    host_cache.Set("hits", static_cast<double>(cache.hits));
    host_cache.Set("misses", static_cast<double>(cache.misses));
    // null when uncapped
    if (cache.enabled && cache.max_cached_bytes < INT64_MAX / 2) {
      host_cache.Set("maxCachedBytes", static_cast<double>(cache.max_cached_bytes));
    } else {
      host_cache.Set("maxCachedBytes", env.Null());
    }
    out.Set("hostCache", host_cache);
    Napi::Object transfers = Napi::Object::New(env);
    for (auto [name, direction] : {std::pair{"toNative", Transfer::kToNative}, std::pair{"toHost", Transfer::kToHost}}) {
      const TransferCount total = TransferTotal(direction);
      Napi::Object entry = Napi::Object::New(env);
      entry.Set("count", static_cast<double>(total.count));
      entry.Set("bytes", static_cast<double>(total.bytes));
      transfers.Set(name, entry);
    }
    out.Set("transfers", transfers);
    if (torch::cuda::is_available()) {
      constexpr auto kAll = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
      Napi::Array devices = Napi::Array::New(env);
      for (c10::DeviceIndex i = 0; i < static_cast<c10::DeviceIndex>(torch::cuda::device_count()); ++i) {
        // Until the first CUDA allocation the caching allocator is not set up and throws
        // ("Invalid device argument"); nothing is allocated then, so the zeroed stats are right.
        decltype(at::accelerator::getDeviceStats(i)) stats;  // the type moved between libtorch versions
        try {
          stats = at::accelerator::getDeviceStats(i);
        } catch (const c10::Error&) {
        }
        Napi::Object device = Napi::Object::New(env);
        device.Set("device", "cuda:" + std::to_string(i));
        device.Set("allocatedBytes", static_cast<double>(stats.allocated_bytes[kAll].current));
        device.Set("reservedBytes", static_cast<double>(stats.reserved_bytes[kAll].current));
        devices.Set(static_cast<uint32_t>(i), device);
      }
      out.Set("cuda", devices);
    }
    return out;
  });
}

}  // namespace

void CountTensorHandle(int64_t host_bytes, int sign) {
  live_tensors += sign;
  live_host_bytes += sign * host_bytes;
}

void CountModuleHandle(int sign) { live_modules += sign; }

void RegisterMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("memory", Napi::Function::New(env, Memory, "memory"));
}

}  // namespace videovae
