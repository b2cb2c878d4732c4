/**
 * Caption conditioning for the text bundles: --caption TEXT (bundles exported with --t5: the
 * job embeds it), or --text-embedding FILE.safetensors holding `text_emb` [1, L, d] and
 * optionally `text_mask` [1, L] (and a `caption` metadata entry, kept in the latent file).
 */
import type { BundleInfo } from '../bundle.js'
import { readSafetensors } from '../safetensors.js'
import type { Tensor } from '../tensor.js'
import { CliError } from './errors.js'

export interface TextInputs {
  /** Precomputed embeddings; without them, `caption` is embedded by the bundle's T5. */
  textEmbedding?: Tensor
  textMask?: Tensor
  caption?: string
}

/** --caption or --text-embedding (or neither: the empty caption of a bundle with T5). */
export async function resolveText(info: BundleInfo, flags: { textEmbedding?: string; caption?: string }, device: string): Promise<TextInputs | undefined> {
  if (flags.caption !== undefined) {
    if (!info.text) throw new CliError('ERR_TEXT', `this bundle (${info.variant}) takes no caption: drop --caption`)
    if (flags.textEmbedding !== undefined) throw new CliError('ERR_TEXT', 'give --caption or --text-embedding, not both')
    if (!info.t5) {
      throw new CliError(
        'ERR_TEXT',
        `this bundle (${info.variant}) has no text encoder: export it with --t5 DIR to use --caption, or pass --text-embedding FILE`,
      )
    }
    return { caption: flags.caption }
  }
  requireTextFlag(info, flags.textEmbedding)
  return flags.textEmbedding === undefined ? undefined : loadTextEmbedding(flags.textEmbedding, info, device)
}

/** Reads --text-embedding (or the tensors stored in a latent file) and checks it against the bundle. */
export async function loadTextEmbedding(file: string, info: BundleInfo, device: string): Promise<TextInputs> {
  const { tensors, metadata } = await readSafetensors(file, { device })
  return checkText(tensors, metadata, info, file)
}

/** Checks text tensors found in a file against the bundle. */
export function checkText(tensors: Record<string, Tensor>, metadata: Record<string, string>, info: BundleInfo, file: string): TextInputs {
  const emb = tensors.text_emb
  if (emb === undefined)
    throw new CliError('ERR_TEXT', `${file} has no tensor "text_emb" (expected text_emb [1, L, ${info.text?.dim ?? 1024}] and text_mask [1, L])`)
  const e = emb.shape
  if (e.length !== 3 || e[0] !== 1 || (info.text && e[2] !== info.text.dim)) {
    throw new CliError('ERR_TEXT', `${file}: text_emb must be [1, L, ${info.text?.dim ?? 1024}], got [${e}]`)
  }
  const mask = tensors.text_mask
  if (mask !== undefined && (mask.shape.length !== 2 || mask.shape[0] !== 1 || mask.shape[1] !== e[1])) {
    throw new CliError('ERR_TEXT', `${file}: text_mask must be [1, ${e[1]}] to match text_emb, got [${mask.shape}]`)
  }
  return { textEmbedding: emb, ...(mask ? { textMask: mask } : {}), ...(metadata.caption !== undefined ? { caption: metadata.caption } : {}) }
}

/** The usage rules: text bundles need --text-embedding, the others refuse it. */
export function requireTextFlag(info: BundleInfo, file: string | undefined): void {
  if (info.text && !info.t5 && file === undefined) {
    throw new CliError(
      'ERR_TEXT',
      `this bundle (${info.variant}) is caption-conditioned: pass --text-embedding FILE.safetensors with text_emb [1, L, ${info.text.dim}] and text_mask [1, L] (or export the bundle with --t5 to pass --caption)`,
    )
  }
  if (!info.text && file !== undefined) {
    throw new CliError('ERR_TEXT', `this bundle (${info.variant}) takes no caption: drop --text-embedding`)
  }
}
