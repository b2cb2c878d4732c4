/**
 * Streaming encode and decode: a long video as an async iterable of uint8 frame chunks (what
 * readVideo yields) becomes a stream of latent chunks, in memory bounded by one chunk. Chunks
 * are independent, exactly like the official process_in_chunks, so the concatenated latents
 * equal vae.encode(video, { chunkFrames }).
 */
import { VideoVaeError } from './errors.js'
import { checkChunkFrames, defaultChunkFrames } from './rules.js'
import { Tensor } from './tensor.js'
import type { VideoVAE } from './vae.js'
import type { DecodeOptions, EncodeOptions } from './vae_options.js'

/** RGB frames, row-major `[T, H, W, 3]` (lib/io's FrameChunk fits). */
export interface FrameBlock {
  frames: Uint8Array
  shape: readonly [number, number, number, 3] | readonly number[]
}

export interface LatentChunk {
  /** `[1, z, ceil(frames / 4), H/8, W/8]`. */
  latent: Tensor
  /** Index of the chunk's first input frame. */
  startFrame: number
  /** Input frames the chunk covers (the last chunk may be shorter than chunkFrames). */
  frames: number
}

export interface EncodeStreamOptions extends Omit<EncodeOptions, 'chunkFrames' | 'posterior' | 'image'> {
  /** Frames per independent chunk, a multiple of the bundle's `rules.tMultiple` (4). Default 16. */
  chunkFrames?: number
}

/** Frames out of a decodeStream: `[T, H, W, 3]` RGB bytes. */
export interface DecodedFrames {
  frames: Uint8Array
  shape: [number, number, number, 3]
  startFrame: number
}

export async function* encodeStream(
  vae: VideoVAE,
  source: AsyncIterable<FrameBlock> | Iterable<FrameBlock>,
  options: EncodeStreamOptions = {},
): AsyncGenerator<LatentChunk> {
  const chunk = checkChunkFrames(vae.info, options.chunkFrames ?? defaultChunkFrames(vae.info), false)
  const { chunkFrames: _chunk, ...encodeOptions } = options
  let buffer: Uint8Array | null = null
  let frameBytes = 0
  let filled = 0
  let startFrame = 0
  let size: [number, number] | null = null

  const flush = async (count: number): Promise<LatentChunk> => {
    // A short tail is padded to the bundle's rules.t_min frames by repeating its last frame (as
    // the official padding of the whole video does); the latent covers `count` real frames.
    const frames = Math.max(vae.info.rules.tMin, count)
    const data = buffer!.slice(0, frames * frameBytes)
    for (let f = count; f < frames; f++) data.copyWithin(f * frameBytes, (count - 1) * frameBytes, count * frameBytes)
    const input = Tensor.from(data, [frames, size![0], size![1], 3], { dtype: 'uint8' })
    try {
      const latent = await vae.encode(input, encodeOptions)
      const out = { latent, startFrame, frames: count }
      startFrame += count
      return out
    } finally {
      input.dispose()
    }
  }

  for await (const block of source) {
    const [T, H, W, C] = block.shape as number[]
    if (block.shape.length !== 4 || C !== 3 || block.frames.length !== T! * H! * W! * 3) {
      throw new VideoVaeError('ERR_SHAPE', `frame blocks must be RGB [T,H,W,3] matching their data, got [${block.shape}]`)
    }
    if (!size) {
      size = [H!, W!]
      frameBytes = H! * W! * 3
      buffer = new Uint8Array(chunk * frameBytes)
    } else if (size[0] !== H || size[1] !== W) {
      throw new VideoVaeError('ERR_SHAPE', `frame size changed from ${size[0]}x${size[1]} to ${H}x${W} mid-stream`)
    }
    for (let t = 0; t < T!; t++) {
      buffer!.set(block.frames.subarray(t * frameBytes, (t + 1) * frameBytes), filled * frameBytes)
      if (++filled === chunk) {
        yield await flush(chunk)
        filled = 0
      }
    }
  }
  if (filled > 0) yield await flush(filled)
}

export async function* decodeStream(
  vae: VideoVAE,
  latents: AsyncIterable<LatentChunk | Tensor> | Iterable<LatentChunk | Tensor>,
  options: Omit<DecodeOptions, 'output' | 'image'> = {},
): AsyncGenerator<DecodedFrames> {
  let startFrame = 0
  for await (const item of latents) {
    const latent = item instanceof Tensor ? item : item.latent
    if (latent.shape[0] !== 1) throw new VideoVaeError('ERR_SHAPE', `decodeStream takes one video (batch 1), got [${latent.shape}]`)
    const frames = item instanceof Tensor ? undefined : item.frames
    const video = await vae.decode(latent, { ...options, frames, output: 'uint8' })
    try {
      const [, T, H, W] = video.shape as [number, number, number, number, 3]
      yield { frames: (await video.data()) as Uint8Array, shape: [T, H, W, 3], startFrame }
      startFrame += T
    } finally {
      video.dispose()
    }
  }
}
