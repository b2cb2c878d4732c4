/**
 * The typed contract of the raw addon (cpp/): every native function and its types.
 * Nothing else in lib/ talks to the addon except through `native()`.
 *
 * Conventions on the native side: synchronous functions do metadata only; functions returning
 * a Promise run one Job on a libuv worker thread under c10::InferenceMode. Failures carry a
 * `code` (see errors.ts).
 */
import type { DType, TensorArray } from './dtype.js'
import { loadAddon } from './native_loader.js'

/** The native form: dims > 0 fixed, < 0 any positive multiple of -d. */
export interface NativeAotiInputSpec {
  name: string
  dims: number[]
  dtype: DType | null
}

/** The native side's view of the options (flat, numbers only). */
export interface NativeRunOptions {
  image: boolean
  chunkFrames: number
  tileSize: number
  tileOverlap: number
  /** The bundle's compression factors (manifest `compression`); the pipeline asserts they are set. */
  compressionT: number
  compressionH: number
  compressionW: number
  pad?: boolean
  sample?: boolean
  seed?: number
  /** Pad a video of 1 to 3 frames (a stream's short tail) to 4 by repeating its last frame. */
  padTime?: boolean
  frames?: number
  height?: number
  width?: number
  uint8?: boolean
}

/** An opaque Node-API External owning one at::Tensor. */
export type NativeTensorHandle = { readonly __nativeTensor: unique symbol }
/** An opaque Node-API External owning one torch::jit::Module. */
export type NativeModuleHandle = { readonly __nativeModule: unique symbol }

/** An opaque Node-API External owning a cancellation flag. */
export type NativeCancelToken = { readonly __nativeCancelToken: unique symbol }

/** An opaque Node-API External owning a SentencePiece caption tokenizer. */
export type NativeTokenizerHandle = { readonly __nativeTokenizer: unique symbol }

/** Precomputed caption embeddings for an encode/decode job. */
export interface NativeTextEmbedding {
  embedding: NativeTensorHandle
  mask: NativeTensorHandle | null
}

/** Captions that the encode/decode job tokenizes and embeds with T5 itself (same job). */
export interface NativeCaptionRequest {
  /** Already cleaned. */
  captions: string[]
  tokenizer: NativeTokenizerHandle
  t5: NativeModuleHandle
  maxLength: number
}

export type NativeTextInputs = NativeTextEmbedding | NativeCaptionRequest

/** What a TorchScript call accepts: converted natively against the method's schema. */
export type NativeArgument = NativeTensorHandle | number | boolean | string | null | NativeArgument[] | { [key: string]: NativeArgument }

/** What a TorchScript call returns: lists and tuples both become arrays, dicts plain objects. */
export type NativeResult = NativeTensorHandle | number | boolean | string | null | NativeResult[] | { [key: string]: NativeResult }

/** Compiled into the binary; also embedded as text so it can be read without loading it. */
export interface NativeBuildInfo {
  torchVersion: string
  flavour: string
  libdir: string
  buildSystem: 'node-gyp' | 'cmake-js' | string
}

/** The libtorch actually loaded by the dynamic linker. */
export interface NativeRuntimeInfo {
  torchVersion: string
  cudaCompiled: boolean
  library?: string
  /** CPU instruction sets AOTInductor kernels may use here (avx2, avx512, avx512_vnni, ...), capped by ATEN_CPU_CAPABILITY. */
  cpuIsa: string[]
}

export interface NativeMemory {
  tensors: number
  hostBytes: number
  modules: number
  hostCache: HostCacheInfo
  transfers: TransferCounts
  cuda?: { device: string; allocatedBytes: number; reservedBytes: number }[]
}

/** Copies between JS memory and native tensors since the process started (see memory()). */
export interface TransferCounts {
  /** Tensor.from, and host -> CUDA tensorTo. */
  toNative: { count: number; bytes: number }
  /** data(), and CUDA -> host tensorTo. */
  toHost: { count: number; bytes: number }
}

export interface HostCacheInfo {
  enabled: boolean
  cachedBytes: number
  peakCachedBytes: number
  hits: number
  misses: number
  /** VIDEOVAE_HOST_CACHE_MAX_MB in bytes; null when the cache is uncapped (the default) or off. */
  maxCachedBytes: number | null
}

export interface NativeTensorInfo {
  shape: number[]
  dtype: DType
  device: string
}

export interface NativeAddon {
  buildInfo(): NativeBuildInfo & { marker: string }
  runtimeInfo(): NativeRuntimeInfo
  setNumThreads(threads: number): void
  getNumThreads(): number

  cudaIsAvailable(): boolean
  cudaDeviceCount(): number
  cudaEmptyCache(): void
  cudaSetTF32(allow: boolean): void
  cudaTF32(): boolean
  /** at::globalContext().setBenchmarkCuDNN: process-wide; a plain flag without CUDA. */
  cudaSetCudnnBenchmark(on: boolean): void
  cudaCudnnBenchmark(): boolean
  memory(): NativeMemory

