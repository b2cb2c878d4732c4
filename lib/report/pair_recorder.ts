/**
 * Collects the page's media for one pair of videos while they are scored: a JPEG sprite and a
 * heat map per kept frame. At most `budget` frames are kept: when a clip runs past it, every
 * other kept frame is dropped and the stride doubles, so memory is bounded whatever the length
 * (the curves still get every frame: they come from the scores, not from here).
 */
import { VideoIOError } from '../io/ffmpeg.js'
import { DIFF_GAIN, frameViews, heatGrid, proxySize } from './frame_views.js'
import { JpegStream } from './jpeg_stream.js'

/** What the page gets for one pair (base64 strings go into the page's JSON as they are). */
export interface PairMedia {
  /** Playback rate of the source frames. */
  fps: number
  /** Frame size of the scored frames. */
  width: number
  height: number
  /** Size of each of the three views in a sprite. */
  view: { width: number; height: number }
  /** Gain of the difference view. */
  gain: number
  /** Heat-map grid: `cols x rows` cells of `cell` pixels; values are dB x 4 (255: identical). */
  heat: { cols: number; rows: number; cell: number }
  /** Distance between kept frames (1: every frame is in the page). */
  stride: number
  /** Indices of the kept frames, ascending. */
  frames: number[]
  /** Per kept frame: JPEG of reference | reconstruction | difference, base64. */
  sprites: string[]
  /** Per kept frame: heat bytes (rows x cols), base64. */
  heatCells: string[]
}

interface Kept {
  frame: number
  seq: number
  heat: Uint8Array
  jpeg?: Buffer
}

export class PairRecorder {
  readonly #what: string
  readonly #budget: number
  #fps = 25
  #size: { width: number; height: number } | undefined
  #encoder: JpegStream | undefined
  #stride = 1
  #kept: Kept[] = []
  #bySeq = new Map<number, Kept>()
  #sent = 0
  #received = 0
  #error: unknown

  /** `what` names the pair in error messages; `budget` is the most frames kept (at least 2). */
  constructor(what: string, budget: number) {
    this.#what = what
    this.#budget = Math.max(2, Math.floor(budget))
  }

  set fps(fps: number) {
    if (Number.isFinite(fps) && fps > 0) this.#fps = fps
  }

  /**
   * Frame `index` of the pair (indices ascending from 0), `[height, width, 3]` RGB each. Never
   * throws: a failure (ffmpeg, a frame size that changes) stops the recording and is thrown by
   * finish(), so it cannot pass for a failure of the frames being scored.
   */
  async add(index: number, ref: Uint8Array, test: Uint8Array, width: number, height: number): Promise<void> {
    if (this.#error !== undefined) return
    try {
      await this.#add(index, ref, test, width, height)
    } catch (err) {
      this.#error = err
      this.#encoder?.abort()
    }
  }

  async #add(index: number, ref: Uint8Array, test: Uint8Array, width: number, height: number): Promise<void> {
    if (index % this.#stride !== 0) return
    if (this.#kept.length >= this.#budget) {
      this.#thin()
      if (index % this.#stride !== 0) return
    }
    if (this.#size === undefined) {
      this.#size = { width, height }
      const view = proxySize(width, height)
      this.#encoder = new JpegStream(view.width * 3, view.height, this.#what)
    } else if (this.#size.width !== width || this.#size.height !== height) {
      throw new VideoIOError('ERR_MISMATCH', `${this.#what}: the frame size changed from ${this.#size.width}x${this.#size.height} to ${width}x${height}`)
    }
    const views = frameViews(ref, test, width, height)
    const kept: Kept = { frame: index, seq: this.#sent++, heat: views.heat }
    this.#kept.push(kept)
    this.#bySeq.set(kept.seq, kept)
    await this.#encoder!.push(views.sprite)
    this.#collect(this.#encoder!.take())
  }

  /** Halves the kept frames: only multiples of the doubled stride stay. */
  #thin(): void {
    this.#stride *= 2
    const stay = this.#kept.filter((k) => k.frame % this.#stride === 0)
    for (const k of this.#kept) if (k.frame % this.#stride !== 0) this.#bySeq.delete(k.seq)
    this.#kept = stay
  }

  /** Encoded images arrive in the order they were sent; those of dropped frames are let go. */
  #collect(images: Buffer[]): void {
    for (const image of images) {
      const k = this.#bySeq.get(this.#received++)
      if (k !== undefined) k.jpeg = image
    }
  }

  /** The media of the pair, or undefined when no frame was added. */
  async finish(): Promise<PairMedia | undefined> {
    if (this.#error !== undefined) throw this.#error
    if (this.#encoder === undefined || this.#size === undefined) return undefined
    this.#collect(await this.#encoder.finish())
    const size = this.#size
    const missing = this.#kept.find((k) => k.jpeg === undefined)
    if (missing !== undefined) throw new VideoIOError('ERR_FFMPEG', `${this.#what}: ffmpeg returned no image for frame ${missing.frame}`)
    return {
      fps: this.#fps,
      width: size.width,
      height: size.height,
      view: proxySize(size.width, size.height),
      gain: DIFF_GAIN,
      heat: heatGrid(size.width, size.height),
      stride: this.#stride,
      frames: this.#kept.map((k) => k.frame),
      sprites: this.#kept.map((k) => k.jpeg!.toString('base64')),
      heatCells: this.#kept.map((k) => Buffer.from(k.heat).toString('base64')),
    }
  }

  /** Stops the encoder after a failure. */
  abort(): void {
    this.#encoder?.abort()
  }
}
