/**
 * CaptionEncoder: captions to Flan-T5 embeddings with the T5 encoder and SentencePiece
 * tokenizer stored in a bundle (a VAE bundle exported with --t5, or a text-only bundle).
 * Captions are cleaned like the official pipeline (preprocessCaption), tokenized natively
 * exactly like the Hugging Face T5 tokenizer, and embedded in one native job.
 */
import { bundleError, field, parseT5, readManifest, verifyFiles, type Json, type T5Info } from './bundle.js'
import { normalizeDevice, type Device } from './device.js'
import { runOnDevice } from './device_queue.js'
import { nativeAsync, nativeSync, VideoVaeError } from './errors.js'
import { TorchModule } from './module.js'
import { native, type NativeCaptionRequest, type NativeTokenizerHandle } from './native.js'
import { Tensor } from './tensor.js'
import { preprocessCaption } from './text/index.js'

export interface CaptionEncoderLoadOptions {
  /** 'cpu' (default), 'cuda' or 'cuda:N'. */
  device?: Device
  /** Verify the sha256 of the T5 files against the manifest. Default true. */
  verify?: boolean
}

export interface CaptionOptions {
  /** Apply the official caption cleaning (clean_caption twice) first. Default true. */
  clean?: boolean
}

/** Token ids of N captions, padded to maxLength: what the Hugging Face tokenizer returns. */
export interface TokenizedCaptions {
  /** The captions as tokenized (after cleaning, unless `clean: false`). */
  captions: string[]
  /** Token ids, row-major `[N, maxLength]`: tokens, `</s>` (1), then padding (0). */
  ids: Int32Array
  /** Attention mask `[N, maxLength]`: 1 for tokens and `</s>`, 0 for padding. */
  mask: Uint8Array
  shape: [number, number]
  /** Real tokens per caption, `</s>` included. */
  lengths: number[]
  /** Tokens each caption would have without truncation; above maxLength means truncated. */
  fullLengths: number[]
}

export interface CaptionEmbedding {
  /** T5 last hidden state `[N, maxLength, dModel]`, float32. */
  embedding: Tensor
  /** `[N, maxLength]` float32 0/1. */
  mask: Tensor
  /** The captions as embedded (after cleaning). */
  captions: string[]
  /** Whether each caption was cut to maxLength tokens. */
  truncated: boolean[]
}

/** Checks captions: a string or an array of strings, each a string (ERR_TEXT otherwise). */
export function captionList(caption: unknown): string[] {
  const list = typeof caption === 'string' ? [caption] : caption
  if (!Array.isArray(list) || list.length === 0) {
    throw new VideoVaeError('ERR_TEXT', `caption must be a string or a non-empty array of strings, got ${describe(caption)}`)
  }
  list.forEach((c, i) => {
    if (typeof c !== 'string') throw new VideoVaeError('ERR_TEXT', `caption ${i} is not a string (got ${describe(c)})`)
  })
  return list as string[]
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array'
  return typeof value
}

export class CaptionEncoder implements Disposable {
  /** The bundle directory it was loaded from. */
  readonly dir: string
  /** The T5 encoder: width, layers, compute dtype, tokenizer numbers. */
  readonly info: T5Info
  readonly device: string
  #t5: TorchModule | null
  #tokenizer: NativeTokenizerHandle

  private constructor(dir: string, info: T5Info, t5: TorchModule, tokenizer: NativeTokenizerHandle) {
    this.dir = dir
    this.info = info
    this.#t5 = t5
    this.#tokenizer = tokenizer
    this.device = t5.device
  }

