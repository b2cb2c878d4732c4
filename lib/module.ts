/**
 * TorchModule: a TorchScript module loaded onto one device. Every call runs on a worker
 * thread under inference mode; arguments are checked against the method's schema first.
 */
import { types } from 'node:util'

import { normalizeDevice } from './device.js'
import { runOnDevice } from './device_queue.js'
import { nativeAsync, nativeSync, VideoVaeError } from './errors.js'
import { native, type NativeArgument, type NativeModuleHandle, type NativeResult, type NativeTensorHandle } from './native.js'
import type { DType } from './dtype.js'
import { Tensor } from './tensor.js'

/** Accepted arguments: tensors, numbers, booleans, strings, null (None), arrays (lists/tuples), objects (dicts). */
export type ModuleArgument = Tensor | number | boolean | string | null | ModuleArgument[] | { [key: string]: ModuleArgument }

/** Results: tensors, arrays (lists and tuples), numbers, booleans, strings, null, objects (dicts). */
export type ModuleResult = Tensor | number | boolean | string | null | ModuleResult[] | { [key: string]: ModuleResult }

export interface TorchModuleLoadOptions {
  /** 'cpu' (default), 'cuda' or 'cuda:N'. Tensor arguments must live on this device. */
  device?: string
  /** Convert floating parameters and buffers to this dtype after loading (e.g. 'bfloat16'). Default: as saved. */
  dtype?: DType
  /**
   * Weights stored apart as int8 (a bundle's quantized_weights file): each named parameter is
   * replaced by `values * scale` (float32, scale broadcast along dim 0) before the dtype conversion.
   */
  quantizedWeights?: readonly QuantizedWeight[]
}

/** One int8-stored weight: the parameter's name, its int8 values, one float32 scale per dim-0 slice. */
export interface QuantizedWeight {
  name: string
  values: Tensor
  scale: Tensor
}

function toNative(value: ModuleArgument, where: string): NativeArgument {
  if (value instanceof Tensor) return value.handle()
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value
  if (Array.isArray(value)) return value.map((item, i) => toNative(item, `${where}[${i}]`))
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toNative(v, `${where}.${k}`)]))
  }
  const kind = ArrayBuffer.isView(value) ? 'a typed array (wrap it with Tensor.from)' : typeof value
  throw new VideoVaeError('ERR_ARGUMENT', `${where}: cannot pass ${kind} to a TorchScript method`)
}

function fromNative(value: NativeResult): ModuleResult {
  if (types.isExternal(value)) return Tensor.fromHandle(value as NativeTensorHandle)
  if (Array.isArray(value)) return value.map(fromNative)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromNative(v as NativeResult)]))
  }
  return value as ModuleResult
}

export class TorchModule implements Disposable {
  #handle: NativeModuleHandle | null
  readonly device: string
  /** Names of the methods that call() accepts ('forward' among them when defined). */
  readonly methods: readonly string[]

  private constructor(handle: NativeModuleHandle) {
    this.#handle = handle
    const info = nativeSync(() => native().moduleInfo(handle))
    this.device = info.device
    this.methods = Object.freeze(info.methods)
  }

  /** Loads a TorchScript archive (torch.jit.save) onto a device, in eval mode. */
  static async load(path: string, options: TorchModuleLoadOptions = {}): Promise<TorchModule> {
    if (typeof path !== 'string') throw new VideoVaeError('ERR_ARGUMENT', 'path must be a string')
    const device = normalizeDevice(options.device)
    const dtype = options.dtype ?? null
    const quantized = options.quantizedWeights?.map((w): [string, NativeTensorHandle, NativeTensorHandle] => [
      w.name,
      w.values.handle(),
      w.scale.handle(),
    ])
    const handle = await runOnDevice(device, () => nativeAsync(() => native().moduleLoad(path, device, dtype, quantized ?? null)))
    return new TorchModule(handle)
  }

  get disposed(): boolean {
    return this.#handle === null
  }

  /** @internal The native handle; throws ERR_DISPOSED once disposed. */
  handle(): NativeModuleHandle {
    if (this.#handle === null) throw new VideoVaeError('ERR_DISPOSED', 'module was disposed')
    return this.#handle
  }

  forward(...args: ModuleArgument[]): Promise<ModuleResult> {
    return this.call('forward', ...args)
  }

  /** Runs a method by name. Lists and tuples come back as arrays, tensors as new Tensors. */
  async call(method: string, ...args: ModuleArgument[]): Promise<ModuleResult> {
    if (this.#handle === null) throw new VideoVaeError('ERR_DISPOSED', 'module was disposed')
    if (!this.methods.includes(method)) {
      throw new VideoVaeError('ERR_MODULE', `the module has no method '${method}' (it has: ${this.methods.join(', ')})`)
    }
    const handle = this.#handle
    const nativeArgs = args.map((arg, i) => toNative(arg, `argument ${i} of ${method}()`))
    const result = await runOnDevice(this.device, () => nativeAsync(() => native().moduleCall(handle, method, nativeArgs)))
    return fromNative(result)
  }

  /** Frees the module (after any running call). Idempotent. */
  dispose(): void {
    if (this.#handle === null) return
    const handle = this.#handle
    this.#handle = null
    nativeSync(() => native().moduleDispose(handle))
  }

  [Symbol.dispose](): void {
    this.dispose()
  }
}
