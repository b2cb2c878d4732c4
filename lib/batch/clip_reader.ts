/**
 * Reads one manifest item into uint8 frames `[T,H,W,3]`, checked against what the model and
 * the dataset need, so a bad clip fails here with a clear code (ERR_NOT_FOUND,
 * ERR_VIDEO_CORRUPT, ERR_NO_FRAMES, ERR_TOO_SHORT, ERR_SHAPE) before it reaches the model.
 */
import { readClipWithPlan } from '../io/read_clip.js'
import type { ReadPlan, ReadVideoOptions } from '../io/video_reader.js'
import { VideoVaeError } from '../errors.js'
import { checkMemoryLimit, plannedFrames, type MemoryLimit } from '../memory_limit.js'
import type { TilingOptions } from '../vae_options.js'
import type { VideoVAE } from '../vae.js'
import { BatchError } from './errors.js'
import type { BatchItem } from './manifest.js'

export interface ClipFrames {
  frames: Uint8Array
  shape: [number, number, number, 3]
  /** Exact frame rate of the frames read ('25' when the file has none). */
  fps: string
  /** Frame size before --fit pad. */
  width: number
  height: number
}

export interface ClipReadOptions {
  /** How to read: fit, start, count (--frames), fps, maxSize, trusted (--trusted-input). */
  read: Pick<ReadVideoOptions, 'fit' | 'start' | 'count' | 'fps' | 'maxSize' | 'trusted'>
  /** Fewest frames a clip may have (the model's minimum, or --frames when given). */
  minFrames: number
  /** H and W must be multiples of this. */
  hwMultiple: number
  /**
   * Called with the read plan after the probe, before any frame is decoded: may throw to refuse
   * the clip (the memory limit, see {@link clipMemoryCheck}).
   */
  checkPlan?: (plan: ReadPlan) => void
  signal?: AbortSignal
}

/**
 * The memory-limit check of one clip (ERR_LIMIT), from its read plan: the whole clip, which is
 * read into memory first, and the model job of one clip at the planned size, in the run's
 * chunks and tiles.
 */
export function clipMemoryCheck(
  vae: VideoVAE,
  encode: { chunkFrames: number; tile?: TilingOptions; memoryLimit?: MemoryLimit },
  read: ClipReadOptions['read'],
  path: string,
): (plan: ReadPlan) => void {
  return (plan) => {
    const frames = Math.max(1, plannedFrames(plan, read) ?? Math.max(encode.chunkFrames, vae.info.rules.tMin))
    checkMemoryLimit(
      vae.info,
      { batch: 1, frames, height: plan.height, width: plan.width, heldFrames: frames },
      { image: false, ...(encode.chunkFrames > 0 ? { chunkFrames: encode.chunkFrames } : {}), ...(encode.tile ? { tile: encode.tile } : {}) },
      { ...(encode.memoryLimit === undefined ? {} : { limit: encode.memoryLimit }), device: vae.device, subject: path, style: 'cli' },
    )
  }
}

/** Reads the whole clip (at most `read.count` frames) in one buffer. */
export async function readClip(item: BatchItem, options: ClipReadOptions): Promise<ClipFrames> {
  const clip = await readClipWithPlan(item.path, { ...options.read, chunkFrames: 32, ...(options.signal ? { signal: options.signal } : {}) }, (p) => {
    if (p.width % options.hwMultiple !== 0 || p.height % options.hwMultiple !== 0) {
      throw new VideoVaeError(
        'ERR_SHAPE',
        `${item.path}: frames are ${p.width}x${p.height}, not multiples of ${options.hwMultiple}; use --fit pad, crop or resize`,
      )
    }
    options.checkPlan?.(p)
  })
  const t = clip.shape[0]
  if (t < options.minFrames) {
    throw new BatchError('ERR_TOO_SHORT', `${item.path}: ${t} frame(s), fewer than the ${options.minFrames} needed`)
  }
  const fraction = options.read.fps !== undefined ? String(options.read.fps) : clip.plan.info.fpsFraction
  return {
    frames: clip.frames,
    shape: clip.shape,
    fps: fraction === '0/1' || fraction === '' ? '25' : fraction,
    width: clip.plan.decodedWidth,
    height: clip.plan.decodedHeight,
  }
}