  /** Loads the T5 encoder and tokenizer of a bundle (either kind), verifying their hashes. */
  static async load(bundleDir: string, options: CaptionEncoderLoadOptions = {}): Promise<CaptionEncoder> {
    const device = normalizeDevice(options.device ?? 'cpu')
    const { root, where, m } = await readManifest(bundleDir)
    const info = parseT5(m.t5, where)
    if (!info) {
      throw new VideoVaeError(
        'ERR_TEXT',
        `bundle ${root} has no text encoder: export it with --t5 DIR (a Hugging Face Flan-T5 directory), or pass precomputed textEmbedding/textMask`,
      )
    }
    const files = await verifyFiles(root, field<Json>(m, 'files', 'object', where), where, options.verify ?? true, ['t5_encoder', 'spiece_model'])
    if (!files.t5_encoder || !files.spiece_model) {
      throw bundleError(`${where}: "t5" is set but files t5_encoder and spiece_model are not both listed`)
    }
    const tokenizer = nativeSync(() => native().tokenizerLoad(files.spiece_model, { extraIds: info.extraIds, padId: info.padId, eosId: info.eosId }))
    const vocab = nativeSync(() => native().tokenizerInfo(tokenizer)).vocabSize
    if (vocab > info.vocabSize) {
      throw bundleError(`${where}: the tokenizer has ${vocab} ids but the T5 encoder only ${info.vocabSize}`)
    }
    const t5 = await TorchModule.load(files.t5_encoder, { device: device as Device })
    return new CaptionEncoder(root, info, t5, tokenizer)
  }

  get disposed(): boolean {
    return this.#t5 === null
  }

  /** Token ids and masks, exactly as the Hugging Face T5 tokenizer gives them (max_length, truncation, padding). */
  tokenize(caption: string | string[], options: CaptionOptions = {}): TokenizedCaptions {
    this.#live()
    const captions = this.#prepare(caption, options)
    const L = this.info.maxLength
    const out = nativeSync(() => native().tokenize(this.#tokenizer, captions, L))
    const mask = new Uint8Array(out.ids.length)
    out.lengths.forEach((n, i) => mask.fill(1, i * L, i * L + n))
    return { captions, ids: out.ids, mask, shape: [captions.length, L], lengths: out.lengths, fullLengths: out.fullLengths }
  }

  /** Embeds captions with the bundle's T5 in one native job. */
  async embed(caption: string | string[], options: CaptionOptions = {}): Promise<CaptionEmbedding> {
    const request = this.request(caption, options)
    const out = await runOnDevice(this.device, () => nativeAsync(() => native().textEmbed(request.tokenizer, request.t5, request.captions, request.maxLength)))
    return {
      embedding: Tensor.fromHandle(out.embedding),
      mask: Tensor.fromHandle(out.mask),
      captions: request.captions,
      truncated: out.fullLengths.map((n) => n > request.maxLength),
    }
  }

  /**
   * The native `text` argument that makes an encode/decode job embed these captions itself.
   * Cleans and checks them, and warns once per call about captions that will be truncated.
   */
  request(caption: string | string[], options: CaptionOptions = {}): NativeCaptionRequest {
    const t5 = this.#live()
    const captions = this.#prepare(caption, options)
    const L = this.info.maxLength
    const { fullLengths } = nativeSync(() => native().tokenize(this.#tokenizer, captions, L))
    const long = fullLengths.flatMap((n, i) => (n > L ? [i] : []))
    if (long.length > 0) {
      const which = long.map((i) => `${i} (${fullLengths[i]} tokens)`).join(', ')
      process.emitWarning(`caption${long.length > 1 ? 's' : ''} ${which} longer than ${L} tokens: truncated to ${L}, as the official T5 embedder does`, {
        code: 'VIDEOVAE_CAPTION_TRUNCATED',
      })
    }
    return { captions, tokenizer: this.#tokenizer, t5: t5.handle(), maxLength: L }
  }

  dispose(): void {
    this.#t5?.dispose()
    this.#t5 = null
  }

  [Symbol.dispose](): void {
    this.dispose()
  }

  #prepare(caption: string | string[], options: CaptionOptions): string[] {
    const list = captionList(caption)
    return options.clean === false ? list : list.map(preprocessCaption)
  }

  #live(): TorchModule {
    if (this.#t5 === null) throw new VideoVaeError('ERR_DISPOSED', 'the CaptionEncoder was disposed')
    return this.#t5
  }
}
