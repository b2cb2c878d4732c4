/**
 * Frame buffers `[T,H,W,3]` in plain JS (cropping padding off, side-by-side composition, the
 * float layout of LPIPS) and writing frame streams to videos, sequences or images.
 */
import path from 'node:path'

import { writeImage } from '../io/image.js'
import { isImageSequencePath } from '../io/image_sequence.js'
import { writeVideo, type FrameBatch } from '../io/video_writer.js'
import type { Context } from './context.js'
import { CliError } from './errors.js'

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.ppm'])

/** Whether a path names a still image (by extension). */
export function isImagePath(file: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase())
}

/** Crops `[T,H,W,3]` frames to their top-left `width`x`height` (what --fit pad added). */
export function cropFrames(frames: Uint8Array, t: number, h: number, w: number, width: number, height: number): Uint8Array {
  if (width === w && height === h) return frames
  const out = new Uint8Array(t * height * width * 3)
  const srcRow = w * 3
  const dstRow = width * 3
  for (let f = 0; f < t; f++) {
    for (let y = 0; y < height; y++) {
      const s = (f * h + y) * srcRow
      out.set(frames.subarray(s, s + dstRow), (f * height + y) * dstRow)
    }
  }
  return out
}

/** `[T,H,W,3]` a and b next to each other: `[T,H,2W,3]`. */
export function sideBySide(a: Uint8Array, b: Uint8Array, t: number, h: number, w: number): Uint8Array {
  const out = new Uint8Array(t * h * w * 6)
  const row = w * 3
  for (let r = 0; r < t * h; r++) {
    out.set(a.subarray(r * row, (r + 1) * row), r * row * 2)
    out.set(b.subarray(r * row, (r + 1) * row), r * row * 2 + row)
  }
  return out
}

/** One `[H,W,3]` frame as `[1,3,H,W]` float in [-1, 1]: v/255 * 2 - 1 (the official LPIPS input). */
export function frameToUnitCHW(frame: Uint8Array, h: number, w: number): Float32Array {
  const plane = h * w
  const out = new Float32Array(3 * plane)
  for (let i = 0; i < plane; i++) {
    out[i] = (frame[3 * i]! / 255) * 2 - 1
    out[plane + i] = (frame[3 * i + 1]! / 255) * 2 - 1
    out[2 * plane + i] = (frame[3 * i + 2]! / 255) * 2 - 1
  }
  return out
}

/** Fails when `t` frames cannot go to `file` (a plain image holds one); call it before the work. */
export function checkFrameCount(file: string, t: number): void {
  if (isSingleImagePath(file) && t !== 1) {
    const ext = path.extname(file)
    throw new CliError(
      'ERR_OUTPUT',
      `${file} can hold one image but there are ${t} frames; use a sequence pattern like ${file.slice(0, -ext.length)}_%04d${ext} or a video file`,
    )
  }
}

/** Whether `file` is a plain image file name (no %d pattern): only one frame can go there. */
export function isSingleImagePath(file: string): boolean {
  return isImagePath(file) && !isImageSequencePath(file)
}

/** Options of {@link writeFrameStream}. */
export interface WriteFramesOptions {
  /** Frame rate, exact ('30000/1001') or a number. */
  fps: string
  /** x264 constant rate factor. */
  crf: number
  /** Frame size, known before the first frame (an odd side selects yuv444p: yuv420p needs even sizes). */
  width: number
  height: number
}

/**
 * Writes frame batches `[t,H,W,3]` as they come: a video (libx264 yuv420p at `crf`), an image
 * sequence (`out_%04d.png`), or one image when `file` is a plain image name (then exactly one
 * frame may come). The output appears only when complete: a failure or abort leaves nothing.
 */
export async function writeFrameStream(ctx: Context, file: string, source: AsyncIterable<FrameBatch>, options: WriteFramesOptions): Promise<void> {
  ctx.throwIfAborted()
  if (isSingleImagePath(file)) {
    let image: FrameBatch | undefined
    for await (const batch of source) {
      if (image !== undefined || batch.shape[0] !== 1) checkFrameCount(file, 2)
      image = batch
    }
    if (image === undefined) throw new CliError('ERR_NO_FRAMES', `${file}: no frame to write`)
    ctx.throwIfAborted()
    await writeImage(file, image.frames, image.shape[2]!, image.shape[1]!)
    return
  }
  const odd = options.width % 2 !== 0 || options.height % 2 !== 0
  await writeVideo(file, source, { fps: options.fps, crf: options.crf, ...(odd ? { pixFmt: 'yuv444p' } : {}), signal: ctx.signal })
}
