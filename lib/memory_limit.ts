/**
 * The memory a model job will need, estimated from its shape alone (the model of
 * `videovae info --size`), and the limit it is checked against before anything large is
 * allocated: like sharp's `limitInputPixels`, a small file that decodes to huge frames (a few
 * KB of H.264 at 8192x8192) fails fast with ERR_LIMIT instead of growing the process by gigabytes.
 */
import { statSync } from 'node:fs'
import os from 'node:os'

import type { BundleInfo } from './bundle.js'
import { VideoVaeError } from './errors.js'
import type { ReadPlan } from './io/video_reader.js'
import { paddedSize } from './rules.js'
import type { TilingOptions } from './vae_options.js'

const MB = 1024 * 1024
const GB = 1024 * MB

/**
 * The floor of the default limit on a job's estimated peak memory: 6 GiB, what a 2-core machine
 * with 8 GB survives next to the OS and the process itself.
 */
export const DEFAULT_MEMORY_LIMIT = 6 * GB

/**
 * The default limit: 3/4 of the memory this process may use (the cgroup limit where one is set,
 * else the machine's), but at least {@link DEFAULT_MEMORY_LIMIT}. A fixed 6 GiB would refuse jobs
 * that a larger machine runs easily; 3/4 keeps a job from pushing the machine into swap or the
 * OOM killer.
 */
export function defaultMemoryLimit(): number {
  const constrained = typeof process.constrainedMemory === 'function' ? (process.constrainedMemory() ?? 0) : 0
  const total = os.totalmem()
  const usable = constrained > 0 && constrained < total ? constrained : total
  return Math.max(DEFAULT_MEMORY_LIMIT, Math.floor(usable * 0.75))
}

/** A limit in bytes; `false` or 0 turn the check off. */
export type MemoryLimit = number | false

/** The input of one job: batch items, frames, frame size (pixels). */
export interface JobSize {
  batch: number
  frames: number
  height: number
  width: number
  /**
   * Frames held in memory as uint8 RGB besides the job's own buffers, e.g. a whole clip that is
   * read before it is encoded in chunks. Default 0.
   */
  heldFrames?: number
}

/** How the job runs: the image path, frames per chunk (0 or absent: all at once), tiles. */
export interface JobLayout {
  image: boolean
  chunkFrames?: number
  tile?: TilingOptions
}

const weightBytes = new WeakMap<BundleInfo, number>()

/** Bytes of the bundle's weight files (int8-stored weights count as the float32 they become). */
function bundleWeights(info: BundleInfo): number {
  let bytes = weightBytes.get(info)
  if (bytes === undefined) {
    bytes = 0
    for (const file of Object.values(info.files)) bytes += statSync(file).size
    // int8-stored weights (one byte each) widen to float32 at load: twice what float16 ones do.
    if (info.quantization) bytes += 2 * statSync(info.quantization.file).size
    weightBytes.set(info, bytes)
  }
  return bytes
}

/**
 * The rough peak resident memory of one encode+decode on the CPU, per term (bytes), as described
 * in `videovae info --help`; the per-item terms scale with the batch.
 */
export function memoryEstimate(info: BundleInfo, size: JobSize, layout: JobLayout): Record<string, number> {
  const { batch } = size
  // The size the model runs on (padded to the bundle's grid) and its latent tokens per frame.
  const { frames: tp, height: hp, width: wp } = paddedSize(info, size, layout.image)
  const frames = layout.chunkFrames ? Math.min(tp, layout.chunkFrames) : tp
  const th = layout.tile ? Math.min(hp, layout.tile.size) : hp
  const tw = layout.tile ? Math.min(wp, layout.tile.size) : wp
  const tokens = (th / info.compression.h) * (tw / info.compression.w)
  const terms = {
    weights: bundleWeights(info) * 2.2,
    runtime: 300 * MB,
    frameBuffers: batch * (frames * (1 + 4 + 4 + 1) + (size.heldFrames ?? 0)) * hp * wp * 3,
    activations: batch * 64 * info.widths.ch * frames * th * tw,
    // Fused SDPA (fast mode) keeps no [tokens, tokens] logits: q, k, v and the output only.
    attention:
      batch *
      (info.attention === 'sdpa'
        ? 4 * 4 * frames * tokens * info.widths.ch * info.widths.chMult[info.widths.chMult.length - 1]!
        : info.attention === 'chunked'
          ? Math.min(8 * frames * tokens * tokens, 700 * MB)
          : 8 * frames * tokens * tokens),
  }
  return { ...terms, total: Object.values(terms).reduce((a, b) => a + b, 0) }
}

/** The bytes that count against the limit: on CUDA, activations live in GPU memory (whose exhaustion is a clean error). */
function hostBytes(estimate: Record<string, number>, device: string): number {
  return device.startsWith('cuda') ? estimate.total! - estimate.activations! - estimate.attention! : estimate.total!
}

/**
 * The limit in bytes (Infinity: none) from an option value.
 * @throws VideoVaeError ERR_ARGUMENT for anything but a number >= 0 or false.
 */
