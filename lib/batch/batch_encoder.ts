/**
 * Runs clips through the model, batching clips of the same size into one encode call. Clips
 * are submitted as they are decoded; whenever the model is free, the oldest waiting clip goes
 * in together with up to batchSize-1 other waiting clips of its size. So while one batch runs,
 * the next clips are decoded (ffmpeg runs in parallel) and pile up into the next batch.
 */
import { createHash } from 'node:crypto'

import { VideoVaeError } from '../errors.js'
import type { MemoryLimit } from '../memory_limit.js'
import { encodeStream, type EncodeStreamOptions, type LatentChunk } from '../engine/streams.js'
import type { Tensor } from '../tensor.js'
import type { TilingOptions } from '../vae_options.js'
import type { VideoVAE } from '../vae.js'
import type { ClipFrames } from './clip_reader.js'
import type { BatchItem } from './manifest.js'
import type { EncodedItem, HostArray } from './shard_writer.js'

export interface EncodeSettings {
  /** 'posterior': mean and logvar; 'sample': one latent drawn per item. */
  store: 'posterior' | 'sample'
  /** Base seed of 'sample'. */
  sampleSeed?: number
  /** Frames per independent chunk (0: the whole clip). */
  chunkFrames: number
  tile?: TilingOptions
  /** Most clips per encode call. */
  batchSize: number
  /**
   * The limit on a call's estimated memory (default: the API's; false or 0: none). A batch over
   * it fails before the native job, and its clips are then retried one by one.
   */
  memoryLimit?: MemoryLimit
}

/** The seed an item's latent is drawn with: derived from the base seed and the id, so reruns and other machines draw the same. */
export function itemSeed(base: number, id: string): number {
  const h = createHash('sha1').update(id, 'utf8').digest().readUIntBE(0, 6)
  return (base + h) % 2 ** 48
}

interface Waiting {
  item: BatchItem
  clip: ClipFrames
  resolve: (e: EncodedItem) => void
  reject: (err: unknown) => void
}

/** Splits `[B, ...]` into B arrays of shape `[...]`. */
function splitBatch(data: Float32Array, shape: number[]): HostArray[] {
  const [b, ...rest] = shape
  const size = rest.reduce((a, c) => a * c, 1)
  return Array.from({ length: b! }, (_, i) => ({ data: data.slice(i * size, (i + 1) * size), shape: rest }))
}

async function hostData(t: Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array
  } finally {
    t.dispose()
  }
}

export class BatchEncoder {
  readonly #vae: VideoVAE
  readonly #settings: EncodeSettings
  readonly #signal: AbortSignal | undefined
  #waiting: Waiting[] = []
  #busy = false
  /** Encode calls made and clips they held (for reports and the benchmark). */
  readonly stats = { calls: 0, clips: 0 }

  constructor(vae: VideoVAE, settings: EncodeSettings, signal?: AbortSignal) {
    this.#vae = vae
    this.#settings = settings
    this.#signal = signal
  }

  /** Encodes one clip (possibly together with others); resolves with its latents. */
  encode(item: BatchItem, clip: ClipFrames): Promise<EncodedItem> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ item, clip, resolve, reject })
      this.#pump()
    })
  }

  /** Sampling draws per-item noise and text models take per-item captions: those go alone. */
  get #batchable(): boolean {
    return this.#settings.store === 'posterior' && this.#vae.info.text === null && this.#settings.batchSize > 1
  }

  #pump(): void {
    if (this.#busy || this.#waiting.length === 0) return
    const head = this.#waiting.shift()!
    const group = [head]
    if (this.#batchable) {
      const key = head.clip.shape.join('x')
      for (let i = 0; i < this.#waiting.length && group.length < this.#settings.batchSize;) {
        if (this.#waiting[i]!.clip.shape.join('x') === key) group.push(...this.#waiting.splice(i, 1))
        else i++
      }
    }
    this.#busy = true
    void this.#runGroup(group).finally(() => {
      this.#busy = false
      this.#pump()
    })
  }

  async #runGroup(group: Waiting[]): Promise<void> {
    try {
      const results = await this.#encode(group)
      group.forEach((w, i) => w.resolve(results[i]!))
    } catch (err) {
      const code = (err as { code?: string }).code
      if (group.length === 1 || code === 'ERR_ABORTED' || this.#signal?.aborted) {
        for (const w of group) w.reject(err)
        return
      }
      // One bad clip must not fail its batch-mates: retry each alone.
      for (const w of group) {
        try {
          w.resolve((await this.#encode([w]))[0]!)
        } catch (e) {
          w.reject(e)
        }
      }
    }
  }

  async #encode(group: Waiting[]): Promise<EncodedItem[]> {
    const [t, h, w] = group[0]!.clip.shape
    const frames = group.length === 1 ? group[0]!.clip.frames : new Uint8Array(group.length * t * h * w * 3)
    if (group.length > 1) group.forEach((g, i) => frames.set(g.clip.frames, i * g.clip.frames.length))
    const { store, chunkFrames, tile, sampleSeed } = this.#settings
    const item = group[0]!.item
    const seed = store === 'sample' ? itemSeed(sampleSeed ?? 0, item.id) : undefined
    // The engine's one-job encode (native chunks, one seed per item): the batch as one [B,T,H,W,3] block.
    const options: EncodeStreamOptions = {
      chunkFrames,
      oneJob: true,
      posterior: store === 'posterior',
      ...(tile ? { tile } : {}),
      ...(this.#settings.memoryLimit === undefined ? {} : { memoryLimit: this.#settings.memoryLimit }),
      ...(seed === undefined ? {} : { sample: { seed } }),
      ...(this.#signal ? { signal: this.#signal } : {}),
    }
    if (this.#vae.info.text !== null) {
      // Text bundles encode the caption themselves (the `caption` option of issue 9).
      if (item.caption === undefined) {
        throw new VideoVaeError('ERR_TEXT', `${item.id}: the bundle (${this.#vae.info.variant}) needs a caption and the manifest gives none`)
      }
      options.caption = item.caption
    }
    let post: LatentChunk | undefined
    for await (const c of encodeStream(this.#vae, [{ frames, shape: [group.length, t, h, w, 3] }], options)) post = c
    this.stats.calls++
    this.stats.clips += group.length
    // Each stored tensor is copied to the host once; the rest never leaves the device.
    let tensors: Record<string, HostArray>[]
    if (store === 'sample') {
      const shape = post!.latent.shape
      tensors = splitBatch(await hostData(post!.latent), shape).map((latent) => ({ latent }))
    } else {
      post!.latent.dispose()
      const shape = post!.mean!.shape
      const [mean, logvar] = await Promise.all([hostData(post!.mean!), hostData(post!.logvar!)])
      const means = splitBatch(mean, shape)
      const logvars = splitBatch(logvar, shape)
      tensors = means.map((m, i) => ({ mean: m, logvar: logvars[i]! }))
    }
    return group.map((g, i) => ({
      item: g.item,
      tensors: tensors[i]!,
      fps: g.clip.fps,
      frames: t,
      width: g.clip.width,
      height: g.clip.height,
      ...(seed === undefined ? {} : { seed }),
    }))
  }
}
