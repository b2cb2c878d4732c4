/**
 * `readVideo`: decode a video file into 8-bit RGB frames with the system ffmpeg, streamed in
 * chunks of `[T,H,W,3]` in bounded memory. `readVideoFrames` collects everything into one buffer.
 */
import type { Readable } from 'node:stream'
import { abortError, fileUrl, formatFrameRate, spawnTool, translateToolError, VideoIOError } from './ffmpeg.js'
import { inputPolicyArgs } from './input_policy.js'
import { findImageSequence, isImageSequencePath, sequenceInputArgs } from './image_sequence.js'
import { probeVideo, type VideoInfo } from './probe.js'

/** A run of consecutive decoded frames. */
export interface FrameChunk {
  /** RGB bytes, row-major `[T,H,W,3]`; a fresh buffer owned by the consumer. */
  frames: Uint8Array
  /** `[T, H, W, 3]`. */
  shape: [number, number, number, 3]
  /** Index of the first frame of this chunk in the output sequence (0 = the frame at `start`). */
  startFrame: number
}

/** A rectangle in pixels. */
export interface CropRect {
  /** Left edge (0-based). */
  x: number
  /** Top edge (0-based). */
  y: number
  width: number
  height: number
}

/** A target size; give one side only to keep the aspect ratio (rounded to whole pixels). */
export interface ResizeTarget {
  width?: number
  height?: number
}

/** How frames are brought to sizes that are multiples of `fitMultiple` (8 by default: the VAE's spatial grid). */
export type FitMode =
  /** Leave the size as it is. */
  | 'none'
  /** Crop the centre to the largest multiples that fit. */
  | 'crop'
  /** Pad at the right and bottom to the next multiples, repeating the edge pixels. */
  | 'pad'
  /** Resize to the nearest multiples (at least one). */
  | 'resize'

/** ffmpeg scaler used by `resize` and `fit: 'resize'`. */
export type Interpolation = 'bicubic' | 'bilinear' | 'lanczos' | 'area' | 'neighbor'

/** Options of {@link readVideo}; geometry is applied in the order crop → resize → maxSize → fit. */
export interface ReadVideoOptions {
  /** Frames per chunk yielded (the last chunk may be shorter). Default: 16. */
  chunkFrames?: number
  /**
   * Index of the first frame to return, counted in the output sequence (after `fps` resampling),
   * so the result is exactly frames `[start, start+count)` of a read from 0. Frames before it are
   * decoded and dropped (exact, but the cost grows with `start`). Default: 0.
   */
  start?: number
  /** Maximum number of frames to return. Default: Infinity (to the end). */
  count?: number
  /**
   * Resample to this frame rate (ffmpeg `fps` filter: frames are dropped or repeated), as a number
   * or an exact rational string like `'30000/1001'`. Default: undefined (every decoded frame, once,
   * in order).
   */
  fps?: number | string
  /** Crop this rectangle first (exact on the RGB frame). Default: undefined (no crop). */
  crop?: CropRect
  /** Then resize to this size. Default: undefined (no resize). */
  resize?: ResizeTarget
  /**
   * Then cap each side independently: a frame wider than `width` is scaled to `width`, one taller
   * than `height` to `height`, without keeping the aspect ratio. The official inference script reads
   * at `{ width: 1280, height: 720 }` this way. Default: undefined (no cap).
   */
  maxSize?: { width: number; height: number }
  /**
   * Frame rate of an image-sequence input (`frames/%04d.png`: ffmpeg's numbered pattern; the
   * sequence runs from the lowest number present to the highest, with no gaps). Default: 25.
   */
  sequenceFps?: number | string
  /** Scaler for `resize` and `fit: 'resize'`. Default: `'bicubic'` (ffmpeg's default). */
  interpolation?: Interpolation
  /** Finally bring the size to multiples of `fitMultiple`. Default: `'none'`. */
  fit?: FitMode
  /**
   * The grid `fit` brings sizes to: the model's `rules.hwMultiple` (lib/rules.ts). Default: 8,
   * the grid of every VideoVAE+ bundle.
   */
  fitMultiple?: number
  /**
   * Stop with `ERR_VIDEO_CORRUPT` at the first decoding error (ffmpeg `-xerror`); with false,
   * whatever ffmpeg manages to decode is returned, like imageio. Default: true.
   */
  strict?: boolean
  /** Cancels the read: ffmpeg is killed and the iteration throws `ERR_ABORTED`. Default: none. */
  signal?: AbortSignal
  /**
   * The file is trusted: ffmpeg may use any format and protocol, including playlists (HLS),
   * concat lists and SDP, which read other files or URLs than `path`. Default: false (only
   * self-contained video and image formats, through the local file protocol; other formats fail
   * with `ERR_FORMAT_NOT_ALLOWED`).
   */
  trusted?: boolean
}

