/**
 * The CLI's streaming pipeline: a video is read, encoded and decoded in independent chunks of
 * `chunk` frames (the official process_in_chunks; 16 by default like the official video
 * script), so memory stays bounded by one chunk however long the clip is. Chunks are
 * independent, so this equals `vae.encode(video, { chunkFrames })` on the whole clip.
 * chunk 0 reads the whole clip and runs it in one piece.
 */
import { VideoIOError } from '../io/ffmpeg.js'
import { readAhead } from '../io/read_ahead.js'
import { readVideoWithPlan, type ReadPlan, type ReadVideoOptions } from '../io/video_reader.js'
import type { FrameBatch } from '../io/video_writer.js'
import { checkMemoryLimit, plannedFrames, type MemoryLimit } from '../memory_limit.js'
import { Tensor } from '../tensor.js'
import type { TilingOptions } from '../vae_options.js'
import type { VideoVAE } from '../vae.js'
import type { Context } from './context.js'
import { CliError } from './errors.js'
import { cropFrames } from './frames.js'
import type { TextInputs } from './text.js'

/** Frames of one chunk, `[t, h, w, 3]`, and where it starts in the clip. */
export interface FrameChunkIn {
  frames: Uint8Array
  t: number
  h: number
  w: number
  start: number
}

/** What a read produces, known before the first chunk. */
export interface ReadInfo {
  plan: ReadPlan
  /** Frame size before --fit pad (what outputs are cropped back to). */
  width: number
  height: number
  /** Exact frame rate ('30000/1001'), '25' when the file has none. */
  fps: string
  /** Frames the read will return, when the container says (not with --fps). */
  total?: number
}

function readInfo(plan: ReadPlan, options: ReadVideoOptions): ReadInfo {
  const fraction = options.fps !== undefined ? String(options.fps) : plan.info.fpsFraction
  const count = plan.info.frameCount
  return {
    plan,
    width: plan.decodedWidth,
    height: plan.decodedHeight,
    fps: fraction === '0/1' || fraction === '' ? '25' : fraction,
    ...(count !== null && options.fps === undefined
      ? { total: Math.max(0, Math.min(options.count ?? Infinity, count - (options.start ?? 0))) }
      : {}),
  }
}

/**
 * Reads `file` in chunks of `chunk` frames (0: the whole clip as one chunk). `onInfo` runs once,
 * before the first chunk; it may throw to refuse the input (e.g. a size off the 8 grid).
 */
export async function* readChunks(
  ctx: Context,
  file: string,
  options: ReadVideoOptions,
  chunk: number,
  onInfo: (info: ReadInfo) => void,
): AsyncGenerator<FrameChunkIn> {
  const pieces: Uint8Array[] = []
  let t = 0
  let h = 0
  let w = 0
  const reader = readAhead(
    readVideoWithPlan(file, { ...options, chunkFrames: chunk > 0 ? chunk : 16, signal: ctx.signal }, (plan) => onInfo(readInfo(plan, options))),
  )
  for await (const c of reader) {
    if (chunk > 0) {
      yield { frames: c.frames, t: c.shape[0], h: c.shape[1], w: c.shape[2], start: c.startFrame }
      continue
    }
    pieces.push(c.frames)
    t += c.shape[0]
    h = c.shape[1]
    w = c.shape[2]
  }
  if (chunk > 0) return
  if (t === 0) throw new VideoIOError('ERR_NO_FRAMES', `${file}: no frames`, { path: file })
  const frames = pieces.length === 1 ? pieces[0]! : new Uint8Array(t * h * w * 3)
  if (pieces.length > 1) {
    let off = 0
    for (const p of pieces) {
      frames.set(p, off)
      off += p.length
    }
  }
  yield { frames, t, h, w, start: 0 }
}

/** Options of one chunk's encode or decode. */
export interface ChunkRunOptions {
  image: boolean
  tile?: TilingOptions
  text?: TextInputs
  signal: AbortSignal
  /** Fraction of the chunk done, 0..1. */
  onProgress?: (fraction: number) => void
  /** --memory-limit (default: the API's). */
  memoryLimit?: MemoryLimit
}

