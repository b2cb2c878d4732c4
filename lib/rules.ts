/**
 * The shape rules of a bundle, in one place. Every check of chunk sizes, tiles, frame counts,
 * frame sizes and latent shapes derives from the manifest's `rules` (t_multiple, t_min,
 * hw_multiple) and `compression` (written by python/videovae/export.py), never from literal 4s
 * and 8s. TypeScript checks once, before any native job: a bad option is ERR_ARGUMENT, a bad
 * tensor shape ERR_SHAPE; the native pipeline only asserts (ERR_ASSERTION).
 */
import type { BundleInfo } from './bundle.js'
import { VideoVaeError } from './errors.js'

/** What the checks need of a bundle: its manifest `rules` and `compression`. */
export type ShapeRules = Pick<BundleInfo, 'rules' | 'compression'>

/** Names of the checked values in messages: the API's option names, or the CLI's flags. */
export interface RuleNames {
  chunkFrames: string
  tileSize: string
  tileOverlap: string
}

export const API_NAMES: RuleNames = { chunkFrames: 'chunkFrames', tileSize: 'tile.size', tileOverlap: 'tile.overlap' }

/** The official video script's chunk of 16 frames, rounded up to the bundle's frame multiple. */
export function defaultChunkFrames(r: ShapeRules): number {
  return roundUp(Math.max(16, r.rules.tMin), r.rules.tMultiple)
}

/**
 * The rules must fit the compression they serve: a chunk of whole latent frames and tiles of
 * whole latent pixels. Returns the problem, or null (lib/bundle.ts turns it into ERR_BUNDLE).
 */
export function rulesProblem(r: ShapeRules): string | null {
  const { rules: s, compression: c } = r
  if (s.tMultiple % c.t !== 0) return `rules.t_multiple (${s.tMultiple}) is not a multiple of compression.t (${c.t})`
  if (s.hwMultiple % c.h !== 0 || s.hwMultiple % c.w !== 0) {
    return `rules.hw_multiple (${s.hwMultiple}) is not a multiple of compression.h and compression.w (${c.h}, ${c.w})`
  }
  return null
}

function argument(message: string): never {
  throw new VideoVaeError('ERR_ARGUMENT', message)
}

function shape(message: string): never {
  throw new VideoVaeError('ERR_SHAPE', message)
}

function roundUp(n: number, multiple: number): number {
  return Math.ceil(n / multiple) * multiple
}

function positiveMultiple(value: unknown, of: number): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0 && (value as number) % of === 0
}

/**
 * Frames per independent chunk: on the video path a positive multiple of rules.t_multiple, at
 * least rules.t_min (each chunk runs the video path alone); on the image path any positive
 * integer. `whole` also accepts 0 (the CLI's "the whole clip at once").
 */
export function checkChunkFrames(r: ShapeRules, value: unknown, image: boolean, name = API_NAMES.chunkFrames, whole = false): number {
  if (whole && value === 0) return 0
  const { tMultiple, tMin } = r.rules
  if (image) {
    if (!positiveMultiple(value, 1)) argument(`${name} must be a positive integer, got ${String(value)}`)
    return value
  }
  if (!positiveMultiple(value, tMultiple) || value < tMin) {
    const least = tMin > tMultiple ? `at least ${tMin} (rules.t_min)` : 'positive'
    argument(`${name} must be a multiple of ${tMultiple} (the bundle's rules.t_multiple) and ${least} on the video path, got ${String(value)}`)
  }
  return value
}

/** The default overlap of a tile: a quarter of its size, rounded down to the grid. */
export function defaultTileOverlap(r: ShapeRules, size: number): number {
  const hw = r.rules.hwMultiple
  return Math.floor(size / 4 / hw) * hw
}

/**
 * A spatial tile: `size` a positive multiple of rules.hw_multiple, `overlap` (default: size / 4
 * on the grid) 0 or a multiple of it below `size`.
 */
