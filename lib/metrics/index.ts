/**
 * Reconstruction metrics with the VideoVAE+ evaluation protocol (per-frame PSNR and SSIM on 8-bit
 * RGB, frame-weighted means), and `compareVideos` that streams two files frame by frame.
 */
import { VideoIOError } from '../io/ffmpeg.js'
import { readVideo, type FrameChunk } from '../io/video_reader.js'
import { psnr } from './psnr.js'
import { ssim, ssimUndefinedReason } from './ssim.js'

export { mse01, psnr } from './psnr.js'
export { ssim, SSIM_WINDOW, ssimUndefinedReason, type SsimOptions } from './ssim.js'

/** PSNR and SSIM of one frame pair. */
export interface FrameScores {
  /** dB, 100 for identical frames. */
  psnr: number
  /** Mean SSIM (1.0 when either frame is constant; NaN when a side is below the 7-pixel window). */
  ssim: number
}

/**
 * Both metrics for two `[H,W,3]` 8-bit frames with the protocol's settings. Frames smaller than
 * SSIM's 7x7 window get PSNR only (ssim NaN; see {@link ssimUndefinedReason}).
 */
export function compareFrames(ref: Uint8Array, test: Uint8Array, width: number, height: number): FrameScores {
  return { psnr: psnr(ref, test), ssim: ssimUndefinedReason(width, height) === null ? ssim(ref, test, width, height) : NaN }
}

/** Options of {@link compareVideos}. */
export interface CompareVideosOptions {
  /** Compute PSNR. Default: true. */
  psnr?: boolean
  /** Compute SSIM (the costlier one). Default: true. */
  ssim?: boolean
  /** Compare at most this many frames from the start. Default: Infinity (all; counts must match). */
  count?: number
  /** Frames decoded per chunk on each side. Default: 16. */
  chunkFrames?: number
  /** Fail on decoding errors (see `ReadVideoOptions.strict`). Default: true. */
  strict?: boolean
  /** Both files are trusted (see `ReadVideoOptions.trusted`). Default: false. */
  trusted?: boolean
  /** Cancels both reads (`ERR_ABORTED`). Default: none. */
  signal?: AbortSignal
  /** Called after each frame pair with its index and scores (NaN for a metric turned off). Default: none. */
  onFrame?: (index: number, scores: FrameScores) => void
}

/** Per-frame metrics of two videos and their means over frames. */
export interface VideoComparison {
  /** Frames compared. */
  frames: number
  width: number
  height: number
  /** PSNR of each frame pair in dB (empty when turned off). */
  psnr: number[]
  /** SSIM of each frame pair (empty when turned off, or when frames are smaller than the 7x7 window). */
  ssim: number[]
  /** Mean PSNR over frames (NaN when turned off). */
  meanPsnr: number
  /** Mean SSIM over frames (NaN when turned off). */
  meanSsim: number
}

/** Hands out single frames from a chunked read. */
class FrameCursor {
  private chunk: FrameChunk | undefined
  private index = 0
  constructor(private readonly it: AsyncGenerator<FrameChunk, void, undefined>) {}

  /** The next frame as `[H,W,3]` view with its size, or null at the end. */
  async next(): Promise<{ data: Uint8Array; width: number; height: number } | null> {
    while (this.chunk === undefined || this.index >= this.chunk.shape[0]) {
      const r = await this.it.next()
      if (r.done === true) return null
      this.chunk = r.value
      this.index = 0
    }
    const [, h, w] = this.chunk.shape
    const size = h * w * 3
    const data = this.chunk.frames.subarray(this.index * size, (this.index + 1) * size)
    this.index++
    return { data, width: w, height: h }
  }

  async close(): Promise<void> {
    await this.it.return(undefined)
  }
}

function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN
  let s = 0
  for (const v of values) s += v
  return s / values.length
}

/**
 * Streams `refPath` (ground truth) and `testPath` (reconstruction) side by side and scores every
 * frame pair with the official protocol; memory stays around one chunk per side.
 * @throws VideoIOError `ERR_MISMATCH` (frame counts or sizes differ), and the errors of readVideo.
 */
export async function compareVideos(refPath: string, testPath: string, options: CompareVideosOptions = {}): Promise<VideoComparison> {
  const doPsnr = options.psnr ?? true
  const doSsim = options.ssim ?? true
  const readOpts = {
    chunkFrames: options.chunkFrames ?? 16,
    ...(options.count === undefined ? {} : { count: options.count }),
    ...(options.strict === undefined ? {} : { strict: options.strict }),
    ...(options.trusted === true ? { trusted: true } : {}),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  }
  const ref = new FrameCursor(readVideo(refPath, readOpts))
  const test = new FrameCursor(readVideo(testPath, readOpts))
  const psnrs: number[] = []
  const ssims: number[] = []
  let frames = 0
  let width = 0
  let height = 0
  try {
    for (;;) {
      const [a, b] = await Promise.all([ref.next(), test.next()])
      if (a === null || b === null) {
        if (a !== null || b !== null) {
          const longer = a === null ? testPath : refPath
          throw new VideoIOError('ERR_MISMATCH', `frame counts differ: ${a === null ? refPath : testPath} ends after ${frames} frames, ${longer} has more`, {
            path: longer,
          })
        }
        break
      }
      if (a.width !== b.width || a.height !== b.height) {
        throw new VideoIOError('ERR_MISMATCH', `frame sizes differ: ${refPath} is ${a.width}x${a.height}, ${testPath} is ${b.width}x${b.height}`, {
          path: testPath,
        })
      }
      width = a.width
      height = a.height
      const scores: FrameScores = {
        psnr: doPsnr ? psnr(a.data, b.data) : NaN,
        ssim: doSsim && ssimUndefinedReason(a.width, a.height) === null ? ssim(a.data, b.data, a.width, a.height) : NaN,
      }
      if (doPsnr) psnrs.push(scores.psnr)
      if (!Number.isNaN(scores.ssim)) ssims.push(scores.ssim)
      options.onFrame?.(frames, scores)
      frames++
    }
  } finally {
    await Promise.all([ref.close(), test.close()])
  }
  return { frames, width, height, psnr: psnrs, ssim: ssims, meanPsnr: mean(psnrs), meanSsim: mean(ssims) }
}

/** Frame-weighted means over several comparisons (the protocol's aggregate over all videos). */
export function combineComparisons(list: readonly VideoComparison[]): { frames: number; meanPsnr: number; meanSsim: number } {
  return {
    frames: list.reduce((s, c) => s + c.frames, 0),
    meanPsnr: mean(list.flatMap((c) => c.psnr)),
    meanSsim: mean(list.flatMap((c) => c.ssim)),
  }
}
