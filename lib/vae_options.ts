/**
 * Options of VideoVAE.encode/decode and their validation on the JS thread, before any native
 * work starts: a bad option is a VideoVaeError that names it, never a crash in a worker.
 */
import type { BundleInfo } from './bundle.js'
import { captionList } from './caption_encoder.js'
import { VideoVaeError } from './errors.js'
import type { NativeRunOptions } from './native.js'
import { checkChunkFrames, checkTile, checkVideoSize, nativeCompression } from './rules.js'
import { Tensor } from './tensor.js'

export type { NativeRunOptions } from './native.js'

/** Spatial tiling: run tiles of `size`×`size` pixels and cross-fade their overlaps. */
export interface TilingOptions {
  /** Tile edge in pixels, a multiple of the bundle's `rules.hwMultiple` (8). Inputs no larger than this are not tiled. */
  size: number
  /** Overlap between neighbouring tiles in pixels, a multiple of `rules.hwMultiple` below `size` (default: size / 4 rounded down to it). */
  overlap?: number
}

/** Options shared by encode and decode. */
export interface RunOptions {
  /** The image path (`mask_temporal`): spatial stage only, each frame of `[B,3,T,H,W]` kept. Default false. */
  image?: boolean
  /**
   * Frames per independent chunk: on the video path a multiple of the bundle's
   * `rules.tMultiple` (4), the official `process_in_chunks` (the official scripts use 8 or 16).
   * Default: the whole clip in one chunk.
   */
  chunkFrames?: number
  /** Spatial tiling for large frames (bounded memory). Default: off. */
  tile?: TilingOptions
  /**
   * Caption(s) for the text variants whose bundle holds a T5 encoder (exported with --t5):
   * one string for every batch item, or one per item. Cleaned like the official pipeline,
   * tokenized and embedded inside the same native job. Longer than 100 tokens: truncated,
   * with a process warning. Default: the empty caption, as the official inference uses.
   */
  caption?: string | string[]
  /** Precomputed caption embeddings `[B, L, d]` (text variants); instead of `caption`. */
  textEmbedding?: Tensor
  /** Token mask `[B, L]` for `textEmbedding` (1 = token, 0 = padding). Default: all tokens. */
  textMask?: Tensor
  /** Cancels the job between chunks and tiles; the promise rejects with code ERR_ABORTED. */
  signal?: AbortSignal
  /**
   * Called after each chunk × tile with the units done and the total. If it throws, or returns
   * a promise that rejects, the job stops at the next chunk or tile and the call rejects with
   * that error.
   */
  onProgress?: (done: number, total: number) => unknown
  /**
   * Refuse a job whose estimated peak memory (the model of `videovae info --size`) exceeds this
   * many bytes, with ERR_LIMIT, before the native job starts. Default: 3/4 of the
   * memory the process may use, at least 6 GiB (defaultMemoryLimit()); `false` or 0: no limit. On CUDA only the host-side part counts.
   */
  memoryLimit?: number | false
}

export interface EncodeOptions extends RunOptions {
  /** Return the posterior `{ mean, logvar, latent }` instead of the latent alone. Default false. */
  posterior?: boolean
  /** Sample the posterior with a seeded generator instead of taking its mode. */
  sample?: { seed: number }
  /**
   * Accept H and W that are not multiples of 8 by repeating the last row and column up to
   * the next multiple; decode with `{ height, width }` (reconstruct does it) to crop back.
   * Default false: such sizes are an ERR_SHAPE.
   */
  pad?: boolean
}

export interface DecodeOptions extends RunOptions {
  /** Crop the output to this many frames (the encoder's padding to a multiple of 4). */
  frames?: number
  /** Crop the output to this height (undoes `pad`). */
  height?: number
  /** Crop the output to this width (undoes `pad`). */
  width?: number
  /** 'float32' (default): `[B,3,T,H,W]` on the model's device; 'uint8': RGB frames `[B,T,H,W,3]` on the CPU. */
  output?: 'float32' | 'uint8'
}

function fail(code: 'ERR_ARGUMENT' | 'ERR_SHAPE' | 'ERR_DTYPE' | 'ERR_TEXT', message: string): never {
  throw new VideoVaeError(code, message)
}