/** What a read will produce, worked out from the probe and the options. */
export interface ReadPlan {
  /** The probe of the input. */
  info: VideoInfo
  /** Width of the returned frames. */
  width: number
  /** Height of the returned frames. */
  height: number
  /** Frame rate of the returned sequence. */
  fps: number
  /** ffmpeg `-vf` filters (empty: none). */
  filters: string[]
  /** Size ffmpeg outputs before the padding done here (equal to width/height without padding). */
  decodedWidth: number
  decodedHeight: number
}

/** Reads the flag afresh (a plain property read would be narrowed by TypeScript). */
function aborted(signal: AbortSignal | undefined): boolean {
  return signal !== undefined && signal.aborted
}

function isPositiveInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0
}

function invalid(message: string): VideoIOError {
  return new VideoIOError('ERR_ARGUMENT', message)
}

const interpolations: readonly Interpolation[] = ['bicubic', 'bilinear', 'lanczos', 'area', 'neighbor']
const fitModes: readonly FitMode[] = ['none', 'crop', 'pad', 'resize']

/**
 * Works out the output size and the ffmpeg filters of a read, validating the options against the
 * probed size.
 * @throws VideoIOError `ERR_ARGUMENT`.
 */
export function planRead(info: VideoInfo, options: ReadVideoOptions = {}): ReadPlan {
  const filters: string[] = []
  let fps = info.fps
  if (options.fps !== undefined) {
    const rate = formatFrameRate(options.fps)
    filters.push(`fps=${rate}`)
    const [n, d] = rate.split('/')
    fps = Number(n) / (d === undefined ? 1 : Number(d))
  }
  const start = options.start ?? 0
  if (!(Number.isInteger(start) && start >= 0)) throw invalid(`start must be a frame index >= 0, got ${start}`)
  if (start > 0) filters.push(`trim=start_frame=${start}`)

  const geometry: string[] = []
  let w = info.width
  let h = info.height
  const interp = options.interpolation ?? 'bicubic'
  if (!interpolations.includes(interp)) throw invalid(`unknown interpolation '${String(interp)}'`)
  const flags = interp === 'neighbor' ? 'neighbor' : interp

  const crop = options.crop
  if (crop !== undefined) {
    const { x, y, width, height } = crop
    if (!(Number.isInteger(x) && Number.isInteger(y) && x >= 0 && y >= 0) || !isPositiveInt(width) || !isPositiveInt(height)) {
      throw invalid(`crop must have integer x, y >= 0 and width, height > 0, got ${JSON.stringify(crop)}`)
    }
    if (x + width > w || y + height > h) {
      throw invalid(`crop ${width}x${height}+${x}+${y} exceeds the frame (${w}x${h})`)
    }
    if (x !== 0 || y !== 0 || width !== w || height !== h) geometry.push(`crop=${width}:${height}:${x}:${y}:exact=1`)
    w = width
    h = height
  }

  const resize = options.resize
  if (resize !== undefined) {
    let rw = resize.width
    let rh = resize.height
    if ((rw !== undefined && !isPositiveInt(rw)) || (rh !== undefined && !isPositiveInt(rh)) || (rw === undefined && rh === undefined)) {
      throw invalid(`resize needs a positive integer width and/or height, got ${JSON.stringify(resize)}`)
    }
    rw ??= Math.max(1, Math.round((w * (rh as number)) / h))
    rh ??= Math.max(1, Math.round((h * rw) / w))
    if (rw !== w || rh !== h) geometry.push(`scale=${rw}:${rh}:flags=${flags}`)
    w = rw
    h = rh
  }

  const maxSize = options.maxSize
  if (maxSize !== undefined) {
    if (maxSize === null || !isPositiveInt(maxSize.width) || !isPositiveInt(maxSize.height)) {
      throw invalid(`maxSize needs positive integer width and height, got ${JSON.stringify(maxSize)}`)
    }
    const cw = Math.min(w, maxSize.width)
    const ch = Math.min(h, maxSize.height)
    if (cw !== w || ch !== h) geometry.push(`scale=${cw}:${ch}:flags=${flags}`)
    w = cw
    h = ch
  }

  const fit = options.fit ?? 'none'
  if (!fitModes.includes(fit)) throw invalid(`unknown fit '${String(fit)}'`)
  const g = options.fitMultiple ?? 8
  if (!isPositiveInt(g)) throw invalid(`fitMultiple must be a positive integer, got ${String(g)}`)
  let outW = w
  let outH = h
  if (fit === 'crop') {
    const cw = Math.floor(w / g) * g
    const ch = Math.floor(h / g) * g
    if (cw === 0 || ch === 0) throw invalid(`fit 'crop': the frame (${w}x${h}) is smaller than ${g} pixels`)
    if (cw !== w || ch !== h) {
      geometry.push(`crop=${cw}:${ch}:${Math.floor((w - cw) / 2)}:${Math.floor((h - ch) / 2)}:exact=1`)
    }
    w = outW = cw
    h = outH = ch
  } else if (fit === 'resize') {
    const rw = Math.max(g, Math.round(w / g) * g)
    const rh = Math.max(g, Math.round(h / g) * g)
    if (rw !== w || rh !== h) geometry.push(`scale=${rw}:${rh}:flags=${flags}`)
    w = outW = rw
    h = outH = rh
  } else if (fit === 'pad') {
    outW = Math.ceil(w / g) * g
    outH = Math.ceil(h / g) * g
  }
  // Geometry runs on the RGB frame, so crops are exact and the YUV->RGB conversion is the same
  // as a plain read.
  if (geometry.length > 0) filters.push('format=rgb24', ...geometry)
  return { info, width: outW, height: outH, fps, filters, decodedWidth: w, decodedHeight: h }
}

