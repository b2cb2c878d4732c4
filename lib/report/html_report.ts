/**
 * `--report FILE.html`: gathers each scored pair's media while a command runs and writes the
 * self-contained page at the end (temporary file, then rename: an interrupted or failed run
 * leaves no partial page).
 */
import { open } from 'node:fs/promises'
import path from 'node:path'

import { writeFully } from '../durable_file.js'
import { createTempFile } from '../io/atomic_output.js'
import { VideoIOError } from '../io/ffmpeg.js'
import { pageParts, scriptJson } from './page.js'
import { PairRecorder, type PairMedia } from './pair_recorder.js'

/** Frames of all pairs together that the page holds (a sprite of three 320-px views is 20-50 KB). */
export const REPORT_FRAME_BUDGET = 720
/** Frames one pair may hold. */
export const PAIR_FRAME_BUDGET = 240

/** A pair in the page: its media and where its numbers are in the result (a JSON pointer). */
export interface ReportPair extends PairMedia {
  name: string
  ref: string
  test: string
  /** JSON pointer into the embedded result of the object holding psnr, ssim, frames and perFrame. */
  result: string
}

export interface ReportContent {
  title: string
  /** One sentence on how the numbers were measured. */
  protocol: string
  /** Exactly what the command's --json prints. */
  result: unknown
  /** What the command printed (or would have, without --json). */
  transcript: string
  /** Show the index table of pairs (directories). */
  index: boolean
  /** JSON replacer of the command's --json output (NaN -> null). */
  replacer?: (key: string, value: unknown) => unknown
}

export class HtmlReport {
  readonly file: string
  readonly #budget: number
  readonly #pairs: ReportPair[] = []
  readonly #live = new Set<PairRecorder>()

  /** `pairCount` pairs will be scored; the frame budget is shared between them. */
  constructor(file: string, pairCount: number) {
    this.file = file
    this.#budget = Math.min(PAIR_FRAME_BUDGET, Math.max(16, Math.floor(REPORT_FRAME_BUDGET / Math.max(1, pairCount))))
  }

  /** A recorder for the next pair; hand it back with addPair (or it is dropped on abort). */
  recorder(what: string): PairRecorder {
    const r = new PairRecorder(`the report's frames of ${what}`, this.#budget)
    this.#live.add(r)
    return r
  }

  /** Finishes a pair's recorder and puts the pair in the page. */
  async addPair(recorder: PairRecorder, pair: { name: string; ref: string; test: string; result: string }): Promise<void> {
    this.#live.delete(recorder)
    const media = await recorder.finish()
    if (media !== undefined) this.#pairs.push({ ...pair, ...media })
  }

  /** Drops a failed pair's recorder. */
  drop(recorder: PairRecorder): void {
    this.#live.delete(recorder)
    recorder.abort()
  }

  /** Writes the page (atomically). */
  async write(content: ReportContent): Promise<void> {
    const media = {
      generator: 'videovae',
      protocol: content.protocol,
      transcript: content.transcript,
      index: content.index,
      pairs: this.#pairs,
    }
    const parts = pageParts(content.title, scriptJson(content.result, content.replacer), scriptJson(media))
    const temp = await createTempFile(this.file)
    try {
      const fh = await open(temp.tempPath, 'w')
      try {
        // Every byte checked (a full disk writes part of a buffer); commit() fsyncs.
        await writeFully(
          fh,
          parts.map((part) => Buffer.from(part)),
          0,
          temp.tempPath,
        )
      } finally {
        await fh.close()
      }
      await temp.commit()
    } catch (err) {
      await temp.discard()
      throw err instanceof VideoIOError
        ? err
        : new VideoIOError('ERR_WRITE', `cannot write the report ${this.file}: ${(err as Error).message}`, { path: this.file, cause: err })
    }
  }

  /** Stops every encoder still running (after a failure or an interrupt). */
  abort(): void {
    for (const r of this.#live) r.abort()
    this.#live.clear()
  }
}

/** A usage error message when the report would overwrite one of the command's own files, else undefined. */
export function reportPathClash(report: string, others: (string | undefined)[]): string | undefined {
  const target = path.resolve(report)
  const clash = others.find((o) => o !== undefined && path.resolve(o) === target)
  return clash === undefined ? undefined : `--report ${report} would overwrite ${clash}`
}