/** Geometry of a video input: uint8 frames `[T,H,W,3]`/`[B,T,H,W,3]` or float `[B,3,T,H,W]`. */
export function videoGeometry(video: Tensor): { batch: number; frames: number; height: number; width: number } {
  if (!(video instanceof Tensor)) fail('ERR_ARGUMENT', 'video must be a Tensor')
  const s = video.shape
  if (video.dtype === 'uint8') {
    const f = s.length === 4 ? [1, ...s] : s
    if (f.length !== 5 || f[4] !== 3) fail('ERR_SHAPE', `uint8 video must be RGB frames [T,H,W,3] or [B,T,H,W,3], got [${s}]`)
    return { batch: f[0], frames: f[1], height: f[2], width: f[3] }
  }
  if (!['float32', 'float16', 'bfloat16', 'float64'].includes(video.dtype)) {
    fail('ERR_DTYPE', `video must be uint8 frames or a float tensor in [-1, 1], got ${video.dtype}`)
  }
  if (s.length !== 5 || s[1] !== 3) fail('ERR_SHAPE', `float video must be [B,3,T,H,W], got [${s}]`)
  return { batch: s[0], frames: s[2], height: s[3], width: s[4] }
}

export function checkRunOptions(options: RunOptions, info: BundleInfo, batch: number, hasCaptionEncoder = false): NativeRunOptions {
  const image = options.image ?? false
  const chunkFrames = options.chunkFrames === undefined ? 0 : checkChunkFrames(info, options.chunkFrames, image)
  const tile = options.tile ? checkTile(info, options.tile) : { size: 0, overlap: 0 }
  checkText(options, info, batch, hasCaptionEncoder)
  return { image, chunkFrames, tileSize: tile.size, tileOverlap: tile.overlap, ...nativeCompression(info) }
}

function checkText(options: RunOptions, info: BundleInfo, batch: number, hasCaptionEncoder: boolean): void {
  const { textEmbedding: emb, textMask: mask, caption } = options
  if (!info.text) {
    if (emb || mask || caption !== undefined) fail('ERR_TEXT', `this bundle (${info.variant}) takes no text; drop caption/textEmbedding/textMask`)
    return
  }
  if (caption !== undefined) {
    if (emb || mask) fail('ERR_TEXT', 'pass either caption or textEmbedding/textMask, not both')
    if (!hasCaptionEncoder) {
      fail(
        'ERR_TEXT',
        `this bundle (${info.variant}) has no text encoder: export it with --t5 DIR to use captions, or pass textEmbedding [B, L, ${info.text.dim}] and textMask [B, L]`,
      )
    }
    const n = captionList(caption).length
    if (n !== 1 && n !== batch) fail('ERR_TEXT', `caption must be one string or one per batch item (${batch}), got ${n}`)
    return
  }
  if (!emb) {
    if (mask) fail('ERR_TEXT', 'textMask was given without textEmbedding')
    if (hasCaptionEncoder) return // the empty caption's embedding, like the official inference
    fail(
      'ERR_TEXT',
      `this bundle (${info.variant}) needs caption embeddings: pass textEmbedding [B, L, ${info.text.dim}] and textMask [B, L] (or export it with --t5 to pass captions)`,
    )
  }
  const e = emb.shape
  if (e.length !== 3 || e[2] !== info.text.dim || e[0] !== batch) {
    fail('ERR_TEXT', `textEmbedding must be [${batch}, L, ${info.text.dim}], got [${e}]`)
  }
  if (mask && (mask.shape.length !== 2 || mask.shape[0] !== e[0] || mask.shape[1] !== e[1])) {
    fail('ERR_TEXT', `textMask must be [${e[0]}, ${e[1]}] to match textEmbedding, got [${mask.shape}]`)
  }
}

/** Shape rules of the encoder input (lib/rules.ts); `image` relaxes the frame rules. */
export function checkVideoRules(geometry: ReturnType<typeof videoGeometry>, info: BundleInfo, image: boolean, pad = false): void {
  checkVideoSize(info, geometry, image, pad)
}
