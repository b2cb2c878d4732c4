/** Process-wide facts and knobs: memory counters, CUDA, intra-op threads. */
import os from 'node:os'

import { nativeSync, VideoVaeError } from './errors.js'
import { native, type HostCacheInfo, type NativeBuildInfo, type NativeRuntimeInfo, type TransferCounts } from './native.js'

export type { HostCacheInfo, TransferCounts }

export interface MemoryInfo {
  /** Live Tensor handles (created and neither disposed nor garbage-collected). */
  tensors: number
  /** Bytes of the CPU tensors those handles hold (zero-copy ones included). */
  hostBytes: number
  /** Live TorchModule handles. */
  modules: number
  /**
   * The addon's CPU allocator keeps freed blocks of 1 MiB and more for reuse while jobs run
   * (fresh large allocations are page-faulted in on every layer otherwise) and returns them to
   * the system when the last running job ends. `cachedBytes` is what it holds now (0 when idle),
   * `peakCachedBytes` the most it held, `hits`/`misses` the large allocations it served from the
   * cache or from the system. VIDEOVAE_HOST_CACHE=0 in the environment turns it off.
   */
  hostCache: HostCacheInfo
  /**
   * Copies between JS memory and native tensors since the process started, in count and bytes:
   * `toNative` (Tensor.from, host -> CUDA `to()`) and `toHost` (`data()`, CUDA -> host `to()`).
   * On CPU the native side is the tensor, on CUDA the device. Differences around a call show
   * what it moved (the CLI's --json reports them as `transfers`).
   */
  transfers: TransferCounts
  /** Per CUDA device, from libtorch's caching allocator; absent without CUDA. */
  cuda?: { device: string; allocatedBytes: number; reservedBytes: number }[]
}

export function memory(): MemoryInfo {
  return nativeSync(() => native().memory())
}

/** The transfers since `before` (an earlier memory().transfers). */
export function transfersSince(before: TransferCounts): TransferCounts {
  const now = memory().transfers
  const diff = (a: { count: number; bytes: number }, b: { count: number; bytes: number }): { count: number; bytes: number } => ({
    count: a.count - b.count,
    bytes: a.bytes - b.bytes,
  })
  return { toNative: diff(now.toNative, before.toNative), toHost: diff(now.toHost, before.toHost) }
}

export const cuda = {
  /** True when the loaded libtorch has CUDA and a GPU is visible. */
  isAvailable(): boolean {
    return nativeSync(() => native().cudaIsAvailable())
  },
  deviceCount(): number {
    return nativeSync(() => native().cudaDeviceCount())
  },
  /** Releases cached, unused GPU memory (and cuBLAS workspaces) back to the driver (no-op without CUDA). */
  emptyCache(): void {
    nativeSync(() => native().cudaEmptyCache())
  },
  /**
   * Lets float32 convolutions and matmuls on CUDA use TF32 tensor cores (faster, ~1e-3 relative
   * error). Off by default: float32 means IEEE float32, so CUDA results match CPU and PyTorch
   * references (PyTorch itself enables TF32 for cuDNN convolutions unless told otherwise).
   * Process-wide; bfloat16/float16 runs are unaffected.
   */
  setTF32(allow: boolean): void {
    if (typeof allow !== 'boolean') throw new VideoVaeError('ERR_ARGUMENT', 'cuda.setTF32 takes a boolean')
    nativeSync(() => native().cudaSetTF32(allow))
  },
  /** Whether float32 on CUDA may use TF32 (false unless cuda.setTF32(true) was called). */
  tf32(): boolean {
    return nativeSync(() => native().cudaTF32())
  },
  /**
   * cuDNN benchmark mode (PyTorch's `torch.backends.cudnn.benchmark`): the first convolution of
   * each new input shape tries cuDNN's algorithms and later ones reuse the fastest. Pays when
   * the same shapes repeat (chunks, tiles, a dataset of one size); each new shape costs a
   * search. Process-wide, off by default; without CUDA it is only a flag (see cudnnBenchmarkApplies).
   */
  setCudnnBenchmark(on: boolean): void {
    if (typeof on !== 'boolean') throw new VideoVaeError('ERR_ARGUMENT', `cuda.setCudnnBenchmark takes a boolean, got ${typeof on}`)
    nativeSync(() => native().cudaSetCudnnBenchmark(on))
  },
  /** Whether cuDNN benchmark mode is switched on (false unless cuda.setCudnnBenchmark(true) was called). */
  cudnnBenchmark(): boolean {
    return nativeSync(() => native().cudaCudnnBenchmark())
  },
}

/**
 * What a run reports about cuDNN benchmark mode: whether it is switched on, and whether it can
 * change anything, which needs CUDA (models on the CPU never reach cuDNN).
 */
export function cudnnBenchmarkState(device: string): { enabled: boolean; applies: boolean } {
  const enabled = cuda.cudnnBenchmark()
  return { enabled, applies: enabled && device.startsWith('cuda') && cuda.isAvailable() }
}

/**
 * The most intra-op threads setNumThreads accepts: 4 per CPU Node may use, and at least 256.
 * OpenMP aborts or crashes the process when it cannot create the threads it was told to use,
 * and more threads than cores only add contention.
 */
export function maxThreads(): number {
  return Math.max(256, 4 * os.availableParallelism())
}

/** Why `threads` is not a valid intra-op thread count, or null when it is. */
export function threadsProblem(threads: unknown): string | null {
  const max = maxThreads()
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > max) {
    return `threads must be an integer from 1 to ${max} (4 per CPU, at least 256), got ${String(threads)}`
  }
  return null
}

/** libtorch intra-op threads, for all later jobs (like torch.set_num_threads); 1 to maxThreads(). */
export function setNumThreads(threads: number): void {
  const problem = threadsProblem(threads)
  if (problem) throw new VideoVaeError('ERR_ARGUMENT', problem)
  nativeSync(() => native().setNumThreads(threads))
}

export function getNumThreads(): number {
  return nativeSync(() => native().getNumThreads())
}

/** The libtorch the addon was compiled against and the one it runs on. */
export function libtorchInfo(): { build: NativeBuildInfo; runtime: NativeRuntimeInfo } {
  const { marker: _marker, ...build } = nativeSync(() => native().buildInfo())
  return { build, runtime: nativeSync(() => native().runtimeInfo()) }
}
