/**
 * The streaming engine: every chunked encode, decode and reconstruct of the package (the API's
 * streams, the CLI commands, batch encoding) runs here. A stream of uint8 frame blocks (what
 * readVideo yields) is re-chunked into independent chunks (the official process_in_chunks), so
 * memory stays bounded by one chunk and the results equal encode/decode/reconstruct of the whole
 * clip with the same chunkFrames. Tensors stay native, on the model's device, between encode and
 * decode; frames go up once per chunk (through pinned memory on CUDA) and only what the caller
 * asks for comes back, once: uint8 frames per chunk, or the latent tensors themselves. Padding
 * (a short tail chunk, `pad`), cropping (frames, `pad`, --fit pad) and the uint8 conversion are
 * native. The source is read one block ahead, so ffmpeg decodes the next chunk while the model
 * runs on this one.
 */
import { readAhead } from '../io/read_ahead.js'
import { VideoVaeError } from '../errors.js'
import { defaultChunkFrames } from '../rules.js'
import { Tensor } from '../tensor.js'
import type { VideoVAE } from '../vae.js'
import { checkRunOptions, type EncodeOptions, type RunOptions } from '../vae_options.js'
import { frameChunks, type FrameBlock, type FrameChunk } from './frame_chunks.js'

export type { FrameBlock, FrameChunk }

/** Options of every stream: those of encode/decode, per chunk. */
export interface StreamRunOptions extends Omit<RunOptions, 'chunkFrames' | 'onProgress'> {
  /** Frames per independent chunk (a multiple of the bundle's rules.t_multiple on the video path). Default 16; 0: the whole stream as one chunk. */
  chunkFrames?: number
  /** Input frames done so far (fractions of the running chunk included), after each chunk x tile. */
  onProgress?: (frames: number) => void
}

export interface EncodeStreamOptions extends StreamRunOptions, Pick<EncodeOptions, 'pad' | 'sample'> {
  /** Also yield the posterior's `mean` and `logvar` (native tensors). Default false. */
  posterior?: boolean
  /**
   * Collect the whole stream and encode it in one native job, in chunks of chunkFrames there
   * (`sample` implies it: every chunk's noise comes from one generator, as in encode()). Then
   * one block `[B,T,H,W,3]` may carry a batch of clips of one size.
   */
  oneJob?: boolean
}

export interface LatentChunk {
  /** `[B, z, ceil(frames / 4), H/8, W/8]` (image path: `[B, z, frames, H/8, W/8]`), on the model's device. */
  latent: Tensor
  /** With `posterior: true`. */
  mean?: Tensor
  logvar?: Tensor
  /** Index of the chunk's first input frame. */
  startFrame: number
  /** Input frames the chunk covers (the last chunk may be shorter than chunkFrames). */
  frames: number
}

export interface DecodeStreamOptions extends Omit<StreamRunOptions, 'chunkFrames'> {
  /** Crop every chunk's frames to this size (undoes `pad` or --fit pad). */
  height?: number
  width?: number
}

/** Frames out of a decode or reconstruct stream: `[T, H, W, 3]` RGB bytes on the host. */
export interface DecodedFrames {
  frames: Uint8Array
  shape: [number, number, number, 3]
  startFrame: number
}

export interface ReconstructStreamOptions extends StreamRunOptions, Pick<EncodeOptions, 'pad'> {
  /** Crop the output below the input's size (what --fit pad added). */
  height?: number
  width?: number
}

/** A reconstructed chunk and the input chunk it came from. */
export interface ReconstructedFrames extends DecodedFrames {
  input: FrameChunk
}

type Source<T> = AsyncIterable<T> | Iterable<T>

async function* asAsync<T>(source: Source<T>): AsyncGenerator<T> {
  yield* source
}

/** The per-job options of a stream's options (chunking and progress are the stream's). */
function jobOptions(options: StreamRunOptions): RunOptions {
  const { chunkFrames: _chunk, onProgress: _progress, ...rest } = options
  return rest
}

/** Checks the stream's options before the first frame is read (the same checks as encode). */
function checkStream(vae: VideoVAE, options: StreamRunOptions): number {
  const chunk = options.chunkFrames ?? defaultChunkFrames(vae.info)
  checkRunOptions({ ...jobOptions(options), ...(chunk === 0 ? {} : { chunkFrames: chunk }) }, vae.info, 1, vae.captionEncoder !== null)
  return chunk
}

/** A job's progress (units done of total) as input frames done of the whole stream. */
function chunkProgress(options: StreamRunOptions, chunk: { startFrame: number; frames: number }): { onProgress?: (done: number, total: number) => void } {
  const report = options.onProgress
  if (!report) return {}
  return { onProgress: (done, total) => report(chunk.startFrame + Math.round((done / total) * chunk.frames)) }
}

function upload(vae: VideoVAE, frames: Uint8Array, shape: number[]): Tensor {
  return Tensor.from(frames, shape, { dtype: 'uint8', device: vae.device })
}

