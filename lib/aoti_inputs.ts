/**
 * Input specs of AOTInductor packages. libtorch exposes no record of the shapes a package
 * accepts, and the package's own generated checks refuse size 1 on every dynamic dim (which it
 * computes correctly), so the native side checks each input against these specs before a run:
 * rank, each dim, dtype. Dims: a number = that size, 'k' = any size >= 1, '4k' / '8k' (any
 * '<m>k') = any positive multiple of m. Shared by TorchModule.load's `inputs` and bundle
 * manifests (aoti.shapes).
 */
import { isDType, type DType } from './dtype.js'
import type { NativeAotiInputSpec } from './native.js'
import { VideoVaeError, type ErrorCode } from './errors.js'

/** One dim: a fixed size, or 'k' / '<m>k'. */
export type AotiDim = number | string

/** What a package accepts for one input. */
export interface AotiInputSpec {
  /** For messages only. */
  name?: string
  shape: readonly AotiDim[]
  /** Default: the package's floating dtype (what most of its weights are). */
  dtype?: DType
}

/** One dim word to its native number; null when it is not one. */
function parseDim(dim: unknown): number | null {
  if (typeof dim === 'number') return Number.isSafeInteger(dim) && dim > 0 ? dim : null
  if (typeof dim !== 'string') return null
  const m = /^(\d*)k$/.exec(dim)
  if (!m) return null
  const multiple = m[1] === '' ? 1 : Number(m[1])
  return Number.isSafeInteger(multiple) && multiple > 0 ? -multiple : null
}

/** Validates specs (`code` on a bad one: ERR_ARGUMENT for callers, ERR_BUNDLE for manifests). */
export function toNativeSpecs(specs: unknown, where: string, code: ErrorCode): NativeAotiInputSpec[] {
  if (!Array.isArray(specs)) throw new VideoVaeError(code, `${where} must be an array of { shape, dtype? }`)
  return specs.map((spec: unknown, i) => {
    const at = `${where}[${i}]`
    if (typeof spec !== 'object' || spec === null) throw new VideoVaeError(code, `${at} must be an object { shape, dtype? }`)
    const { name, shape, dtype } = spec as Record<string, unknown>
    if (!Array.isArray(shape)) throw new VideoVaeError(code, `${at}.shape must be an array of sizes, 'k' or '<m>k'`)
    const dims = shape.map((d: unknown) => {
      const n = parseDim(d)
      if (n === null) throw new VideoVaeError(code, `${at}.shape: ${JSON.stringify(d)} is not a size > 0, 'k' (any size >= 1) or '<m>k' (multiples of m)`)
      return n
    })
    if (dtype !== undefined && !isDType(dtype)) throw new VideoVaeError(code, `${at}.dtype: unknown dtype ${JSON.stringify(dtype)}`)
    if (name !== undefined && typeof name !== 'string') throw new VideoVaeError(code, `${at}.name must be a string`)
    return { name: name ?? '', dims, dtype: dtype ?? null }
  })
}
