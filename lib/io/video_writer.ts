/**
 * `writeVideo`: encode RGB frames to a video file (mp4, mkv, mov, webm...) or an image sequence
 * (`out_%04d.png`) through ffmpeg's stdin. Output appears only when complete (temp + rename).
 */
import { dirname } from 'node:path'
import type { Writable } from 'node:stream'
import { createTempFile, createTempSequence } from './atomic_output.js'
import { frameRateProblem } from './frame_rate.js'
import { abortError, fileUrl, formatFrameRate, spawnTool, translateToolError, VideoIOError, type ToolProcess } from './ffmpeg.js'
import { isImageExt, isImageSequencePath } from './image_sequence.js'
import { checkSequenceOutput, checkVideoOutput } from './output_check.js'

/** Frames to write: RGB bytes, row-major `[T,H,W,3]` (a {@link FrameChunk} or `VideoFrames` fits). */
export interface FrameBatch {
  /** `T*H*W*3` bytes. */
  frames: Uint8Array
  /** `[T, H, W, 3]`. */
  shape: readonly [number, number, number, number]
  /** Frame rate, used as the default `fps` when a single batch is written. Default: none. */
  fps?: number
}

/** One batch, or batches from a (possibly async) iterable, e.g. `readVideo(...)` itself. */
export type FrameSource = FrameBatch | Iterable<FrameBatch> | AsyncIterable<FrameBatch>

/** Options of {@link writeVideo}. */
export interface WriteVideoOptions {
  /**
   * Frame rate, a number or an exact rational string like `'30000/1001'`. Default: the `fps` of
   * the source when it is a single batch that has one, else 25.
   */
  fps?: number | string
  /** Constant rate factor (video codecs that have one: x264, x265, vp9, av1). Default: 15. */
  crf?: number
  /** ffmpeg video encoder. Default: `'libx264'`. Not used for image sequences. */
  codec?: string
  /** Pixel format of the encoded video. Default: `'yuv420p'`. Not used for image sequences. */
  pixFmt?: string
  /** Encoder preset (x264/x265). Default: undefined (the encoder's own, `medium` for x264). */
  preset?: string
  /** JPEG quality of `.jpg` sequences, 1 (worst) to 100 (best). Default: 95. */
  quality?: number
  /** Number of the first file of an image sequence. Default: 0 (file number = frame index). */
  startNumber?: number
  /** Replace an existing file (only ever after a successful write). Default: true. */
  overwrite?: boolean
  /** Cancels the write: ffmpeg is killed, the temporary removed, `ERR_ABORTED` thrown. Default: none. */
  signal?: AbortSignal
}

/** What {@link writeVideo} wrote. */
export interface WriteVideoResult {
  /** The destination as given. */
  path: string
  /** Files written: the video, or every image of a sequence in order. */
  files: string[]
  /** Frames written. */
  frames: number
  width: number
  height: number
}

const crfCodecs = new Set(['libx264', 'libx264rgb', 'libx265', 'libvpx-vp9', 'libaom-av1', 'libsvtav1'])

function invalid(message: string): VideoIOError {
  return new VideoIOError('ERR_ARGUMENT', message)
}

function extOf(path: string): string {
  const m = /\.[^./\\]+$/.exec(path)
  return m === null ? '' : m[0].toLowerCase()
}

/** ffmpeg `-q:v` (2 best .. 31 worst) for a JPEG quality 1..100. */
export function jpegQscale(quality: number): number {
  if (!(Number.isFinite(quality) && quality >= 1 && quality <= 100)) {
    throw invalid(`quality must be between 1 and 100, got ${quality}`)
  }
  return Math.round(31 - ((quality - 1) * 29) / 99)
}

/** Image-encoder arguments for an output extension. */
export function imageEncoderArgs(ext: string, quality: number): string[] {
  if (ext === '.jpg' || ext === '.jpeg') return ['-c:v', 'mjpeg', '-q:v', String(jpegQscale(quality))]
  if (ext === '.webp') return ['-quality', String(quality)]
  return ['-pix_fmt', 'rgb24']
}

