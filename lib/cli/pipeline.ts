/**
 * CLI glue around the streaming engine (lib/engine): reading an input with its plan (in chunks,
 * or the whole clip for --chunk-frames 0 and --sample-seed), the checks made from the probe
 * before any frame is decoded, the engine options of the flags, and a queue that feeds the
 * writers. The chunk loop, padding and cropping of model data are the engine's.
 */
import { readClipWithPlan } from '../io/read_clip.js'
import { readVideoWithPlan, type FrameChunk, type ReadPlan, type ReadVideoOptions } from '../io/video_reader.js'
import type { FrameBatch } from '../io/video_writer.js'
import { checkMemoryLimit, plannedFrames, type MemoryLimit } from '../memory_limit.js'
import type { StreamRunOptions } from '../engine/streams.js'
import type { TilingOptions } from '../vae_options.js'
import type { VideoVAE } from '../vae.js'
import type { Context } from './context.js'
import { CliError } from './errors.js'
import type { TextInputs } from './text.js'

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
    ...(count !== null && options.fps === undefined ? { total: Math.max(0, Math.min(options.count ?? Infinity, count - (options.start ?? 0))) } : {}),
  }
}

/**
 * Reads `file` in blocks of `chunk` frames (0: the whole clip as one block), for the engine,
 * which reads one block ahead. `onInfo` runs once, before the first frame is decoded; it may
 * throw to refuse the input (e.g. a size off the 8 grid).
 */
export async function* readChunks(
  ctx: Context,
  file: string,
  options: ReadVideoOptions,
  chunk: number,
  onInfo: (info: ReadInfo) => void,
): AsyncGenerator<FrameChunk> {
  const onPlan = (plan: ReadPlan): void => onInfo(readInfo(plan, options))
  if (chunk > 0) {
    yield* readVideoWithPlan(file, { ...options, chunkFrames: chunk, signal: ctx.signal }, onPlan)
    return
  }
  const clip = await readClipWithPlan(file, { ...options, signal: ctx.signal }, onPlan)
  yield { frames: clip.frames, shape: clip.shape, startFrame: 0 }
}

/** Options of the model's jobs that the CLI passes through. */
export interface ChunkRunOptions {
  image: boolean
  tile?: TilingOptions | undefined
  text?: TextInputs | undefined
  signal: AbortSignal
  /** --memory-limit (default: the API's). */
  memoryLimit?: MemoryLimit | undefined
}

/** The engine's options of a command's flags (chunking and progress are added by the caller). */
export function engineOptions(options: ChunkRunOptions): StreamRunOptions {
  const text = options.text
  return {
    image: options.image,
    ...(options.tile ? { tile: options.tile } : {}),
    ...(text?.textEmbedding
      ? { textEmbedding: text.textEmbedding, ...(text.textMask ? { textMask: text.textMask } : {}) }
      : text?.caption !== undefined
        ? { caption: text.caption }
        : {}),
    ...(options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit }),
    signal: options.signal,
  }
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
