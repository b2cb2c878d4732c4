/**
 * dtypes and the typed arrays that carry them. float16/bfloat16 travel as raw bits in a
 * Uint16Array (Node 20 has no Float16Array); bool as 0/1 bytes in a Uint8Array; int64 as
 * BigInt64Array.
 */
import { VideoVaeError } from './errors.js'

export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'uint8' | 'int8' | 'int16' | 'int32' | 'int64' | 'bool'

export type TensorArray = Float32Array | Float64Array | Uint16Array | Uint8Array | Uint8ClampedArray | Int8Array | Int16Array | Int32Array | BigInt64Array

type TypedArrayConstructor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorArray }

interface DTypeSpec {
  array: TypedArrayConstructor
  bytes: number
}

export const DTYPES: Readonly<Record<DType, DTypeSpec>> = {
  float32: { array: Float32Array, bytes: 4 },
  float64: { array: Float64Array, bytes: 8 },
  float16: { array: Uint16Array, bytes: 2 },
  bfloat16: { array: Uint16Array, bytes: 2 },
  uint8: { array: Uint8Array, bytes: 1 },
  int8: { array: Int8Array, bytes: 1 },
  int16: { array: Int16Array, bytes: 2 },
  int32: { array: Int32Array, bytes: 4 },
  int64: { array: BigInt64Array, bytes: 8 },
  bool: { array: Uint8Array, bytes: 1 },
}

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.hasOwn(DTYPES, value)
}

export function checkDType(value: unknown): DType {
  if (!isDType(value)) {
    throw new VideoVaeError('ERR_DTYPE', `unknown dtype ${JSON.stringify(value)} (use one of ${Object.keys(DTYPES).join(', ')})`)
  }
  return value
}

/** The dtype a typed array holds when none is given; Uint16Array is ambiguous (float16 or bfloat16). */
export function inferDType(data: TensorArray): DType {
  if (data instanceof Float32Array) return 'float32'
  if (data instanceof Float64Array) return 'float64'
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) return 'uint8'
  if (data instanceof Int8Array) return 'int8'
  if (data instanceof Int16Array) return 'int16'
  if (data instanceof Int32Array) return 'int32'
  if (data instanceof BigInt64Array) return 'int64'
  if (data instanceof Uint16Array) {
    throw new VideoVaeError('ERR_DTYPE', "a Uint16Array holds float16 or bfloat16 bits: pass { dtype: 'float16' } or { dtype: 'bfloat16' }")
  }
  throw new VideoVaeError('ERR_DTYPE', `cannot make a tensor from ${Object.prototype.toString.call(data)}`)
}

/** Whether `data` is the typed array that carries `dtype` (Uint8ClampedArray counts as Uint8Array). */
export function arrayCarries(data: TensorArray, dtype: DType): boolean {
  const expected = DTYPES[dtype].array
  return data instanceof expected || (expected === Uint8Array && data instanceof Uint8ClampedArray)
}