/** Checks a batch and returns `[T, H, W]`. */
export function checkBatch(batch: FrameBatch, what = 'frames'): [number, number, number] {
  if (typeof batch !== 'object' || batch === null || !(batch.frames instanceof Uint8Array)) {
    throw invalid(`${what}: expected {frames: Uint8Array, shape: [T,H,W,3]}`)
  }
  const s = batch.shape
  if (!Array.isArray(s) || s.length !== 4 || !s.every((d) => Number.isInteger(d) && d >= 0) || s[3] !== 3) {
    throw invalid(`${what}: shape must be [T,H,W,3] with integer sizes, got ${JSON.stringify(s)}`)
  }
  const [t, h, w] = s as [number, number, number, number]
  if (batch.frames.length !== t * h * w * 3) {
    throw invalid(`${what}: ${batch.frames.length} bytes do not match shape [${t},${h},${w},3] (${t * h * w * 3})`)
  }
  if (t > 0 && (h === 0 || w === 0)) throw invalid(`${what}: empty frame size ${w}x${h}`)
  return [t, h, w]
}

function isBatch(source: FrameSource): source is FrameBatch {
  return typeof source === 'object' && source !== null && 'frames' in source && 'shape' in source
}

async function* batchesOf(source: FrameSource): AsyncGenerator<FrameBatch, void, undefined> {
  if (isBatch(source)) {
    yield source
    return
  }
  if (typeof source === 'object' && source !== null && Symbol.asyncIterator in source) {
    yield* source as AsyncIterable<FrameBatch>
    return
  }
  if (typeof source === 'object' && source !== null && Symbol.iterator in source) {
    yield* source as Iterable<FrameBatch>
    return
  }
  throw invalid('frames must be {frames, shape}, or an iterable / async iterable of them')
}

function writeChunk(stream: Writable, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(data, (err) => (err == null ? resolve() : reject(err)))
  })
}

/** Pixel formats whose chroma is subsampled: [horizontal, vertical] need even sizes. */
function evenSizeNeeds(pixFmt: string): [boolean, boolean] {
  if (/^(yuvj?420p|nv12|nv21|yuva420p|p010|p016|yuv420p\d+)/.test(pixFmt)) return [true, true]
  if (/^(yuvj?422p|yuva422p|yuyv422|uyvy422|nv16|yuv422p\d+)/.test(pixFmt)) return [true, false]
  return [false, false]
}

/**
 * Writes frames to `path`: a video (container from the extension; libx264 crf 15 yuv420p by
 * default, `+faststart` for mp4/mov) or an image sequence when the file name holds a `%d` /
 * `%04d` pattern (`.png` lossless RGB, `.jpg` with `quality`). ffmpeg writes a temporary in the
 * same directory that is renamed into place only on success, after a check that it reads back
 * with every frame (ffmpeg runs with `-xerror`, and the file is probed: a full disk never
 * passes for success); on any failure (ffmpeg error, a source that throws, abort) it is
 * removed, and an existing file at `path` is left as it was.
 * @throws VideoIOError `ERR_ARGUMENT`, `ERR_NO_FRAMES` (nothing to write), `ERR_WRITE`,
 * `ERR_UNSUPPORTED` (encoder/format/size not possible), `ERR_ABORTED`, `ERR_FFMPEG_MISSING`;
 * an error thrown by the source is rethrown as is.
 */