export function checkTile(r: ShapeRules, tile: { size: unknown; overlap?: unknown }, names: RuleNames = API_NAMES): { size: number; overlap: number } {
  const hw = r.rules.hwMultiple
  const size = tile.size
  if (!positiveMultiple(size, hw)) argument(`${names.tileSize} must be a multiple of ${hw} (the bundle's rules.hw_multiple) and positive, got ${String(size)}`)
  const overlap = tile.overlap ?? defaultTileOverlap(r, size)
  if (!(overlap === 0 || positiveMultiple(overlap, hw)) || (overlap as number) >= size) {
    argument(`${names.tileOverlap} must be 0 or a multiple of ${hw} (the bundle's rules.hw_multiple) below ${names.tileSize} (${size}), got ${String(overlap)}`)
  }
  return { size, overlap: overlap as number }
}

/** A number of frames to read for the video path: at least rules.t_min. ERR_ARGUMENT. */
export function checkFrameCount(r: ShapeRules, frames: number, name: string): void {
  if (frames < r.rules.tMin) argument(`${name} must be at least ${r.rules.tMin} (the bundle's rules.t_min) on the video path, got ${frames}`)
}

/** Frames, height and width of an encoder input. */
export interface VideoSize {
  frames: number
  height: number
  width: number
}

/**
 * The encoder's input: H and W multiples of rules.hw_multiple (unless `pad`), at least
 * rules.t_min frames on the video path, at least one on the image path. ERR_SHAPE.
 */
export function checkVideoSize(r: ShapeRules, { frames, height, width }: VideoSize, image: boolean, pad = false): void {
  const hw = r.rules.hwMultiple
  if (height === 0 || width === 0 || (!pad && (height % hw || width % hw))) {
    shape(
      `frame height and width must be multiples of ${hw} (the bundle's rules.hw_multiple), got ${height}x${width} (crop or resize first, or pass pad: true)`,
    )
  }
  if (!image && frames < r.rules.tMin) {
    shape(`the video path needs at least ${r.rules.tMin} frames (the bundle's rules.t_min), got ${frames} (use { image: true } for stills)`)
  }
  if (image && frames < 1) shape('the image path needs at least one frame')
}

/** The input size the model runs on: T padded to rules.t_multiple (video path), H and W to rules.hw_multiple. */
export function paddedSize(r: ShapeRules, { frames, height, width }: VideoSize, image: boolean): VideoSize {
  const hw = r.rules.hwMultiple
  return { frames: image ? frames : roundUp(frames, r.rules.tMultiple), height: roundUp(height, hw), width: roundUp(width, hw) }
}

/** Frames of padding the video path adds after the last frame. */
export function framePadding(r: ShapeRules, frames: number, image: boolean): number {
  return paddedSize(r, { frames, height: 0, width: 0 }, image).frames - frames
}

/** The latent `[B, z, T', h, w]` of an input (image path: one latent frame per frame). */
export function latentShape(info: ShapeRules & Pick<BundleInfo, 'latentChannels'>, batch: number, size: VideoSize, image: boolean): number[] {
  const p = paddedSize(info, size, image)
  const c = info.compression
  return [batch, info.latentChannels, image ? p.frames : p.frames / c.t, p.height / c.h, p.width / c.w]
}

/** A decoder input must be a latent `[B, z, T, h, w]` with the bundle's channels; ERR_SHAPE. */
export function checkLatentShape(info: Pick<BundleInfo, 'latentChannels'>, dims: readonly number[]): void {
  if (dims.length !== 5 || dims[1] !== info.latentChannels || dims.some((d) => d < 1)) {
    shape(`latent must be [B, ${info.latentChannels}, T, h, w] with no empty dimension, got [${dims}]`)
  }
}

/** The video a latent `[B, z, T, h, w]` decodes to, before any crop. */
export function decodedSize(r: ShapeRules, dims: readonly number[], image: boolean): VideoSize {
  const c = r.compression
  return { frames: image ? dims[2]! : dims[2]! * c.t, height: dims[3]! * c.h, width: dims[4]! * c.w }
}

/** The compression factors as the native job options carry them (cpp/vae_args.cc ParseCompression). */
export function nativeCompression(r: ShapeRules): { compressionT: number; compressionH: number; compressionW: number } {
  return { compressionT: r.compression.t, compressionH: r.compression.h, compressionW: r.compression.w }
}