export function resolveMemoryLimit(limit: MemoryLimit | undefined): number {
  if (limit === undefined) return defaultMemoryLimit()
  if (limit === false || limit === 0) return Infinity
  if (typeof limit !== 'number' || Number.isNaN(limit) || limit < 0) {
    throw new VideoVaeError('ERR_ARGUMENT', `memoryLimit must be a number of bytes >= 0 or false, got ${String(limit)}`)
  }
  return limit
}

/** `1.5 GB` / `300 MB`. */
export function formatBytes(n: number): string {
  return n >= GB ? `${(n / GB).toFixed(1)} GB` : `${Math.round(n / MB)} MB`
}

/** How the advice is phrased: API option names or CLI flags. */
export type AdviceStyle = 'api' | 'cli'

/** Options of {@link checkMemoryLimit}. */
export interface MemoryCheckOptions {
  /** The limit (default {@link defaultMemoryLimit}; false or 0: none). */
  limit?: MemoryLimit
  /** The model's device ('cpu', 'cuda:0'...). Default 'cpu'. */
  device?: string
  /** What is checked, for the message (a file name). Default: 'the input'. */
  subject?: string
  /** Option names (api) or flags (cli) in the advice. Default 'api'. */
  style?: AdviceStyle
}

const TILE_SIZES = [1024, 768, 512, 384, 256, 192, 128, 64]

/** The largest tile (and, if needed, chunk) that brings the job under the limit, if any. */
function fittingLayout(info: BundleInfo, size: JobSize, layout: JobLayout, limit: number, device: string): JobLayout | undefined {
  const side = Math.max(size.height, size.width)
  // Advice must pass the bundle's rules: chunks of two and one smallest valid chunk (8 and 4), tiles on the grid.
  const least = Math.ceil(info.rules.tMin / info.rules.tMultiple) * info.rules.tMultiple
  const chunks = layout.image ? [layout.chunkFrames || size.frames, 1] : [layout.chunkFrames || size.frames, 2 * least, least]
  for (const chunkFrames of chunks) {
    for (const tile of TILE_SIZES) {
      if (tile >= side || (layout.tile && tile >= layout.tile.size) || tile % info.rules.hwMultiple !== 0) continue
      const candidate: JobLayout = { image: layout.image, chunkFrames, tile: { size: tile } }
      if (hostBytes(memoryEstimate(info, size, candidate), device) <= limit) return candidate
    }
  }
  return undefined
}

/**
 * Fails when the job's estimated peak memory exceeds the limit, before any of it is allocated.
 * The message gives the estimate, and a tile size (and chunk) that would fit, or else a smaller
 * frame size, and how to raise the limit.
 * @throws VideoVaeError ERR_LIMIT.
 */
export function checkMemoryLimit(info: BundleInfo, size: JobSize, layout: JobLayout, options: MemoryCheckOptions = {}): void {
  const limit = resolveMemoryLimit(options.limit)
  if (limit === Infinity) return
  const device = options.device ?? 'cpu'
  const estimate = memoryEstimate(info, size, layout)
  const needed = hostBytes(estimate, device)
  if (needed <= limit) return
  const cli = options.style === 'cli'
  const fit = fittingLayout(info, size, layout, limit, device)
  let advice: string
  if (fit) {
    const chunkChanged = fit.chunkFrames !== (layout.chunkFrames || size.frames)
    advice = cli
      ? `run it in tiles (--tile ${fit.tile!.size}${chunkChanged ? ` --chunk-frames ${fit.chunkFrames}` : ''})`
      : `run it in tiles (tile: { size: ${fit.tile!.size} }${chunkChanged ? `, chunkFrames: ${fit.chunkFrames}` : ''})`
  } else {
    advice = cli ? 'read it at a smaller size (--max-size 1280x720)' : 'use smaller frames'
  }
  const suggested = `${Math.ceil(needed / GB)}GB`
  const raise = cli ? `--memory-limit ${suggested}, 0 for none` : `memoryLimit: ${Math.ceil(needed / GB)} * 2 ** 30, false for none`
  const shape = `${size.batch > 1 ? `${size.batch} x ` : ''}${size.frames}x${size.height}x${size.width}`
  throw new VideoVaeError(
    'ERR_LIMIT',
    `${options.subject ?? 'the input'} (${shape}${layout.chunkFrames ? `, chunks of ${layout.chunkFrames} frames` : ''}` +
      `${layout.tile ? `, tiles of ${layout.tile.size}` : ''}) needs an estimated ${formatBytes(needed)}, above the memory limit of ` +
      `${formatBytes(limit)}; ${advice}, or raise the limit (${raise})`,
  )
}

/**
 * Frames a read will produce, known from the probe before any is decoded: the container's count
 * (or duration x rate), after `start`, at most `count`; null when the probe cannot tell.
 */
export function plannedFrames(plan: ReadPlan, read: { start?: number; count?: number; fps?: number | string }): number | null {
  const { info } = plan
  let total: number | null = read.fps === undefined ? info.frameCount : null
  if (total === null && info.durationSeconds !== null && plan.fps > 0) total = Math.ceil(info.durationSeconds * plan.fps)
  if (total !== null) total = Math.max(0, total - (read.start ?? 0))
  if (read.count !== undefined) total = total === null ? read.count : Math.min(total, read.count)
  return total
}