export async function* encodeStream(vae: VideoVAE, source: Source<FrameBlock>, options: EncodeStreamOptions = {}): AsyncGenerator<LatentChunk> {
  if (options.oneJob === true || options.sample !== undefined) {
    yield await encodeOneJob(vae, source, options)
    return
  }
  const chunk = checkStream(vae, options)
  const { posterior, oneJob: _oneJob, ...rest } = options
  const image = options.image ?? false
  for await (const c of frameChunks(readAhead(asAsync(source)), chunk)) {
    const video = upload(vae, c.frames, c.shape)
    const frames = c.shape[0]
    let post
    try {
      post = await vae.encodePosterior(video, { ...jobOptions(rest), ...chunkProgress(options, { startFrame: c.startFrame, frames }) }, !image)
    } finally {
      video.dispose()
    }
    if (posterior !== true) {
      post.mean.dispose()
      post.logvar.dispose()
    }
    yield { latent: post.latent, ...(posterior === true ? { mean: post.mean, logvar: post.logvar } : {}), startFrame: c.startFrame, frames }
  }
}

/** The whole stream (or one batched block) in one native job, chunked there. */
async function encodeOneJob(vae: VideoVAE, source: Source<FrameBlock>, options: EncodeStreamOptions): Promise<LatentChunk> {
  const { posterior, oneJob: _oneJob, chunkFrames, ...rest } = options
  const image = options.image ?? false
  let input: { frames: Uint8Array; shape: number[] } | undefined
  const blocks: FrameBlock[] = []
  for await (const block of readAhead(asAsync(source))) blocks.push(block)
  if (blocks.length === 1 && blocks[0]!.shape.length === 5) {
    const [B, T, H, W, C] = blocks[0]!.shape as number[]
    if (C !== 3 || blocks[0]!.frames.length !== B! * T! * H! * W! * 3) {
      throw new VideoVaeError('ERR_SHAPE', `a batched frame block must be RGB [B,T,H,W,3] matching its data, got [${blocks[0]!.shape}]`)
    }
    input = { frames: blocks[0]!.frames, shape: [B!, T!, H!, W!, 3] }
  } else {
    for await (const c of frameChunks(blocks, 0)) input = c
  }
  if (input === undefined) throw new VideoVaeError('ERR_SHAPE', 'the frame stream is empty')
  const frames = input.shape[input.shape.length - 4]!
  const video = upload(vae, input.frames, input.shape)
  let post
  try {
    post = await vae.encodePosterior(
      video,
      { ...jobOptions(rest), ...(chunkFrames ? { chunkFrames } : {}), ...chunkProgress(options, { startFrame: 0, frames }) },
      !image,
    )
  } finally {
    video.dispose()
  }
  if (posterior !== true) {
    post.mean.dispose()
    post.logvar.dispose()
  }
  return { latent: post.latent, ...(posterior === true ? { mean: post.mean, logvar: post.logvar } : {}), startFrame: 0, frames }
}

/**
 * Decodes latent chunks to uint8 frames, one chunk at a time: each chunk's frames are copied to
 * the host once. A LatentChunk's `frames` crops the padding of its tail; a bare Tensor keeps all.
 */
export async function* decodeStream(vae: VideoVAE, latents: Source<LatentChunk | Tensor>, options: DecodeStreamOptions = {}): AsyncGenerator<DecodedFrames> {
  const { height, width, ...rest } = options
  let startFrame = 0
  for await (const item of asAsync(latents)) {
    const latent = item instanceof Tensor ? item : item.latent
    if (latent.shape[0] !== 1) throw new VideoVaeError('ERR_SHAPE', `decodeStream takes one video (batch 1), got [${latent.shape}]`)
    const frames = item instanceof Tensor ? undefined : item.frames
    const expected = frames ?? latent.shape[2]! * (options.image ? 1 : vae.info.compression.t)
    const video = await vae.decode(latent, {
      ...jobOptions(rest),
      ...(frames === undefined ? {} : { frames }),
      ...(height === undefined ? {} : { height }),
      ...(width === undefined ? {} : { width }),
      ...chunkProgress(options, { startFrame, frames: expected }),
      output: 'uint8',
    })
    let data: Uint8Array
    let T: number, H: number, W: number
    try {
      ;[, T, H, W] = video.shape as [number, number, number, number, 3]
      data = (await video.data()) as Uint8Array
    } finally {
      video.dispose()
    }
    yield { frames: data, shape: [T, H, W, 3], startFrame }
    startFrame += T
  }
}

/**
 * Reconstructs a frame stream chunk by chunk: one native job per chunk (encode, decode, crop,
 * uint8; the latent stays on the device) and one copy of its frames to the host.
 */
export async function* reconstructStream(
  vae: VideoVAE,
  source: Source<FrameBlock>,
  options: ReconstructStreamOptions = {},
): AsyncGenerator<ReconstructedFrames> {
  const chunk = checkStream(vae, options)
  const image = options.image ?? false
  for await (const c of frameChunks(readAhead(asAsync(source)), chunk)) {
    const video = upload(vae, c.frames, c.shape)
    let out: Tensor
    try {
      out = await vae.reconstructChunk(
        video,
        { ...jobOptions(options), output: 'uint8', ...chunkProgress(options, { startFrame: c.startFrame, frames: c.shape[0] }) },
        !image,
      )
    } finally {
      video.dispose()
    }
    let data: Uint8Array
    let T: number, H: number, W: number
    try {
      ;[, T, H, W] = out.shape as [number, number, number, number, 3]
      data = (await out.data()) as Uint8Array
    } finally {
      out.dispose()
    }
    yield { input: c, frames: data, shape: [T, H, W, 3], startFrame: c.startFrame }
  }
}
