// The int8 side file of a quantized bundle (python/videovae/quantize.py): per stage, each
// weight's int8 values and float32 scales, keyed "<stage>/<parameter>.q" and ".scale".
import { bundleError, STAGE_NAMES, type StageName } from './bundle.js'
import { VideoVaeError } from './errors.js'
import type { QuantizedWeight } from './module.js'
import { readSafetensors } from './safetensors.js'

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
    for (const [key, values] of Object.entries(tensors)) {
      if (key.endsWith('.scale')) {
        if (tensors[key.slice(0, -6) + '.q']) continue
        throw bundleError(`quantized weights ${file}: "${key}" has no values (.q)`)
      }
      const slash = key.indexOf('/')
      const stage = key.slice(0, slash) as StageName
      const scale = tensors[key.slice(0, -2) + '.scale']
      if (slash < 0 || !key.endsWith('.q') || !byStage[stage] || !scale) {
        throw bundleError(`quantized weights ${file}: unexpected entry "${key}" (expected <stage>/<parameter>.q with its .scale)`)
      }
      byStage[stage].push({ name: key.slice(slash + 1, -2), values, scale })
    }
  } catch (error) {
    for (const t of Object.values(tensors)) t.dispose()
    throw error
  }
  return byStage
}

export function disposeWeights(weights: StageWeights | null): void {
  for (const list of Object.values(weights ?? {})) {
    for (const w of list) {
      w.values.dispose()
      w.scale.dispose()
    }
  }
}