export async function writeVideo(path: string, source: FrameSource, options: WriteVideoOptions = {}): Promise<WriteVideoResult> {
  const sequence = isImageSequencePath(path)
  const ext = extOf(path)
  if (!sequence && isImageExt(ext)) {
    throw invalid(`${path}: an image sequence needs a frame-number pattern, e.g. out_%04d${ext}`)
  }
  const defaultFps = isBatch(source) && typeof source.fps === 'number' && source.fps > 0 ? source.fps : 25
  const fps = formatFrameRate(options.fps ?? defaultFps)
  const fpsProblem = sequence ? null : frameRateProblem(fps) // image files have no timestamps to lose
  if (fpsProblem !== null) throw invalid(`${path}: ${fpsProblem}`)
  const crf = options.crf ?? 15
  if (!(Number.isFinite(crf) && crf >= 0)) throw invalid(`crf must be a number >= 0, got ${crf}`)
  const codec = options.codec ?? 'libx264'
  const pixFmt = options.pixFmt ?? 'yuv420p'
  const quality = options.quality ?? 95
  jpegQscale(quality)
  const startNumber = options.startNumber ?? 0
  if (!(Number.isInteger(startNumber) && startNumber >= 0)) {
    throw invalid(`startNumber must be an integer >= 0, got ${startNumber}`)
  }
  const signal = options.signal
  if (signal?.aborted === true) throw abortError(signal, path)
  const overwrite = options.overwrite ?? true

  const temp = sequence ? await createTempSequence(path, overwrite) : await createTempFile(path, overwrite)
  const target = 'tempPattern' in temp ? temp.tempPattern : temp.tempPath
  let proc: ToolProcess | undefined
  let width = 0
  let height = 0
  let frames = 0
  let abortReject: ((err: unknown) => void) | undefined
  const abortPromise = new Promise<never>((_, reject) => (abortReject = reject))
  abortPromise.catch(() => undefined)
  const onAbort = (): void => {
    proc?.kill()
    abortReject?.(abortError(signal, path))
  }
  signal?.addEventListener('abort', onAbort, { once: true })

  const start = (w: number, h: number): ToolProcess => {
    // -xerror: a write error (a full disk) fails the run instead of a warning and exit 0.
    const args = ['-nostdin', '-v', 'error', '-xerror', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${w}x${h}`, '-framerate', fps, '-i', 'pipe:0']
    if (sequence) {
      args.push(...imageEncoderArgs(ext, quality), '-start_number', String(startNumber), '-f', 'image2')
    } else {
      args.push('-c:v', codec, '-pix_fmt', pixFmt)
      if (crfCodecs.has(codec)) args.push('-crf', String(crf))
      if (codec === 'libvpx-vp9') args.push('-b:v', '0')
      if (options.preset !== undefined) args.push('-preset', options.preset)
      if (ext === '.mp4' || ext === '.mov' || ext === '.m4v') args.push('-movflags', '+faststart')
    }
    args.push(fileUrl(target))
    const p = spawnTool('ffmpeg', args, { stdin: true, stdout: false })
    p.child.stdin?.on('error', () => undefined) // reported through the write callbacks
    return p
  }

  const failure = async (err: unknown): Promise<unknown> => {
    // A broken pipe means ffmpeg stopped: its own message says why.
    const code = (err as NodeJS.ErrnoException | null)?.code
    const pipeError = code === 'EPIPE' || code === 'ECONNRESET' || code === 'ERR_STREAM_DESTROYED' || code === 'EOF'
    if (proc !== undefined && !(err instanceof VideoIOError) && pipeError) {
      const exit = await proc.done
      if (exit.code !== 0) return translateToolError('ffmpeg', 'write', path, exit, proc.stderrTail())
      return new VideoIOError('ERR_WRITE', `failed to write ${path}: ffmpeg closed its input`, { path, cause: err })
    }
    return err
  }

  try {
    const it = batchesOf(source)
    try {
      for (;;) {
        const next = await Promise.race([it.next(), abortPromise])
        if (next.done === true) break
        const [t, h, w] = checkBatch(next.value)
        if (t === 0) continue
        if (proc === undefined) {
          const [evenW, evenH] = sequence ? [false, false] : evenSizeNeeds(pixFmt)
          if ((evenW && w % 2 !== 0) || (evenH && h % 2 !== 0)) {
            throw new VideoIOError('ERR_UNSUPPORTED', `${path}: pixel format ${pixFmt} needs even frame sizes, got ${w}x${h} (pad the frames or use yuv444p)`, {
              path,
            })
          }
          width = w
          height = h
          proc = start(w, h)
        } else if (w !== width || h !== height) {
          throw invalid(`frame size changed from ${width}x${height} to ${w}x${h} at frame ${frames}`)
        }
        await Promise.race([writeChunk(proc.child.stdin as Writable, next.value.frames), abortPromise])
        frames += t
      }
    } finally {
      // Lets a generator source (e.g. readVideo) clean up when we stop early; never waits on it.
      void it.return(undefined).catch(() => undefined)
    }
    if (proc === undefined) throw new VideoIOError('ERR_NO_FRAMES', `${path}: no frames to write`, { path })
    proc.child.stdin?.end()
    const exit = await Promise.race([proc.done, abortPromise])
    if (exit.code !== 0 || exit.spawnError !== undefined) {
      throw translateToolError('ffmpeg', 'write', path, exit, proc.stderrTail())
    }
    if ('tempPattern' in temp) await checkSequenceOutput(dirname(temp.tempPattern), path, frames)
    else await checkVideoOutput(temp.tempPath, path, frames)
    const files = 'tempPattern' in temp ? await temp.commit() : (await temp.commit(), [path])
    if (files.length === 0) throw new VideoIOError('ERR_WRITE', `${path}: ffmpeg wrote no file`, { path })
    return { path, files, frames, width, height }
  } catch (err) {
    throw await failure(err)
  } finally {
    signal?.removeEventListener('abort', onAbort)
    if (proc !== undefined) {
      proc.kill()
      await proc.done
    }
    await temp.discard()
  }
}
