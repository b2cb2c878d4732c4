/**
 * Helpers of the batch tests: tiny clips of different content, manifests, the Python reader
 * documented in the README (run as written, with the .venv's safetensors), and reference
 * latents from VideoVAE.encode on the same clips.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { readVideoFrames } from '../../lib/io/read_clip.js'
import { Tensor } from '../../lib/tensor.js'
import type { VideoVAE } from '../../lib/vae.js'
import { makeVideo, PYTHON, ROOT } from '../cli/helpers.js'

/** lavfi sources, so that every clip has different content (a mixed-up offset would show). */
const SOURCES = ['testsrc2', 'testsrc', 'mandelbrot', 'smptebars', 'rgbtestsrc', 'yuvtestsrc', 'life', 'cellauto']

/** n clips `clip<i>.mp4` of 8 frames at 32x32 (the tiniest the default model takes). */
export function makeClips(dir: string, n: number, { frames = 8, size = 32 } = {}): string[] {
  fs.mkdirSync(dir, { recursive: true })
  return Array.from({ length: n }, (_, i) =>
    makeVideo(path.join(dir, `clip${i}.mp4`), { width: size, height: size, frames, fps: 8, source: SOURCES[i % SOURCES.length]! }),
  )
}

/** A clip whose container is cut short: ffprobe refuses it. */
export function makeCorrupt(file: string, from: string): string {
  fs.writeFileSync(file, fs.readFileSync(from).subarray(0, 600))
  return file
}

/** The Python reader of the README's "Batch encoding" section, as documented. */
export function pythonReader(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Batch encoding'))
  const m = /```python\n([\s\S]*?)```/.exec(section)
  if (m === null) throw new Error('README has no Python reader in its Batch encoding section')
  return m[1]!
}

export interface ReadBack {
  entries: Record<string, unknown>[]
  tensors: Record<string, Record<string, { shape: number[]; data: number[] }>>
}

/** Every committed item of `outdir`, read by the README's Python reader. */
export function readWithPython(outdir: string): ReadBack {
  const script = `${pythonReader()}
import sys
entries, tensors = [], {}
for e, ts in read_latents(sys.argv[1]):
    entries.append(e)
    tensors[e["id"]] = {k: {"shape": list(v.shape), "data": v.astype("float64").ravel().tolist()} for k, v in ts.items()}
json.dump({"entries": entries, "tensors": tensors}, sys.stdout)
`
  const out = execFileSync(PYTHON, ['-c', script, outdir], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  return JSON.parse(out) as ReadBack
}

/** numpy's per-channel statistics of the stored latents (what `videovae stats` must equal). */
export function numpyStats(outdir: string): { mean: number[]; std: number[]; sampleStd: number[] } {
  const script = `${pythonReader()}
import sys, numpy as np
items = list(read_latents(sys.argv[1]))
means = np.concatenate([ts["mean"].reshape(ts["mean"].shape[0], -1) for _, ts in items], axis=1).astype(np.float64)
variances = np.concatenate([np.exp(ts["logvar"].astype(np.float64)).reshape(ts["logvar"].shape[0], -1) for _, ts in items], axis=1)
json.dump({"mean": means.mean(axis=1).tolist(), "std": means.std(axis=1).tolist(),
           "sampleStd": np.sqrt(means.var(axis=1) + variances.mean(axis=1)).tolist()}, sys.stdout)
`
  return JSON.parse(execFileSync(PYTHON, ['-c', script, outdir], { encoding: 'utf8' })) as { mean: number[]; std: number[]; sampleStd: number[] }
}

/** What VideoVAE.encode gives for a clip read like `videovae batch` reads it (fit pad, chunks of 16). */
export async function referenceLatents(vae: VideoVAE, clip: string, sample?: number, caption?: string): Promise<Record<string, Float32Array>> {
  const { frames, shape } = await readVideoFrames(clip, { fit: 'pad' })
  const video = Tensor.from(frames, [1, ...shape], { dtype: 'uint8' })
  try {
    const post = await vae.encode(video, {
      posterior: true,
      chunkFrames: 16,
      ...(sample === undefined ? {} : { sample: { seed: sample } }),
      ...(caption === undefined ? {} : { caption }),
    })
    const out = {
      mean: (await post.mean.data()) as Float32Array,
      logvar: (await post.logvar.data()) as Float32Array,
      latent: (await post.latent.data()) as Float32Array,
    }
    post.mean.dispose()
    post.logvar.dispose()
    post.latent.dispose()
    return out
  } finally {
    video.dispose()
  }
}

/** Largest |a - b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

/** The lines of a JSONL file. */
export function jsonl<T = Record<string, unknown>>(file: string): T[] {
  if (!fs.existsSync(file)) return []
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T)
}

/**
 * Batched and single-clip encodes run different conv kernels: they agree to float32 rounding,
 * not bit for bit. Measured up to 2.5e-5 on the default model's latents, whose values reach
 * |30| (logvar is clamped at 30, where one float32 ulp is 1.9e-6); 3e-4 is about 150 ulps there.
 */
export const BATCH_TOLERANCE = 3e-4