/** Copies `t` frames of `w`x`h` into `pw`x`ph`, repeating the last column and row. */
function padFrames(src: Uint8Array, t: number, w: number, h: number, pw: number, ph: number): Uint8Array {
  const out = new Uint8Array(t * pw * ph * 3)
  const srcRow = w * 3
  const dstRow = pw * 3
  for (let f = 0; f < t; f++) {
    const s0 = f * w * h * 3
    const d0 = f * pw * ph * 3
    for (let y = 0; y < h; y++) {
      const d = d0 + y * dstRow
      out.set(src.subarray(s0 + y * srcRow, s0 + (y + 1) * srcRow), d)
      const r = d + srcRow - 3
      for (let x = srcRow; x < dstRow; x += 3) {
        out[d + x] = out[r] as number
        out[d + x + 1] = out[r + 1] as number
        out[d + x + 2] = out[r + 2] as number
      }
    }
    const last = d0 + (h - 1) * dstRow
    for (let y = h; y < ph; y++) out.copyWithin(d0 + y * dstRow, last, last + dstRow)
  }
  return out
}

/**
 * Decodes `path` into RGB frame chunks `{frames, shape: [T,H,W,3], startFrame}`, at most
 * `chunkFrames` frames each, in order. ffmpeg runs only while the iteration is consumed: a slow
 * consumer pauses it (memory stays around one chunk), and leaving the loop early ends it.
 * Frames are every decoded frame of the first video stream, once, in presentation order, unless
 * `fps` resamples them.
 * @throws VideoIOError (during iteration) `ERR_NOT_FOUND`, `ERR_VIDEO_CORRUPT`, `ERR_UNSUPPORTED`,
 * `ERR_FORMAT_NOT_ALLOWED` (an untrusted playlist, concat list...), `ERR_NO_FRAMES` (no video stream, or `start` past the end), `ERR_ARGUMENT`, `ERR_ABORTED`,
 * `ERR_FFMPEG_MISSING`.
 */
export function readVideo(path: string, options: ReadVideoOptions = {}): AsyncGenerator<FrameChunk, void, undefined> {
  return readVideoWithPlan(path, options)
}

/**
 * {@link readVideo} that also reports its {@link ReadPlan} (output size, fps, filters) through
 * `onPlan`, after the probe and before the first frame: what a caller needs to set up outputs.
 */
