// The int8 side file of a quantized bundle (python/videovae/quantize.py): per stage, each
// weight's int8 values and float32 scales, keyed "<stage>/<parameter>.q" and ".scale"; and the
// splitting of such pairs from other tensors, shared with AOTInductor bundles' int8 side files.
import { bundleError, STAGE_NAMES, type StageName } from './bundle.js'
import { VideoVaeError } from './errors.js'
import type { QuantizedWeight } from './module.js'
import { readSafetensors } from './safetensors.js'
import type { Tensor } from './tensor.js'

const ADDON_CODES = new Set(['ERR_ADDON_NOT_FOUND', 'ERR_ADDON_LOAD', 'ERR_LIBTORCH_NOT_FOUND', 'ERR_LIBTORCH_MISMATCH'])

export type StageWeights = Record<StageName, QuantizedWeight[]>

/** Reads the side file into per-stage weight lists; the caller disposes them (disposeWeights). */
export async function readQuantizedWeights(file: string): Promise<StageWeights> {
  const { tensors } = await readSafetensors(file).catch((error: unknown) => {
    // A missing libtorch or addon is not the bundle's fault: keep its code and its fix.
    if (error instanceof VideoVaeError && ADDON_CODES.has(error.code)) throw error
    throw bundleError(`quantized weights ${file}: ${(error as Error).message}`, error)
  })
  const byStage = Object.fromEntries(STAGE_NAMES.map((s) => [s, [] as QuantizedWeight[]])) as StageWeights
  try {
    const { weights, rest } = splitQuantized(tensors, `quantized weights ${file}`)
    const stray = Object.keys(rest)[0]
    if (stray !== undefined) {
      const what = stray.endsWith('.scale') ? 'has no values (.q)' : 'is unexpected (expected <stage>/<parameter>.q with its .scale)'
      throw bundleError(`quantized weights ${file}: "${stray}" ${what}`)
    }
    for (const w of weights) {
      const slash = w.name.indexOf('/')
      const stage = w.name.slice(0, slash) as StageName
      if (slash < 0 || !byStage[stage]) throw bundleError(`quantized weights ${file}: unexpected entry "${w.name}.q" (expected <stage>/<parameter>.q)`)
      byStage[stage].push({ ...w, name: w.name.slice(slash + 1) })
    }
  } catch (error) {
    for (const t of Object.values(tensors)) t.dispose()
    throw error
  }
  return byStage
}

/**
 * Splits the int8 weights of a side file (scheme int8-absmax-dim0: "<name>.q" int8 values with
 * their "<name>.scale") from its other tensors. A .q without its .scale is ERR_BUNDLE (`what`
 * names the file); a .scale without a .q stays among the rest. Disposes nothing.
 */
export function splitQuantized(tensors: Readonly<Record<string, Tensor>>, what: string): { weights: QuantizedWeight[]; rest: Record<string, Tensor> } {
  const weights: QuantizedWeight[] = []
  const rest: Record<string, Tensor> = {}
  for (const [key, t] of Object.entries(tensors)) {
    if (key.endsWith('.q')) {
      const scale = tensors[key.slice(0, -2) + '.scale']
      if (!scale) throw bundleError(`${what}: "${key}" has no scale (${key.slice(0, -2)}.scale)`)
      weights.push({ name: key.slice(0, -2), values: t, scale })
    } else if (!(key.endsWith('.scale') && tensors[key.slice(0, -6) + '.q'])) {
      rest[key] = t
    }
  }
  return { weights, rest }
}

export function disposeWeights(weights: StageWeights | null): void {
  for (const list of Object.values(weights ?? {})) {
    for (const w of list) {
      w.values.dispose()
      w.scale.dispose()
    }
  }
}
