/**
 * VideoVAE: the model a user calls. Loads the four stage modules of a bundle and runs
 * encode / decode / reconstruct as one native job per call (padding, chunking, tiling and
 * blending happen in C++ on a worker thread; the event loop stays free).
 */
import path from 'node:path'

import { checkAotiBundle, loadAotiStages } from './aoti_stages.js'
import { readBundle, STAGE_NAMES, type AotiInfo, type BundleInfo } from './bundle.js'
import { explainTorchVersionSkew } from './bundle_torch_version.js'
import { CaptionEncoder, captionList } from './caption_encoder.js'
import { normalizeDevice, type Device } from './device.js'
import { runOnDevice } from './device_queue.js'
import { nativeAsync, VideoVaeError } from './errors.js'
import { checkMemoryLimit, type JobSize, type MemoryLimit } from './memory_limit.js'
import { TorchModule } from './module.js'
import { native, type NativeAddon, type NativeCancelToken, type NativeModuleHandle, type NativeTextInputs } from './native.js'
import { packageRoot } from './package_root.js'
import { ProgressGuard } from './progress_guard.js'
import { disposeWeights, readQuantizedWeights } from './quantized_weights.js'
import { checkLatentShape, decodedSize } from './rules.js'
import { cuda, setNumThreads } from './runtime.js'
import { Tensor } from './tensor.js'
import {
  decodeStream,
  encodeStream,
  reconstructStream,
  type DecodedFrames,
  type DecodeStreamOptions,
  type EncodeStreamOptions,
  type FrameBlock,
  type LatentChunk,
  type ReconstructedFrames,
  type ReconstructStreamOptions,
} from './engine/streams.js'
import {
  checkRunOptions,
  checkVideoRules,
  videoGeometry,
  type DecodeOptions,
  type EncodeOptions,
  type NativeRunOptions,
  type RunOptions,
} from './vae_options.js'

export interface VideoVAELoadOptions {
  /** 'cpu' (default), 'cuda' or 'cuda:N'. */
  device?: Device
  /** Intra-op threads for libtorch (process-wide, like setNumThreads). Default: libtorch's choice. */
  threads?: number
  /** Verify the sha256 of every bundle file against the manifest. Default true. */
  verify?: boolean
  /**
   * Compute dtype: 'float32' (default, the reference), or 'bfloat16' / 'float16'. Weights are
   * converted at load when the bundle stores another precision; inputs are cast; latents and
   * videos come back as float32.
   */
  dtype?: 'float32' | 'bfloat16' | 'float16'
  /**
   * Switches cuDNN benchmark mode on or off for the whole process, like `cuda.setCudnnBenchmark`
   * (left as it is when absent). Only CUDA runs are affected.
   */
  cudnnBenchmark?: boolean
}

/** The posterior of an encode: its mean, log-variance and the latent (mode or sample). */
export interface Posterior {
  mean: Tensor
  logvar: Tensor
  latent: Tensor
  /** Input frame count before padding: pass it to decode({ frames }) to crop back. */
  frames: number
  /** Input frame size before `pad`: pass it to decode({ height, width }) to crop back. */
  height: number
  width: number
}

/** The embedded default model shipped inside the package. */
export function defaultBundleDir(): string {
  return path.join(packageRoot(), 'assets', 'default-bundle')
}

export class VideoVAE implements Disposable {
  /** The bundle's manifest: variant, latent channels, shape rules, text requirements. */
  readonly info: BundleInfo
  readonly device: string
  #stages: TorchModule[] | null
  /** AOTInductor bundles: the image-path spatial encoder and decoder packages (null: none). */
  #imageStages: (TorchModule | null)[] | null
  #captions: CaptionEncoder | null

  private constructor(info: BundleInfo, stages: TorchModule[], captions: CaptionEncoder | null, imageStages: (TorchModule | null)[] | null = null) {
    this.info = info
    this.#stages = stages
    this.#imageStages = imageStages
    this.#captions = captions
    this.device = stages[0].device
  }

