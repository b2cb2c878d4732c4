// The CPU allocator of the addon's tensors: keeps large freed blocks for reuse while jobs run.
//
// With glibc, every block above malloc's mmap threshold (32 MB at most) is a fresh mmap whose
// pages fault in on first touch and are unmapped again on free, so each layer of a video model
// pays page faults for its whole output. On this project's VM that was most of the time of a
// GroupNorm (105 ms instead of 5 ms on a 67 MB activation) and half that of a 3x3 conv.
// Blocks of 1 MiB and more are therefore kept after free and handed out again (best fit, up
// to twice the size asked for). The cache is emptied once no job has run for
// VIDEOVAE_HOST_CACHE_IDLE_MS (default 2000; 0 empties it as soon as the last running job
// ends): back-to-back calls reuse warm memory, an idle process holds nothing extra. New large
// blocks are 2 MiB-aligned and advised for transparent huge pages, so the faults they still
// take are 512x fewer. VIDEOVAE_HOST_CACHE_MAX_MB caps the cached bytes (peak memory against
// speed). VIDEOVAE_HOST_CACHE=0 turns it all off (libtorch's allocator as is).
#pragma once

#include <cstdint>

namespace videovae {

// Installs the allocator as libtorch's CPU allocator (once; a no-op when turned off).
void InstallHostAllocator();

// Bracket every job: the cache is kept while jobs run, and emptied when they have been idle a while.
void HostAllocatorJobStarted();
void HostAllocatorJobEnded();

struct HostCacheStats {
  bool enabled = false;
  int64_t cached_bytes = 0;   // free blocks held for reuse
  int64_t peak_cached_bytes = 0;
  int64_t hits = 0;           // allocations served from the cache
  int64_t misses = 0;         // large allocations that went to the system
  int64_t max_cached_bytes = 0;  // VIDEOVAE_HOST_CACHE_MAX_MB, or a huge value when uncapped
};
HostCacheStats GetHostCacheStats();

}  // namespace videovae
