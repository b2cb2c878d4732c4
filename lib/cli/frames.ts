/**
 * Frame buffers `[T,H,W,3]` in plain JS: reading a whole input with a progress bar, cropping
 * padding off, side-by-side composition, and the float layouts the models take.
 */
import path from 'node:path'

import { VideoIOError } from '../io/ffmpeg.js'
import { writeImage } from '../io/image.js'
import { readVideoWithPlan, type ReadPlan, type ReadVideoOptions } from '../io/video_reader.js'
import { isImageSequencePath, writeVideo } from '../io/video_writer.js'
import type { Context } from './context.js'
import { CliError } from './errors.js'

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.ppm'])

/** Whether a path names a still image (by extension). */
export function isImagePath(file: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase())
}

/** A whole clip in memory. */
export interface Clip {
  frames: Uint8Array
  /** Frames, height, width of the buffer (after --fit). */
  t: number
  h: number
  w: number
  /** Size before --fit pad added edge pixels (what outputs are cropped back to). */
  width: number
  height: number
  /** Frame rate of the returned sequence, exact when known ('30000/1001'). */
  fps: string
  plan: ReadPlan
}

/** Reads every requested frame of `file` into one buffer, with a progress bar. */
export async function readClip(ctx: Context, file: string, options: ReadVideoOptions): Promise<Clip> {
  let plan: ReadPlan | undefined
  const chunks: Uint8Array[] = []
  let t = 0
  let h = 0
  let w = 0
  const bar = ctx.progress('read', 'frames')
  try {
    for await (const chunk of readVideoWithPlan(file, { ...options, chunkFrames: 16, signal: ctx.signal }, (p) => {
      plan = p
      const count = p.info.frameCount
      if (count !== null && options.fps === undefined) {
        bar.update(0, Math.max(0, Math.min(options.count ?? Infinity, count - (options.start ?? 0))))
      }
    })) {
      chunks.push(chunk.frames)
      t += chunk.shape[0]
      h = chunk.shape[1]
      w = chunk.shape[2]
      bar.update(t)
    }
  } finally {
    bar.finish()
  }
  if (plan === undefined || t === 0) throw new VideoIOError('ERR_NO_FRAMES', `${file}: no frames`, { path: file })
  let frames: Uint8Array
  if (chunks.length === 1) frames = chunks[0] as Uint8Array
  else {
    frames = new Uint8Array(t * h * w * 3)
    let off = 0
    for (const c of chunks) {
      frames.set(c, off)
      off += c.length
    }
  }
  const fraction = options.fps !== undefined ? String(options.fps) : plan.info.fpsFraction
  const fps = fraction === '0/1' || fraction === '' ? '25' : fraction
  return { frames, t, h, w, width: plan.decodedWidth, height: plan.decodedHeight, fps, plan }
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

/** One `[H,W,3]` frame as `[1,3,H,W]` float in [-1, 1]: (v/255 - 0.5) * 2. */
export function frameToUnitCHW(frame: Uint8Array, h: number, w: number): Float32Array {
  const plane = h * w
  const out = new Float32Array(3 * plane)
  for (let i = 0; i < plane; i++) {
    out[i] = (frame[3 * i]! / 255 - 0.5) * 2
    out[plane + i] = (frame[3 * i + 1]! / 255 - 0.5) * 2
    out[2 * plane + i] = (frame[3 * i + 2]! / 255 - 0.5) * 2
  }
  return out
}

/** Options of {@link writeFrames}. */
export interface WriteFramesOptions {
  fps: string
  crf: number
}

/** Fails when `t` frames cannot go to `file` (a plain image holds one); call it before the work. */
export function checkFrameCount(file: string, t: number): void {
  if (isSingleImagePath(file) && t !== 1) {
    const ext = path.extname(file)
    throw new CliError('ERR_OUTPUT', `${file} can hold one image but there are ${t} frames; use a sequence pattern like ${file.slice(0, -ext.length)}_%04d${ext} or a video file`)
  }
}

/** Whether `file` is a plain image file name (no %d pattern): only one frame can go there. */
export function isSingleImagePath(file: string): boolean {
  return isImagePath(file) && !isImageSequencePath(file)
}

/**
 * Writes `[T,H,W,3]` frames: a video (libx264 yuv420p at --crf; yuv444p when a side is odd),
 * an image sequence (`out_%04d.png`), or one image for a single frame. Always complete or absent.
 */
export async function writeFrames(ctx: Context, file: string, frames: Uint8Array, t: number, h: number, w: number, options: WriteFramesOptions): Promise<void> {
  ctx.throwIfAborted()
  if (isSingleImagePath(file)) {
    checkFrameCount(file, t)
    await writeImage(file, frames, w, h)
    return
  }
  const odd = w % 2 !== 0 || h % 2 !== 0
  await writeVideo(file, { frames, shape: [t, h, w, 3] }, { fps: options.fps, crf: options.crf, ...(odd ? { pixFmt: 'yuv444p' } : {}), signal: ctx.signal })
}
