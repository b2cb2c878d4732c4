/**
 * Tensor: an opaque handle on a libtorch tensor (CPU or CUDA). Create with Tensor.from, read
 * with await t.data(), convert with await t.to(...), free with t.dispose() (or `using`); a
 * handle that is garbage-collected without dispose() is freed by the native finalizer.
 */
import { inspect } from 'node:util'

import { arrayCarries, checkDType, type DType, inferDType, type TensorArray } from './dtype.js'
import { normalizeDevice } from './device.js'
import { nativeAsync, nativeSync, VideoVaeError } from './errors.js'
import { native, type NativeTensorHandle, type NativeTensorInfo } from './native.js'

export interface TensorFromOptions {
  /** Element type; by default inferred from the typed array (required for Uint16Array). */
  dtype?: DType
  /** 'cpu' (default), 'cuda' or 'cuda:N'. */
  device?: string
  /**
   * Copy the data instead of sharing it. Default false: a CPU tensor then reads the typed
   * array's memory directly and keeps its ArrayBuffer alive. Always copies for CUDA and for
   * resizable or growable buffers (whose memory may move).
   */
  copy?: boolean
}

export interface TensorToOptions {
  device?: string
  dtype?: DType
}

export class Tensor implements Disposable {
  #handle: NativeTensorHandle | null
  #info: NativeTensorInfo | undefined
  /** Zero-copy tensors: the ArrayBuffer whose memory they read (checked for detachment). */
  readonly #source: ArrayBufferLike | undefined

  private constructor(handle: NativeTensorHandle, info?: NativeTensorInfo, source?: ArrayBufferLike) {
    this.#handle = handle
    this.#info = info
    this.#source = source
  }

  /** Wraps a typed array: zero-copy on CPU (see TensorFromOptions.copy). */
  static from(data: TensorArray, shape: readonly number[], options: TensorFromOptions = {}): Tensor {
    if (!ArrayBuffer.isView(data) || data instanceof DataView) {
      throw new VideoVaeError('ERR_ARGUMENT', 'Tensor.from needs a typed array')
    }
    const dtype = options.dtype === undefined ? inferDType(data) : checkDType(options.dtype)
    if (!arrayCarries(data, dtype)) {
      throw new VideoVaeError('ERR_DTYPE', `dtype ${dtype} cannot be read from a ${data.constructor.name}`)
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new VideoVaeError('ERR_SHAPE', `shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`)
    }
    const numel = shape.reduce((a, b) => a * b, 1)
    if (numel !== data.length) {
      throw new VideoVaeError('ERR_SHAPE', `shape [${shape.join(', ')}] holds ${numel} elements but the array has ${data.length}`)
    }
    const device = normalizeDevice(options.device)
    // Shared memory may change under a running job (another thread writes it): copy it now.
    if (typeof SharedArrayBuffer !== 'undefined' && data.buffer instanceof SharedArrayBuffer) data = data.slice()
    const buffer = data.buffer as ArrayBuffer & { resizable?: boolean; growable?: boolean }
    const copy = options.copy === true || device !== 'cpu' || buffer.resizable === true || buffer.growable === true
    const handle = nativeSync(() => native().tensorFromTypedArray(data, shape, dtype, device, copy))
    return new Tensor(handle, { shape: [...shape], dtype, device }, copy ? undefined : buffer)
  }

  /** @internal Adopts a handle made by the addon (module results, to()). */
  static fromHandle(handle: NativeTensorHandle): Tensor {
    return new Tensor(handle)
  }

  /** @internal The native handle; throws ERR_DISPOSED once disposed. */
  handle(): NativeTensorHandle {
    if (this.#handle === null) throw new VideoVaeError('ERR_DISPOSED', 'tensor was disposed')
    if (this.#source && this.#source.byteLength === 0 && this.#info && this.#info.shape.every((d) => d > 0)) {
      throw new VideoVaeError('ERR_DISPOSED', 'the ArrayBuffer behind this zero-copy tensor was detached (transferred)')
    }
    return this.#handle
  }

  private info(): NativeTensorInfo {
    const handle = this.handle() // a disposed tensor has no shape either
    this.#info ??= nativeSync(() => native().tensorInfo(handle))
    return this.#info
  }

  get shape(): number[] {
    return [...this.info().shape]
  }

  get dtype(): DType {
    return this.info().dtype
  }

  /** 'cpu' or 'cuda:N'. */
  get device(): string {
    return this.info().device
  }

  /** Number of elements. */
  get numel(): number {
    return this.info().shape.reduce((a, b) => a * b, 1)
  }

  get disposed(): boolean {
    return this.#handle === null
  }

  /** A host copy of the elements (row-major), in the typed array that carries the dtype. */
  async data(): Promise<TensorArray> {
    const handle = this.handle()
    return nativeAsync(() => native().tensorData(handle))
  }

  /** A converted copy on another device and/or dtype; this tensor is left as it is. */
  async to(options: TensorToOptions): Promise<Tensor> {
    const handle = this.handle()
    const device = options.device === undefined ? null : normalizeDevice(options.device)
    const dtype = options.dtype === undefined ? null : checkDType(options.dtype)
    return Tensor.fromHandle(await nativeAsync(() => native().tensorTo(handle, device, dtype)))
  }

  /** Frees the tensor now. Idempotent. Jobs already running on it keep their own reference. */
  dispose(): void {
    if (this.#handle === null) return
    const handle = this.#handle
    this.#handle = null
    nativeSync(() => native().tensorDispose(handle))
  }

  [Symbol.dispose](): void {
    this.dispose()
  }

  toString(): string {
    if (this.disposed) return 'Tensor(disposed)'
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}], ${this.device})`
  }

  [inspect.custom](): string {
    return this.toString()
  }
}
