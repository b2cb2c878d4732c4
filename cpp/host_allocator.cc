#include "host_allocator.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <c10/util/Exception.h>
#include <sys/mman.h>

#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace videovae {
namespace {

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kHugePage = size_t{2} << 20;

class CachingHostAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) override {
    if (n < kMiB) {
      void* small = c10::alloc_cpu(n);
      return {small, small, &FreeSmall, c10::Device(c10::DeviceType::CPU)};
    }
    const size_t size = (n + kMiB - 1) / kMiB * kMiB;
    void* data = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      // Best fit among the cached blocks, up to twice the size: a larger block that is already
      // resident costs nothing, a new one costs its page faults.
      auto it = free_.lower_bound(size);
      if (it != free_.end() && it->first <= 2 * size) {
        data = it->second;
        cached_bytes_ -= static_cast<int64_t>(it->first);
        free_.erase(it);
        ++hits_;
      } else {
        ++misses_;
      }
    }
    if (data == nullptr) {
      data = AllocateLarge(size);
      if (data == nullptr) {
        // Out of memory with blocks of other sizes cached: give those back and try once more.
        FreeCached();
        data = AllocateLarge(size);
      }
      TORCH_CHECK_WITH(OutOfMemoryError, data != nullptr, "videovae: out of host memory allocating ", size, " bytes");
      std::lock_guard<std::mutex> lock(mutex_);
      sizes_[data] = size;
    }
    return {data, data, &Free, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &Free; }

  void copy_data(void* dest, const void* src, std::size_t count) const override { std::memcpy(dest, src, count); }

  void JobStarted() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++running_jobs_;
    ++generation_;
    retaining_ = true;
  }

  void JobEnded() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--running_jobs_ > 0) return;
      if (idle_ms_ > 0) {
        if (!releaser_started_) {
          releaser_started_ = true;
          std::thread([this] { ReleaseWhenIdle(); }).detach();
        }
        idle_.notify_one();
        return;
      }
    }
    Release();
  }

  HostCacheStats Stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    HostCacheStats s;
    s.enabled = true;
    s.cached_bytes = cached_bytes_;
    s.peak_cached_bytes = peak_cached_bytes_;
    s.hits = hits_;
    s.misses = misses_;
    s.max_cached_bytes = max_cached_bytes_;
    return s;
  }

  static CachingHostAllocator& Instance() {
    static auto* instance = new CachingHostAllocator();  // never destroyed: tensors may outlive static destructors
    return *instance;
  }

 private:
  static void FreeSmall(void* data) { c10::free_cpu(data); }

  // 2 MiB-aligned and marked for transparent huge pages (the kernel's THP mode is usually
  // "madvise"): a miss then faults in 2 MiB at a time instead of 4 KiB.
  // Null when out of memory.
  static void* AllocateLarge(size_t size) {
    void* data = nullptr;
    if (posix_memalign(&data, kHugePage, size) != 0) return nullptr;
#ifdef MADV_HUGEPAGE
    if (size >= kHugePage) madvise(data, size, MADV_HUGEPAGE);
#endif
    return data;
  }

  // Also the raw deleter (raw_allocate / raw_deallocate): small blocks come here too.
  static void Free(void* data) { Instance().Put(data); }

  void Put(void* data) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto known = sizes_.find(data);
      if (known == sizes_.end()) {
        // a small block (not tracked): straight back to the system, below
      } else if (retaining_ && cached_bytes_ + static_cast<int64_t>(known->second) <= max_cached_bytes_) {
        const size_t size = known->second;
        free_.emplace(size, data);
        cached_bytes_ += static_cast<int64_t>(size);
        if (cached_bytes_ > peak_cached_bytes_) peak_cached_bytes_ = cached_bytes_;
        return;
      } else {
        sizes_.erase(known);
      }
    }
    std::free(data);  // small blocks and large ones alike come from the C heap
  }

  // Returns every cached block to the system (blocks in use stay tracked), unless a job started
  // meanwhile: it may reuse them.
  void Release() {
    std::vector<void*> blocks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (running_jobs_ > 0) return;
      TakeAll(blocks, /*stop_retaining=*/true);
    }
    for (void* p : blocks) std::free(p);
  }

  // Frees the cached blocks now, jobs running or not (they are free blocks): the out-of-memory path.
  void FreeCached() {
    std::vector<void*> blocks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      TakeAll(blocks, /*stop_retaining=*/false);
    }
    for (void* p : blocks) std::free(p);
  }

  void TakeAll(std::vector<void*>& blocks, bool stop_retaining) {  // under mutex_
    for (auto& [size, p] : free_) {
      sizes_.erase(p);
      blocks.push_back(p);
    }
    free_.clear();
    cached_bytes_ = 0;
    if (stop_retaining) retaining_ = false;
  }

  // The releaser thread: once no job has run for idle_ms_, the cache goes back to the system.
  // Back-to-back calls (a service, a benchmark's repeats) keep reusing warm memory meanwhile.
  void ReleaseWhenIdle() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      idle_.wait(lock, [this] { return running_jobs_ == 0 && retaining_; });
      const uint64_t generation = generation_;
      const bool busy_again = idle_.wait_for(lock, std::chrono::milliseconds(idle_ms_),
                                             [&] { return running_jobs_ > 0 || generation_ != generation; });
      if (busy_again) continue;
      std::vector<void*> blocks;
      TakeAll(blocks, /*stop_retaining=*/true);
      lock.unlock();
      for (void* p : blocks) std::free(p);
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::multimap<size_t, void*> free_;                   // cached free blocks by size
  std::unordered_map<void*, size_t> sizes_;             // every large block this allocator made
  int64_t cached_bytes_ = 0;
  int64_t peak_cached_bytes_ = 0;
  int64_t hits_ = 0;
  int64_t misses_ = 0;
  int running_jobs_ = 0;
  uint64_t generation_ = 0;     // jobs started so far
  bool retaining_ = false;      // freed blocks are kept (a job runs, or ran less than idle_ms_ ago)
  bool releaser_started_ = false;
  std::condition_variable idle_;
  const int64_t idle_ms_ = IdleMs();
  const int64_t max_cached_bytes_ = MaxCachedBytes();

  // VIDEOVAE_HOST_CACHE_MAX_MB: a cap on the cached (free) bytes; a block freed while the cache
  // is full goes straight back to the system. Unset: no cap (the cache never holds more than
  // the job's own peak of freed blocks, but blocks of sizes the job stops asking for stay).
  static int64_t MaxCachedBytes() {
    constexpr int64_t kNoCap = INT64_MAX / 2;
    const char* v = std::getenv("VIDEOVAE_HOST_CACHE_MAX_MB");
    if (v == nullptr || *v == '\0') return kNoCap;
    char* end = nullptr;
    const long long mb = std::strtoll(v, &end, 10);
    return (end != nullptr && *end == '\0' && mb >= 0) ? static_cast<int64_t>(mb) * static_cast<int64_t>(kMiB) : kNoCap;
  }

  static int64_t IdleMs() {
    const char* v = std::getenv("VIDEOVAE_HOST_CACHE_IDLE_MS");
    if (v == nullptr || *v == '\0') return 2000;
    char* end = nullptr;
    const long long ms = std::strtoll(v, &end, 10);
    return (end != nullptr && *end == '\0' && ms >= 0) ? ms : 2000;
  }
};

bool Enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("VIDEOVAE_HOST_CACHE");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }();
  return enabled;
}

}  // namespace

void InstallHostAllocator() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (Enabled()) c10::SetCPUAllocator(&CachingHostAllocator::Instance(), /*priority=*/1);
  });
}

void HostAllocatorJobStarted() {
  if (Enabled()) CachingHostAllocator::Instance().JobStarted();
}

void HostAllocatorJobEnded() {
  if (Enabled()) CachingHostAllocator::Instance().JobEnded();
}

HostCacheStats GetHostCacheStats() { return Enabled() ? CachingHostAllocator::Instance().Stats() : HostCacheStats{}; }

}  // namespace videovae