export async function* readVideoWithPlan(
  path: string,
  options: ReadVideoOptions,
  onPlan?: (plan: ReadPlan) => void,
): AsyncGenerator<FrameChunk, void, undefined> {
  const chunkFrames = options.chunkFrames ?? 16
  if (!isPositiveInt(chunkFrames)) throw invalid(`chunkFrames must be a positive integer, got ${chunkFrames}`)
  const count = options.count ?? Infinity
  if (!(count === Infinity || isPositiveInt(count))) throw invalid(`count must be a positive integer, got ${count}`)
  const signal = options.signal
  if (aborted(signal)) throw abortError(signal, path)

  const sequence = isImageSequencePath(path)
  const trusted = options.trusted === true
  const info = await probeVideo(path, {
    ...(sequence && options.sequenceFps !== undefined ? { sequenceFps: options.sequenceFps } : {}),
    ...(trusted ? { trusted } : {}),
  })
  const plan = planRead(info, options)
  onPlan?.(plan)
  if (aborted(signal)) throw abortError(signal, path)

  const args = ['-nostdin', '-v', 'error']
  if (options.strict !== false) args.push('-xerror')
  if (sequence) args.push(...sequenceInputArgs(path, findImageSequence(path), info.fpsFraction, trusted))
  else args.push(...inputPolicyArgs(trusted), '-i', fileUrl(path))
  args.push('-map', '0:V:0', '-an', '-sn', '-dn')
  if (plan.filters.length > 0) args.push('-vf', plan.filters.join(','))
  if (options.fps === undefined) args.push(...(await passthroughArgs()))
  if (count !== Infinity) args.push('-frames:v', String(count))
  args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1')

  const proc = spawnTool('ffmpeg', args)
  const onAbort = (): void => proc.kill()
  signal?.addEventListener('abort', onAbort, { once: true })

  const dw = plan.decodedWidth
  const dh = plan.decodedHeight
  const pad = dw !== plan.width || dh !== plan.height
  const frameBytes = dw * dh * 3
  let emitted = 0
  const nextSize = (): number => Math.min(chunkFrames, count - emitted) * frameBytes
  const emit = (buf: Uint8Array, t: number): FrameChunk => {
    const frames = pad ? padFrames(buf, t, dw, dh, plan.width, plan.height) : buf
    const chunk: FrameChunk = { frames, shape: [t, plan.height, plan.width, 3], startFrame: emitted }
    emitted += t
    return chunk
  }
  try {
    let chunk = new Uint8Array(nextSize())
    let filled = 0
    const stdout = proc.child.stdout as Readable
    for await (const data of stdout as AsyncIterable<Buffer>) {
      let off = 0
      while (off < data.length) {
        if (chunk.length === 0) {
          // More bytes than the requested count: cannot happen with -frames:v, but never overrun.
          off = data.length
          break
        }
        const n = Math.min(data.length - off, chunk.length - filled)
        chunk.set(data.subarray(off, off + n), filled)
        filled += n
        off += n
        if (filled === chunk.length) {
          const out = emit(chunk, chunk.length / frameBytes)
          chunk = new Uint8Array(nextSize())
          filled = 0
          yield out
        }
      }
    }
    const exit = await proc.done
    if (aborted(signal)) throw abortError(signal, path)
    if (exit.code !== 0 || exit.spawnError !== undefined) {
      throw translateToolError('ffmpeg', 'read', path, exit, proc.stderrTail())
    }
    if (filled % frameBytes !== 0) {
      throw new VideoIOError('ERR_VIDEO_CORRUPT', `${path}: ffmpeg's output ended inside a frame (${filled % frameBytes} of ${frameBytes} bytes)`, {
        path,
        stderr: proc.stderrTail(),
      })
    }
    if (filled > 0) yield emit(chunk.slice(0, filled), filled / frameBytes)
    if (emitted === 0) {
      const start = options.start ?? 0
      throw new VideoIOError(
        'ERR_NO_FRAMES',
        start > 0
          ? `${path}: no frame at or after frame ${start}${info.frameCount === null ? '' : ` (the video has ${info.frameCount})`}`
          : `${path}: the video stream has no frames`,
        { path, stderr: proc.stderrTail() },
      )
    }
  } finally {
    signal?.removeEventListener('abort', onAbort)
    proc.kill()
    await proc.done
  }
}

let passthroughCache: Promise<string[]> | undefined

/** `-fps_mode passthrough` on ffmpeg >= 5.1 (and unparseable, i.e. git, versions), else `-vsync`. */
function passthroughArgs(): Promise<string[]> {
  passthroughCache ??= (async () => {
    const proc = spawnTool('ffmpeg', ['-hide_banner', '-version'])
    const chunks: Buffer[] = []
    proc.child.stdout?.on('data', (b: Buffer) => chunks.push(b))
    await proc.done
    const m = /version\s+n?(\d+)\.(\d+)/.exec(Buffer.concat(chunks).toString('utf8'))
    const old = m !== null && (Number(m[1]) < 5 || (Number(m[1]) === 5 && Number(m[2]) < 1))
    return old ? ['-vsync', 'passthrough'] : ['-fps_mode', 'passthrough']
  })()
  return passthroughCache
}