function textOptions(text: TextInputs | undefined): { textEmbedding?: Tensor; textMask?: Tensor; caption?: string } {
  if (!text) return {}
  if (!text.textEmbedding) return text.caption === undefined ? {} : { caption: text.caption }
  return { textEmbedding: text.textEmbedding, ...(text.textMask ? { textMask: text.textMask } : {}) }
}

function limitOption(options: ChunkRunOptions): { memoryLimit?: MemoryLimit } {
  return options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit }
}

/** A float32 tensor's data and shape. */
export interface HostTensor {
  data: Float32Array
  shape: number[]
}

async function host(t: Tensor): Promise<HostTensor> {
  try {
    return { data: (await t.data()) as Float32Array, shape: t.shape }
  } finally {
    t.dispose()
  }
}

/** The frames of a short tail chunk repeated up to `min` (as the official padding does). */
function padFrames(chunk: FrameChunkIn, min: number): FrameChunkIn {
  if (chunk.t >= min) return chunk
  const size = chunk.h * chunk.w * 3
  const frames = new Uint8Array(min * size)
  frames.set(chunk.frames)
  for (let f = chunk.t; f < min; f++) frames.copyWithin(f * size, (chunk.t - 1) * size, chunk.t * size)
  return { ...chunk, frames, t: min }
}

/** Encodes one chunk: its posterior `{ latent, mean, logvar }` on the host. */
export async function encodeChunk(
  vae: VideoVAE,
  chunk: FrameChunkIn,
  options: ChunkRunOptions & { sampleSeed?: number; chunkFrames?: number },
): Promise<{ latent: HostTensor; mean: HostTensor; logvar: HostTensor }> {
  const input = options.image ? chunk : padFrames(chunk, vae.info.rules.tMin)
  const video = Tensor.from(input.frames, [1, input.t, input.h, input.w, 3], { dtype: 'uint8' })
  try {
    const post = await vae.encode(video, {
      image: options.image,
      ...(options.tile ? { tile: options.tile } : {}),
      ...(options.chunkFrames ? { chunkFrames: options.chunkFrames } : {}),
      ...textOptions(options.text),
      ...(options.sampleSeed === undefined ? {} : { sample: { seed: options.sampleSeed } }),
      posterior: true,
      ...limitOption(options),
      signal: options.signal,
      onProgress: (done, total) => options.onProgress?.(done / total),
    })
    const [latent, mean, logvar] = await Promise.all([host(post.latent), host(post.mean), host(post.logvar)])
    return { latent, mean, logvar }
  } finally {
    video.dispose()
  }
}

/** Concatenates `[1, C, T_k, h, w]` host tensors along T. */
export function concatT(parts: HostTensor[]): HostTensor {
  if (parts.length === 1) return parts[0]!
  const [b, c, , h, w] = parts[0]!.shape as [number, number, number, number, number]
  const total = parts.reduce((s, p) => s + p.shape[2]!, 0)
  const plane = h * w
  const data = new Float32Array(b * c * total * plane)
  let t0 = 0
  for (const p of parts) {
    const tk = p.shape[2]!
    for (let bc = 0; bc < b * c; bc++) {
      data.set(p.data.subarray(bc * tk * plane, (bc + 1) * tk * plane), (bc * total + t0) * plane)
    }
    t0 += tk
  }
  return { data, shape: [b, c, total, h, w] }
}

/** Frames `[start, start+len)` along T of a `[1, C, T, h, w]` host tensor. */
export function sliceT(x: HostTensor, start: number, len: number): HostTensor {
  const [b, c, total, h, w] = x.shape as [number, number, number, number, number]
  const plane = h * w
  const data = new Float32Array(b * c * len * plane)
  for (let bc = 0; bc < b * c; bc++) {
    const src = (bc * total + start) * plane
    data.set(x.data.subarray(src, src + len * plane), bc * len * plane)
  }
  return { data, shape: [b, c, len, h, w] }
}

/** Decoded frames of one chunk, cropped, `[t, height, width, 3]`. */
export interface DecodedChunk extends FrameBatch {
  frames: Uint8Array
  shape: [number, number, number, 3]
}

