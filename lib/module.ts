/**
 * TorchModule: a TorchScript module, or an AOTInductor package (.pt2), loaded onto one device.
 * Every call runs on a worker thread under inference mode; arguments are checked against the
 * method's schema (TorchScript) or against the load's input specs (AOTInductor, lib/aoti_inputs.ts) first.
 */
import { types } from 'node:util'

import { toNativeSpecs, type AotiInputSpec } from './aoti_inputs.js'
import { normalizeDevice } from './device.js'
import { deviceConcurrency, runOnDevice } from './device_queue.js'
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
   * AOTInductor packages: named by constant FQN, rebuilt the same way in the constant's dtype
   * and handed over with `constants` (an AOTI bundle's int8 side file).
   */
  quantizedWeights?: readonly QuantizedWeight[]
  /**
   * AOTInductor packages (.pt2) only: model instances in the package's runner pool, i.e. how
   * many calls run at once (more wait for a free one). Default: the device's concurrency
   * (setDeviceConcurrency; cpu: libuv pool size - 1, cuda: 1).
   */
  runners?: number
  /**
   * AOTInductor packages only: the weights of a package exported without them
   * (package_constants_in_so=False), by constant FQN, handed over with load_constants. A
   * float16 tensor for a constant of another floating dtype is converted to that dtype.
   */
  constants?: Readonly<Record<string, Tensor>>
  /**
   * AOTInductor packages only: what each input must be, in call order, checked before every
   * run (rank, each dim, dtype; ERR_SHAPE / ERR_DTYPE / ERR_ARGUMENT for the count). Dims: a
   * number, 'k' (any size >= 1) or '<m>k' (multiples of m), e.g. `[{ shape: ['k', 3, '4k',
   * '8k', '8k'] }]`; dtype defaults to the package's. libtorch exposes no such record of the
   * package, and its own generated checks stay off (they refuse size 1): without `inputs`
   * only the count, device and floating dtype are checked, and a wrong shape can read out of bounds.
   */
  inputs?: readonly AotiInputSpec[]
}

/** Paths that load as AOTInductor packages rather than TorchScript archives. */
export const isAotiPackage = (file: string): boolean => file.endsWith('.pt2')

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
  /** 'torchscript', or 'aoti' for an AOTInductor package (one method, forward: tensors in, an array of tensors out). */
  readonly engine: 'torchscript' | 'aoti'

  private constructor(handle: NativeModuleHandle) {
    this.#handle = handle
    const info = nativeSync(() => native().moduleInfo(handle))
    this.device = info.device
    this.methods = Object.freeze(info.methods)
    this.engine = info.engine
  }

  /**
   * Loads a TorchScript archive (torch.jit.save) onto a device, in eval mode, or an AOTInductor
   * package (a `.pt2` path, torch._inductor.aoti_compile_and_package) compiled for that device.
   */
  static async load(path: string, options: TorchModuleLoadOptions = {}): Promise<TorchModule> {
    if (typeof path !== 'string') throw new VideoVaeError('ERR_ARGUMENT', 'path must be a string')
    const device = normalizeDevice(options.device)
    if (isAotiPackage(path)) return TorchModule.#loadPackage(path, device, options)
    if (options.runners !== undefined || options.constants !== undefined || options.inputs !== undefined) {
      throw new VideoVaeError('ERR_ARGUMENT', 'runners, constants and inputs are for AOTInductor packages (.pt2) only')
    }
    const dtype = options.dtype ?? null
    const quantized = options.quantizedWeights?.map((w): [string, NativeTensorHandle, NativeTensorHandle] => [w.name, w.values.handle(), w.scale.handle()])
    const handle = await runOnDevice(device, () => nativeAsync(() => native().moduleLoad(path, device, dtype, quantized ?? null)))
    return new TorchModule(handle)
  }

  static async #loadPackage(path: string, device: string, options: TorchModuleLoadOptions): Promise<TorchModule> {
    if (options.dtype !== undefined) {
      throw new VideoVaeError('ERR_ARGUMENT', 'an AOTInductor package runs in the dtype it was exported in: no dtype')
    }
    const runners = options.runners ?? deviceConcurrency(device === 'cpu' ? 'cpu' : 'cuda')
    if (!Number.isInteger(runners) || runners < 1 || runners > 1024) {
      throw new VideoVaeError('ERR_ARGUMENT', `runners must be an integer from 1 to 1024, got ${String(runners)}`)
    }
    let constants: Record<string, NativeTensorHandle> | null = null
    if (options.constants !== undefined) {
      constants = {}
      for (const [name, t] of Object.entries(options.constants)) {
        if (!(t instanceof Tensor)) throw new VideoVaeError('ERR_ARGUMENT', `constants.${name} must be a Tensor`)
        constants[name] = t.handle()
      }
    }
    const quantized = options.quantizedWeights?.map((w): [string, NativeTensorHandle, NativeTensorHandle] => [w.name, w.values.handle(), w.scale.handle()])
    const inputs = options.inputs === undefined ? null : toNativeSpecs(options.inputs, 'inputs', 'ERR_ARGUMENT')
    const aoti = { runners, constants, quantized: quantized ?? null, inputs }
    const handle = await runOnDevice(device, () => nativeAsync(() => native().moduleLoad(path, device, null, null, aoti)))
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
