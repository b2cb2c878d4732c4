/**
 * The latent file written by `videovae encode` and read by `videovae decode`: a .safetensors
 * with the tensors
 *   latent     [1, z, T', h, w] float32 (the posterior mode, or a sample with --sample-seed)
 *   mean, logvar               (with --posterior)
 *   text_emb [1, L, d], text_mask [1, L]   (text bundles: the conditioning, reused by decode)
 * and string metadata (all values are strings, as the format requires):
 *   format "videovae-latent", format_version "1",
 *   bundle_variant, bundle_config, bundle_sha256 (sha256 of the bundle's manifest.json),
 *   source (input file name), fps (exact rational or number), frames (frame count before the
 *   temporal padding), width/height (frame size before --fit pad), encoded_width/encoded_height
 *   (the model's input size), padding (JSON {"frames", "right", "bottom"}), image ("true" for the
 *   image path), posterior, chunk_frames (frames per independent chunk, 0 = the whole clip; decode
 *   uses the same chunking), sample_seed, caption, tile (JSON), when they apply.
 */
import type { BundleInfo } from '../bundle.js'
import { frameRateProblem } from '../io/frame_rate.js'

export const LATENT_FORMAT = 'videovae-latent'
export const LATENT_FORMAT_VERSION = 1

export interface LatentMeta {
  variant: string
  /** The bundle's rules.t_multiple: the video path pads the frame count to a multiple of it. */
  tMultiple: number
  config: string
  sha256: string
  source: string
  fps: string
  frames: number
  width: number
  height: number
  encodedWidth: number
  encodedHeight: number
  image: boolean
  posterior: boolean
  sampleSeed?: number
  caption?: string
  chunkFrames?: number
  tile?: { size: number; overlap?: number }
}

/** The metadata map of a latent file. */
export function latentMetadata(m: LatentMeta): Record<string, string> {
  const padT = m.image ? 0 : (m.tMultiple - (m.frames % m.tMultiple)) % m.tMultiple
  const out: Record<string, string> = {
    format: LATENT_FORMAT,
    format_version: String(LATENT_FORMAT_VERSION),
    bundle_variant: m.variant,
    bundle_config: m.config,
    bundle_sha256: m.sha256,
    source: m.source,
    fps: m.fps,
    frames: String(m.frames),
    width: String(m.width),
    height: String(m.height),
    encoded_width: String(m.encodedWidth),
    encoded_height: String(m.encodedHeight),
    padding: JSON.stringify({ frames: padT, right: m.encodedWidth - m.width, bottom: m.encodedHeight - m.height }),
    image: String(m.image),
    posterior: String(m.posterior),
  }
  if (m.sampleSeed !== undefined) out.sample_seed = String(m.sampleSeed)
  if (m.caption !== undefined) out.caption = m.caption
  if (m.chunkFrames !== undefined) out.chunk_frames = String(m.chunkFrames)
  if (m.tile !== undefined) out.tile = JSON.stringify(m.tile)
  return out
}

/** What decode needs from a latent file's metadata; fields it lacks are undefined. */
export interface DecodeHints {
  fps?: string
  /** Why the metadata's fps cannot be used (malformed, or outside 0.01..1000000 fps); decode refuses it. */
  fpsProblem?: string
  frames?: number
  width?: number
  height?: number
  image?: boolean
  sha256?: string
  variant?: string
  caption?: string
  /** Frames per independent chunk the latent was encoded with (0: the whole clip). */
  chunkFrames?: number
}

function positiveInt(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const n = Number(text)
  return Number.isSafeInteger(n) && n > 0 ? n : undefined
}

/** Reads the metadata of a latent file tolerantly (files from other tools may have none). */
export function decodeHints(meta: Record<string, string>): DecodeHints {
  const fpsProblem = meta.fps === undefined ? null : frameRateProblem(meta.fps)
  return {
    ...(meta.fps === undefined ? {} : fpsProblem === null ? { fps: meta.fps.trim() } : { fpsProblem }),
    frames: positiveInt(meta.frames),
    width: positiveInt(meta.width),
    height: positiveInt(meta.height),
    image: meta.image === undefined ? undefined : meta.image === 'true',
    sha256: meta.bundle_sha256,
    variant: meta.bundle_variant,
    caption: meta.caption,
    chunkFrames:
      meta.chunk_frames === undefined
        ? undefined
        : Number.isSafeInteger(Number(meta.chunk_frames)) && Number(meta.chunk_frames) >= 0
          ? Number(meta.chunk_frames)
          : undefined,
  }
}

/** A short description of a bundle for messages. */
export function bundleLabel(info: Pick<BundleInfo, 'variant' | 'sha256'>): string {
  return `${info.variant} ${info.sha256.slice(0, 12)}`
}
