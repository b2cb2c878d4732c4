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
import type { NativeRunOptions } from './vae_options.js'

/** An opaque Node-API External owning one at::Tensor. */
export type NativeTensorHandle = { readonly __nativeTensor: unique symbol }
/** An opaque Node-API External owning one torch::jit::Module. */
export type NativeModuleHandle = { readonly __nativeModule: unique symbol }

/** An opaque Node-API External owning a cancellation flag. */
export type NativeCancelToken = { readonly __nativeCancelToken: unique symbol }

export interface NativeTextInputs {
  embedding: NativeTensorHandle
  mask: NativeTensorHandle | null
}

/** What a TorchScript call accepts: converted natively against the method's schema. */
export type NativeArgument =
  | NativeTensorHandle
  | number
  | boolean
  | string
  | null
  | NativeArgument[]
  | { [key: string]: NativeArgument }

/** What a TorchScript call returns: lists and tuples both become arrays, dicts plain objects. */
export type NativeResult =
  | NativeTensorHandle
  | number
  | boolean
  | string
  | null
  | NativeResult[]
  | { [key: string]: NativeResult }

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
}

export interface NativeMemory {
  tensors: number
  hostBytes: number
  modules: number
  cuda?: { device: string; allocatedBytes: number; reservedBytes: number }[]
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
  memory(): NativeMemory

  /** Zero-copy on CPU unless `copy` (the ArrayBuffer is then held until the tensor is freed). */
  tensorFromTypedArray(
    data: TensorArray,
    shape: readonly number[],
    dtype: DType,
    device: string,
    copy: boolean
  ): NativeTensorHandle
  tensorInfo(tensor: NativeTensorHandle): NativeTensorInfo
  /** Returns whether this call released the tensor (false when already disposed). */
  tensorDispose(tensor: NativeTensorHandle): boolean
  /** A host copy of the elements, in the typed array that carries the dtype. */
  tensorData(tensor: NativeTensorHandle): Promise<TensorArray>
  tensorTo(tensor: NativeTensorHandle, device: string | null, dtype: DType | null): Promise<NativeTensorHandle>

  moduleLoad(path: string, device: string, dtype: DType | null): Promise<NativeModuleHandle>
  moduleInfo(module: NativeModuleHandle): { device: string; methods: string[] }
  moduleDispose(module: NativeModuleHandle): boolean
  moduleCall(module: NativeModuleHandle, method: string, args: NativeArgument[]): Promise<NativeResult>

  /** A flag that a running pipeline job polls between chunks and tiles. */
  cancelTokenNew(): NativeCancelToken
  cancelTokenCancel(token: NativeCancelToken): void

  /** One VideoVAE+ encode (pad, chunk, tile, blend) over the four stage modules of a bundle. */
  vaeEncode(
    stages: NativeModuleHandle[],
    video: NativeTensorHandle,
    text: NativeTextInputs | null,
    options: NativeRunOptions,
    onProgress: ((done: number, total: number) => void) | null,
    cancel: NativeCancelToken
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
    stages: NativeModuleHandle[],
    latent: NativeTensorHandle,
    text: NativeTextInputs | null,
    options: NativeRunOptions,
    onProgress: ((done: number, total: number) => void) | null,
    cancel: NativeCancelToken
  ): Promise<NativeTensorHandle>

  /** Test switch for the Electron path: data() copies instead of handing over external memory. */
  setExternalBuffers(allowed: boolean): void
}

let addon: NativeAddon | undefined

/** The addon, loaded on first use (so `import 'videovae'` alone never fails). */
export function native(): NativeAddon {
  addon ??= loadAddon() as NativeAddon
  return addon
}
