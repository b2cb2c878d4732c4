/**
 * Per-channel statistics of a latent dataset, what diffusion training normalises latents with
 * (VideoVAE+ ships none): the mean and standard deviation of every latent channel over all
 * committed items, frames and positions (population std, like numpy's default). For posterior
 * datasets they are taken over the stored means, and `sampleStd` adds the posterior variance:
 * the std of latents drawn z ~ N(mean, exp(logvar)), sqrt(Var[mean] + E[exp(logvar)]).
 * Sums run in float64.
 */
import path from 'node:path'

import { readSafetensors } from '../safetensors.js'
import { readDatasetIndex, type IndexEntry } from './dataset_index.js'
import { BatchError } from './errors.js'

export interface LatentStats {
  /** Which stored tensor the statistics are of: 'mean' (posterior datasets) or 'latent' (samples). */
  tensor: 'mean' | 'latent'
  items: number
  channels: number
  /** Values per channel that went in. */
  count: number
  mean: number[]
  std: number[]
  /** Std of posterior samples per channel (posterior datasets only). */
  sampleStd?: number[]
  /** Over all channels together: mean, std, and 1/std (the usual latent scale factor). */
  overall: { mean: number; std: number; scaleFactor: number }
}

/** Computes the statistics of every item committed in `outdir`'s index files. */
export async function datasetStats(outdir: string, onProgress?: (done: number, total: number) => void): Promise<LatentStats> {
  const entries = await readDatasetIndex(outdir)
  if (entries.length === 0) throw new BatchError('ERR_INDEX', `${outdir} has no committed items (no index*.jsonl lines)`)
  const tensor = 'mean' in entries[0]!.shapes ? 'mean' : 'latent'
  const channels = entries[0]!.shapes[tensor]?.[0]
  if (channels === undefined) throw new BatchError('ERR_INDEX', `${outdir}: index entries name neither 'mean' nor 'latent'`)
  const sum = new Float64Array(channels)
  const sumSq = new Float64Array(channels)
  const sumVar = new Float64Array(channels)
  let count = 0
  const byShard = new Map<string, IndexEntry[]>()
  for (const e of entries) byShard.set(e.shard, [...(byShard.get(e.shard) ?? []), e])
  let done = 0
  for (const [shard, items] of byShard) {
    const { tensors } = await readSafetensors(path.join(outdir, shard)).catch((err: unknown) => {
      throw new BatchError(
        'ERR_INDEX',
        `${shard} of ${items.length} committed item(s) (${items[0]!.id}...) does not read: ${(err as Error).message}; run \`videovae batch ... --verify\` on ${outdir} to encode them again`,
        { cause: err },
      )
    })
    try {
      for (const e of items) {
        const get = async (name: string): Promise<Float32Array | undefined> => {
          const t = tensors[`${e.offset}/${name}`]
          if (t === undefined) return undefined
          if (t.shape[0] !== channels) throw new BatchError('ERR_INDEX', `${shard}: item ${e.id} has ${t.shape[0]} channels, others ${channels}`)
          return (await t.data()) as Float32Array
        }
        const values = await get(tensor)
        if (values === undefined) throw new BatchError('ERR_INDEX', `${shard} lacks the tensor ${e.offset}/${tensor} of item ${e.id}`)
        const logvar = tensor === 'mean' ? await get('logvar') : undefined
        const plane = values.length / channels
        for (let c = 0; c < channels; c++) {
          let s = 0
          let s2 = 0
          let v = 0
          for (let i = c * plane; i < (c + 1) * plane; i++) {
            const x = values[i]!
            s += x
            s2 += x * x
            if (logvar) v += Math.exp(logvar[i]!)
          }
          sum[c] += s
          sumSq[c] += s2
          sumVar[c] += v
        }
        count += plane
        onProgress?.(++done, entries.length)
      }
    } finally {
      for (const t of Object.values(tensors)) t.dispose()
    }
  }
  const mean = Array.from(sum, (s) => s / count)
  const variance = Array.from(sumSq, (s2, c) => Math.max(0, s2 / count - mean[c]! ** 2))
  const overallMean = mean.reduce((a, b) => a + b, 0) / channels
  const overallVar = Math.max(0, sumSq.reduce((a, b) => a + b, 0) / (count * channels) - overallMean ** 2)
  const stats: LatentStats = {
    tensor,
    items: entries.length,
    channels,
    count,
    mean,
    std: variance.map(Math.sqrt),
    overall: { mean: overallMean, std: Math.sqrt(overallVar), scaleFactor: 1 / Math.sqrt(overallVar) },
  }
  if (tensor === 'mean') stats.sampleStd = variance.map((v, c) => Math.sqrt(v + sumVar[c]! / count))
  return stats
}