  /** Zero-copy on CPU unless `copy` (the ArrayBuffer is then held until the tensor is freed). */
  tensorFromTypedArray(data: TensorArray, shape: readonly number[], dtype: DType, device: string, copy: boolean): NativeTensorHandle
  tensorInfo(tensor: NativeTensorHandle): NativeTensorInfo
  /** Returns whether this call released the tensor (false when already disposed). */
  tensorDispose(tensor: NativeTensorHandle): boolean
  /** A host copy of the elements, in the typed array that carries the dtype. */
  tensorData(tensor: NativeTensorHandle): Promise<TensorArray>
  tensorTo(tensor: NativeTensorHandle, device: string | null, dtype: DType | null): Promise<NativeTensorHandle>
  /** A view of `length` entries of `dim` from `start` (no copy). */
  tensorNarrow(tensor: NativeTensorHandle, dim: number, start: number, length: number): NativeTensorHandle
  /** The tensors joined along `dim` (one rank, dtype and device), in a job. */
  tensorCat(tensors: NativeTensorHandle[], dim: number): Promise<NativeTensorHandle>

  /** quantized: [parameter name, int8 values, float32 scale per dim-0 slice] filled in as values * scale. */
  moduleLoad(
    path: string,
    device: string,
    dtype: DType | null,
    quantized?: [string, NativeTensorHandle, NativeTensorHandle][] | null,
    /**
     * Set: `path` is an AOTInductor package (.pt2); constants are the weights kept out of its .so,
     * quantized those of them stored as int8 ([fqn, values, scale], dequantized natively).
     */
    aoti?: {
      runners: number
      constants: Record<string, NativeTensorHandle> | null
      quantized: [string, NativeTensorHandle, NativeTensorHandle][] | null
      inputs: NativeAotiInputSpec[] | null
    } | null,
  ): Promise<NativeModuleHandle>
  moduleInfo(module: NativeModuleHandle): { device: string; methods: string[]; engine: 'torchscript' | 'aoti' }
  moduleDispose(module: NativeModuleHandle): boolean
  moduleCall(module: NativeModuleHandle, method: string, args: NativeArgument[]): Promise<NativeResult>

  /** A flag that a running pipeline job polls between chunks and tiles. */
  cancelTokenNew(): NativeCancelToken
  cancelTokenCancel(token: NativeCancelToken): void

  /**
   * One VideoVAE+ encode (pad, chunk, tile, blend) over the four stage modules of a bundle
   * (AOTInductor bundles: then the image-path spatial encoder and decoder packages, or null).
   */
  vaeEncode(
    stages: (NativeModuleHandle | null)[],
    video: NativeTensorHandle,
    text: NativeTextInputs | null,
    options: NativeRunOptions,
    onProgress: ((done: number, total: number) => void) | null,
    cancel: NativeCancelToken,
  ): Promise<{
    latent: NativeTensorHandle
    mean: NativeTensorHandle
    logvar: NativeTensorHandle
    frames: number
    height: number
    width: number
  }>
  /** One VideoVAE+ decode; with options.uint8 the result is RGB frames [B,T,H,W,3] on the CPU. */
  vaeDecode(
    stages: (NativeModuleHandle | null)[],
    latent: NativeTensorHandle,
    text: NativeTextInputs | null,
    options: NativeRunOptions,
    onProgress: ((done: number, total: number) => void) | null,
    cancel: NativeCancelToken,
  ): Promise<NativeTensorHandle>

  /**
   * encode -> decode -> crop to the input's frames and size in one job (the latent stays on the
   * device); options as vaeEncode's plus uint8 (RGB frames [B,T,H,W,3] on the CPU).
   */
  vaeReconstruct(
    stages: (NativeModuleHandle | null)[],
    video: NativeTensorHandle,
    text: NativeTextInputs | null,
    options: NativeRunOptions,
    onProgress: ((done: number, total: number) => void) | null,
    cancel: NativeCancelToken,
  ): Promise<NativeTensorHandle>

  /** Loads spiece.model with the T5 tokenizer's special ids (synchronous: a small file). */
  tokenizerLoad(path: string, spec: { extraIds: number; padId: number; eosId: number }): NativeTokenizerHandle
  tokenizerInfo(tokenizer: NativeTokenizerHandle): { pieces: number; vocabSize: number }
  /** Hugging Face T5 tokenization: ids [N * maxLength] (tokens, </s>, padding), lengths with </s>. */
  tokenize(tokenizer: NativeTokenizerHandle, captions: string[], maxLength: number): { ids: Int32Array; lengths: number[]; fullLengths: number[] }
  /** Tokenize + T5 in one job: embedding [N, maxLength, d] float32 and mask [N, maxLength] float32. */
  textEmbed(
    tokenizer: NativeTokenizerHandle,
    t5: NativeModuleHandle,
    captions: string[],
    maxLength: number,
  ): Promise<{ embedding: NativeTensorHandle; mask: NativeTensorHandle; fullLengths: number[] }>

  /** Test switch for the Electron path: data() copies instead of handing over external memory. */
  setExternalBuffers(allowed: boolean): void
  /**
   * Test hook for cpp/channels_last.cc: with `convert`, converts the module's 5-D conv weights
   * to channels-last-3d on any device (loading does it for fast bundles on CUDA only); reports
   * whether the module declares channels-last activations and every 5-D parameter's strides.
   * Synchronous: only for small modules no job is running.
   */
  debugModuleChannelsLast3d(
    module: NativeModuleHandle,
    convert: boolean,
  ): {
    declared: boolean
    converted: number
    weights: { name: string; sizes: number[]; strides: number[] }[]
  }
}

let addon: NativeAddon | undefined

/** The addon, loaded on first use (so `import 'videovae'` alone never fails). */
export function native(): NativeAddon {
  addon ??= loadAddon() as NativeAddon
  return addon
}