  /** An `engine: "aoti"` bundle: checked against this CPU, libtorch and device, then its packages loaded. */
  static async #loadAoti(info: BundleInfo & { aoti: AotiInfo }, device: string, dtype: string | undefined): Promise<VideoVAE> {
    if (dtype !== undefined && dtype !== info.aoti.dtype) {
      throw new VideoVaeError(
        'ERR_DTYPE',
        `${info.dir} holds AOTInductor packages compiled for ${info.aoti.dtype}; they cannot compute in ${dtype}: export a ${dtype} bundle (videovae export --engine aoti)`,
      )
    }
    checkAotiBundle(info, device)
    const { stages, image } = await loadAotiStages(info, device)
    let captions: CaptionEncoder | null = null
    try {
      captions = info.t5 ? await CaptionEncoder.load(info.dir, { device: device as Device, verify: false }) : null
    } catch (error) {
      for (const m of [...stages, ...image]) m?.dispose()
      throw error
    }
    return new VideoVAE(info, stages, captions, image)
  }

  /** Loads a bundle directory (default: the embedded default model) and verifies it. */
  static async load(bundleDir?: string, options: VideoVAELoadOptions = {}): Promise<VideoVAE> {
    const device = normalizeDevice(options.device ?? 'cpu')
    if (options.threads !== undefined) setNumThreads(options.threads)
    if (options.cudnnBenchmark !== undefined) cuda.setCudnnBenchmark(options.cudnnBenchmark)
    const info = await readBundle(bundleDir ?? defaultBundleDir(), { verify: options.verify ?? true })
    if (info.aoti) return VideoVAE.#loadAoti(info as BundleInfo & { aoti: AotiInfo }, device, options.dtype)
    const dtype = options.dtype ?? 'float32'
    if (!['float32', 'bfloat16', 'float16'].includes(dtype)) {
      throw new VideoVaeError('ERR_DTYPE', `dtype must be 'float32', 'bfloat16' or 'float16', got ${String(dtype)}`)
    }
    // Weights stored in another precision (the default bundle keeps float16) are converted.
    const loadOptions = { device: device as Device, ...(dtype === info.dtype ? {} : { dtype }) }
    // int8-stored weights (the embedded default model) are rebuilt in float32 while loading.
    const quantized = info.quantization ? await readQuantizedWeights(info.quantization.file) : null
    const loaded = await Promise.allSettled(STAGE_NAMES.map((s) => TorchModule.load(info.files[s], { ...loadOptions, quantizedWeights: quantized?.[s] })))
    disposeWeights(quantized)
    const stages = loaded.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    // The T5 encoder keeps its own compute dtype (manifest t5.dtype); hashes were checked above.
    const captions = await (info.t5 ? CaptionEncoder.load(info.dir, { device: device as Device, verify: false }) : null)?.then(
      (c) => ({ ok: true as const, c }),
      (error: unknown) => ({ ok: false as const, error }),
    )
    const failure = loaded.find((r) => r.status === 'rejected')
    if (failure || (captions && !captions.ok)) {
      for (const m of stages) m.dispose()
      if (captions?.ok) captions.c.dispose()
      throw failure ? explainTorchVersionSkew(failure.reason, info.torchVersion) : (captions as { error: unknown }).error
    }
    return new VideoVAE(info, stages, captions?.ok ? captions.c : null)
  }

  /** The bundle's caption encoder (T5 + tokenizer), or null when it was exported without --t5. */
  get captionEncoder(): CaptionEncoder | null {
    this.#liveStages()
    return this.#captions
  }

  /** The stage modules, in bundle order (spatial encoder, temporal encoder, temporal decoder, spatial decoder). */
  get stages(): readonly TorchModule[] {
    return this.#liveStages()
  }

  /** AOTInductor bundles: the image-path spatial encoder and decoder packages (null: not exported); [] for TorchScript. */
  get imageStages(): readonly (TorchModule | null)[] {
    this.#liveStages()
    return this.#imageStages ?? []
  }

  get disposed(): boolean {
    return this.#stages === null
  }

  /**
   * Encodes a video to its latent `[B, z, T/4, H/8, W/8]` (the posterior mode, as the
   * official inference uses), or with `{ image: true }` images to `[B, z, T, H/8, W/8]`.
   * Input: uint8 RGB frames `[T,H,W,3]` / `[B,T,H,W,3]`, or a float `[B,3,T,H,W]` in [-1, 1].
   * T is padded to a multiple of 4 by repeating the last frame.
   */
  encode(video: Tensor, options: EncodeOptions & { posterior: true }): Promise<Posterior>
  encode(video: Tensor, options?: EncodeOptions): Promise<Tensor>
  async encode(video: Tensor, options: EncodeOptions = {}): Promise<Tensor | Posterior> {
    const post = await this.encodePosterior(video, options)
    if (options.posterior) return post
    post.mean.dispose()
    post.logvar.dispose()
    return post.latent
  }

  /**
   * @internal The streaming engine's encode (lib/engine): the posterior, and with `padTime` a
   * stream's short tail of 1 to 3 frames is padded to 4 natively, as the whole clip's would be.
   */
  async encodePosterior(video: Tensor, options: EncodeOptions, padTime = false): Promise<Posterior> {
    const flat = this.#videoJobOptions(video, options, padTime)
    const input = video.handle()
    const out = await this.#run(
      options,
      videoGeometry(video).batch,
      (addon, stages, text, progress, token) => addon.vaeEncode(stages, input, text, flat, progress, token),
      (addon, out) => [out.latent, out.mean, out.logvar].forEach((t) => addon.tensorDispose(t)),
    )
    return {
      mean: Tensor.fromHandle(out.mean),
      logvar: Tensor.fromHandle(out.logvar),
      latent: Tensor.fromHandle(out.latent),
      frames: out.frames,
      height: out.height,
      width: out.width,
    }
  }

  /**
   * Decodes a latent `[B, z, T', h, w]` to video `[B, 3, 4T', 8h, 8w]` (not clamped), or with
   * `{ output: 'uint8' }` to RGB frames `[B, T, H, W, 3]` quantised like the official scripts.
   */
  async decode(latent: Tensor, options: DecodeOptions = {}): Promise<Tensor> {
    if (!(latent instanceof Tensor)) throw new VideoVaeError('ERR_ARGUMENT', 'latent must be a Tensor')
    const s = latent.shape
    checkLatentShape(this.info, s)
    const flat = checkRunOptions(options, this.info, s[0], this.#captions !== null)
    this.#checkMemory({ batch: s[0], ...decodedSize(this.info, s, flat.image) }, flat, options.memoryLimit, 'the decoded latent')
    if (options.frames !== undefined) {
      if (!Number.isInteger(options.frames) || options.frames < 1) {
        throw new VideoVaeError('ERR_ARGUMENT', `frames must be a positive integer, got ${options.frames}`)
      }
      flat.frames = options.frames
    }
    for (const key of ['height', 'width'] as const) {
      const value = options[key]
      if (value === undefined) continue
      if (!Number.isInteger(value) || value < 1) throw new VideoVaeError('ERR_ARGUMENT', `${key} must be a positive integer, got ${value}`)
      flat[key] = value
    }
    if (options.output !== undefined && options.output !== 'float32' && options.output !== 'uint8') {
      throw new VideoVaeError('ERR_ARGUMENT', `output must be 'float32' or 'uint8', got ${String(options.output)}`)
    }
    flat.uint8 = options.output === 'uint8'
    const input = latent.handle()
    const out = await this.#run(
      options,
      s[0],
      (addon, stages, text, progress, token) => addon.vaeDecode(stages, input, text, flat, progress, token),
      (addon, out) => addon.tensorDispose(out),
    )
    return Tensor.fromHandle(out)
  }

  /**
   * encode then decode, cropped back to the input's frame count and size, in one native job (the
   * latent never leaves the device). `output: 'uint8'` gives RGB frames `[B,T,H,W,3]`.
   */
  async reconstruct(video: Tensor, options: EncodeOptions & DecodeOptions = {}): Promise<Tensor> {
    return this.reconstructChunk(video, options)
  }

  /**
   * @internal The streaming engine's reconstruct (lib/engine): `padTime` as encodePosterior's,
   * `height`/`width` crop further (what --fit pad added).
   */
  async reconstructChunk(video: Tensor, options: EncodeOptions & DecodeOptions, padTime = false): Promise<Tensor> {
    const flat = this.#videoJobOptions(video, options, padTime)
    if (options.output !== undefined && options.output !== 'float32' && options.output !== 'uint8') {
      throw new VideoVaeError('ERR_ARGUMENT', `output must be 'float32' or 'uint8', got ${String(options.output)}`)
    }
    flat.uint8 = options.output === 'uint8'
    for (const key of ['height', 'width'] as const) {
      const value = options[key]
      if (value === undefined) continue
      if (!Number.isInteger(value) || value < 1) throw new VideoVaeError('ERR_ARGUMENT', `${key} must be a positive integer, got ${value}`)
      flat[key] = value
    }
    const input = video.handle()
    const out = await this.#run(
      options,
      videoGeometry(video).batch,
      (addon, stages, text, progress, token) => addon.vaeReconstruct(stages, input, text, flat, progress, token),
      (addon, out) => addon.tensorDispose(out),
    )
    return Tensor.fromHandle(out)
  }

  /** Streams latent chunks out of a stream of uint8 frame blocks (see lib/engine/streams.ts). */
  encodeStream(source: AsyncIterable<FrameBlock> | Iterable<FrameBlock>, options?: EncodeStreamOptions): AsyncGenerator<LatentChunk> {
    return encodeStream(this, source, options)
  }

  /** Streams uint8 frame blocks out of a stream of latent chunks. */
  decodeStream(latents: AsyncIterable<LatentChunk | Tensor> | Iterable<LatentChunk | Tensor>, options?: DecodeStreamOptions): AsyncGenerator<DecodedFrames> {
    return decodeStream(this, latents, options)
  }

  /** Streams reconstructed uint8 frame blocks out of a stream of frame blocks, one native job per chunk. */
  reconstructStream(source: AsyncIterable<FrameBlock> | Iterable<FrameBlock>, options?: ReconstructStreamOptions): AsyncGenerator<ReconstructedFrames> {
    return reconstructStream(this, source, options)
  }

  dispose(): void {
    const stages = this.#stages
    this.#stages = null
    for (const m of stages ?? []) m.dispose()
    for (const m of this.#imageStages ?? []) m?.dispose()
    this.#imageStages = null
    this.#captions?.dispose()
    this.#captions = null
  }

  [Symbol.dispose](): void {
    this.dispose()
  }

  /** Captions for a text bundle with T5: one per batch item (the empty caption by default). */
  #captionRequest(options: RunOptions, batch: number): NativeTextInputs | null {
    if (!this.info.text || this.#captions === null) return null
    const list = captionList(options.caption ?? '')
    return this.#captions.request(list.length === 1 ? new Array<string>(batch).fill(list[0]) : list)
  }

  /** The checked native options of a job on a video (encode, reconstruct); ERR_LIMIT before it runs. */
  #videoJobOptions(video: Tensor, options: EncodeOptions, padTime: boolean): NativeRunOptions {
    const geometry = videoGeometry(video)
    // A padded short tail passes the frame rule the way the clip it ends does.
    const ruled = padTime && !options.image ? { ...geometry, frames: Math.max(geometry.frames, this.info.rules.tMin) } : geometry
    checkVideoRules(ruled, this.info, options.image ?? false, options.pad ?? false)
    const flat = checkRunOptions(options, this.info, geometry.batch, this.#captions !== null)
    this.#checkMemory(ruled, flat, options.memoryLimit, 'the video')
    flat.pad = options.pad ?? false
    if (padTime) flat.padTime = true
    if (options.sample) {
      if (!Number.isSafeInteger(options.sample.seed) || options.sample.seed < 0) {
        throw new VideoVaeError('ERR_ARGUMENT', 'sample.seed must be a non-negative integer')
      }
      flat.sample = true
      flat.seed = options.sample.seed
    }
    return flat
  }

  /** ERR_LIMIT before the native job when the job's estimated memory exceeds the limit. */
  #checkMemory(size: JobSize, flat: NativeRunOptions, limit: MemoryLimit | undefined, subject: string): void {
    const layout = {
      image: flat.image,
      ...(flat.chunkFrames > 0 ? { chunkFrames: flat.chunkFrames } : {}),
      ...(flat.tileSize > 0 ? { tile: { size: flat.tileSize } } : {}),
    }
    checkMemoryLimit(this.info, size, layout, { limit, device: this.device, subject })
  }

  #liveStages(): TorchModule[] {
    if (this.#stages === null) throw new VideoVaeError('ERR_DISPOSED', 'the VideoVAE was disposed')
    return this.#stages
  }

  /**
   * Runs one native pipeline job with the stages, text, progress and cancellation wired in.
   * An onProgress that throws or rejects stops the job and the call rejects with its error
   * (`drop` frees the result of a job that finished anyway).
   */
  async #run<T>(
    options: RunOptions,
    batch: number,
    job: (
      addon: NativeAddon,
      stages: (NativeModuleHandle | null)[],
      text: NativeTextInputs | null,
      progress: ((done: number, total: number) => void) | null,
      token: NativeCancelToken,
    ) => Promise<T>,
    drop: (addon: NativeAddon, out: T) => void,
  ): Promise<T> {
    const stages: (NativeModuleHandle | null)[] = this.#liveStages().map((m) => m.handle())
    // AOTInductor bundles: the image path runs packages of its own (null: not exported).
    if (this.#imageStages) stages.push(...this.#imageStages.map((m) => m?.handle() ?? null))
    const text = options.textEmbedding
      ? { embedding: options.textEmbedding.handle(), mask: options.textMask?.handle() ?? null }
      : this.#captionRequest(options, batch)
    const { signal, onProgress } = options
    if (onProgress != null && typeof onProgress !== 'function') {
      throw new VideoVaeError('ERR_ARGUMENT', 'onProgress must be a function')
    }
    if (signal?.aborted) throw new VideoVaeError('ERR_ABORTED', 'the operation was aborted')
    return runOnDevice(this.device, async () => {
      const addon = native()
      const token = addon.cancelTokenNew()
      const onAbort = (): void => addon.cancelTokenCancel(token)
      const guard = onProgress ? new ProgressGuard(onProgress, onAbort) : null
      signal?.addEventListener('abort', onAbort, { once: true })
      let out: T
      try {
        if (signal?.aborted) onAbort()
        out = await nativeAsync(() => job(addon, stages, text, guard?.report ?? null, token))
      } catch (error) {
        throw guard?.failure ? guard.failure.error : error
      } finally {
        signal?.removeEventListener('abort', onAbort)
      }
      if (guard) await guard.drain()
      if (guard?.failure) {
        drop(addon, out)
        throw guard.failure.error
      }
      return out
    })
  }
}
