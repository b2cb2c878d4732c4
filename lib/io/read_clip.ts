/**
 * Reading a whole clip into one buffer with its read plan: the one place that collects a
 * chunked read (readVideoFrames, batch's clip reader and the CLI's --chunk-frames 0 use it).
 * Memory grows with the clip; stream with readVideo where that matters.
 */
import { readVideoWithPlan, type ReadPlan, type ReadVideoOptions } from './video_reader.js'

/** A whole clip: RGB bytes `[T,H,W,3]` and the plan it was read with. */
export interface Clip {
  frames: Uint8Array
  shape: [number, number, number, 3]
  plan: ReadPlan
}

/**
 * Reads every frame `options` selects into one buffer. `onPlan` runs once after the probe,
 * before any frame is decoded, and may throw to refuse the input.
 * @throws VideoIOError as readVideo (ERR_NO_FRAMES when there is no frame).
 */
export async function readClipWithPlan(path: string, options: ReadVideoOptions = {}, onPlan?: (plan: ReadPlan) => void): Promise<Clip> {
  let plan: ReadPlan | undefined
  const pieces: Uint8Array[] = []
  let t = 0
  let h = 0
  let w = 0
  const reader = readVideoWithPlan(path, options, (p) => {
    plan = p
    onPlan?.(p)
  })
  for await (const c of reader) {
    pieces.push(c.frames)
    t += c.shape[0]
    h = c.shape[1]
    w = c.shape[2]
  }
  // The reader throws ERR_NO_FRAMES itself when nothing was decoded.
  const frames = pieces.length === 1 ? (pieces[0] as Uint8Array) : new Uint8Array(t * h * w * 3)
  if (pieces.length > 1) {
    let off = 0
    for (const p of pieces) {
      frames.set(p, off)
      off += p.length
    }
  }
  return { frames, shape: [t, h, w, 3], plan: plan as ReadPlan }
}

/** All frames of a read in one buffer. */
export interface VideoFrames {
  /** RGB bytes, row-major `[T,H,W,3]`. */
  frames: Uint8Array
  /** `[T, H, W, 3]`. */
  shape: [number, number, number, 3]
  /** Frame rate of the returned sequence (the source's, or `fps` when resampled). */
  fps: number
}

/**
 * readVideo collected into one buffer (convenience; needs memory for the whole clip).
 * @throws VideoIOError as readVideo.
 */
export async function readVideoFrames(path: string, options: ReadVideoOptions = {}): Promise<VideoFrames> {
  const clip = await readClipWithPlan(path, options)
  return { frames: clip.frames, shape: clip.shape, fps: clip.plan.fps }
}