/** Decodes one latent chunk to uint8 frames: `frames` real frames kept, cropped to width x height. */
export async function decodeChunk(
  vae: VideoVAE,
  latent: HostTensor | Tensor,
  frames: number | undefined,
  crop: { width: number; height: number } | undefined,
  options: ChunkRunOptions,
): Promise<DecodedChunk> {
  const owned = latent instanceof Tensor ? undefined : Tensor.from(latent.data, latent.shape, { device: vae.device })
  const input = owned ?? (latent as Tensor)
  try {
    const out = await vae.decode(input, {
      image: options.image,
      ...(frames === undefined ? {} : { frames }),
      ...(options.tile ? { tile: options.tile } : {}),
      ...textOptions(options.text),
      output: 'uint8',
      ...limitOption(options),
      signal: options.signal,
      onProgress: (done, total) => options.onProgress?.(done / total),
    })
    const [, t, h, w] = out.shape as [number, number, number, number]
    let data: Uint8Array
    try {
      data = (await out.data()) as Uint8Array
    } finally {
      out.dispose()
    }
    const width = crop && crop.width <= w ? crop.width : w
    const height = crop && crop.height <= h ? crop.height : h
    return { frames: cropFrames(data, t, h, w, width, height), shape: [t, height, width, 3] }
  } finally {
    owned?.dispose()
  }
}

/** Latent frames per decode chunk for `chunk` input frames (0: all). */
export function latentChunk(chunk: number, image: boolean, compressionT: number): number {
  if (chunk <= 0) return 0
  return image ? chunk : Math.max(1, Math.floor(chunk / compressionT))
}

/** Checks a read against the model's shape rules before any frame is decoded. */
export function checkGeometry(file: string, info: ReadInfo, vae: VideoVAE): void {
  const hw = vae.info.rules.hwMultiple
  const { width, height } = info.plan
  if (width % hw !== 0 || height % hw !== 0) {
    throw new CliError('ERR_SHAPE', `${file}: frames are ${width}x${height}, not multiples of ${hw}; use --fit pad, crop or resize`)
  }
}

/**
 * Refuses a read whose model job would exceed the memory limit (ERR_LIMIT), from the probe, so
 * before any frame is decoded: the job's chunks (`chunk`; 0: the whole clip, as far as the probe
 * tells) at the planned size, plus the whole clip when it is read before encoding (`wholeClip`).
 */
export function checkReadMemory(
  file: string,
  info: ReadInfo,
  vae: VideoVAE,
  read: ReadVideoOptions,
  job: { image: boolean; chunk: number; wholeClip?: boolean; tile?: TilingOptions; memoryLimit?: MemoryLimit },
): void {
  const planned = plannedFrames(info.plan, read)
  const frames = Math.max(1, planned ?? Math.max(job.chunk, vae.info.rules.tMin))
  checkMemoryLimit(
    vae.info,
    { batch: 1, frames, height: info.plan.height, width: info.plan.width, ...(job.wholeClip === true ? { heldFrames: frames } : {}) },
    { image: job.image, ...(job.chunk > 0 ? { chunkFrames: job.chunk } : {}), ...(job.tile ? { tile: job.tile } : {}) },
    { ...(job.memoryLimit === undefined ? {} : { limit: job.memoryLimit }), device: vae.device, subject: file, style: 'cli' },
  )
}

/** A push-fed async iterable of frame batches, to feed writeVideo while frames are produced. */
export class FrameQueue implements AsyncIterable<FrameBatch> {
  #items: FrameBatch[] = []
  #wake: (() => void) | undefined
  #closed = false
  #error: unknown = undefined

  push(batch: FrameBatch): void {
    this.#items.push(batch)
    this.#wake?.()
  }

  /** Ends the stream; with an error, the consumer's iteration throws it. */
  close(error?: unknown): void {
    this.#closed = true
    this.#error = error
    this.#wake?.()
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<FrameBatch> {
    for (;;) {
      const item = this.#items.shift()
      if (item !== undefined) {
        yield item
        continue
      }
      if (this.#closed) {
        if (this.#error !== undefined) throw this.#error
        return
      }
      await new Promise<void>((resolve) => (this.#wake = resolve))
      this.#wake = undefined
    }
  }
}
