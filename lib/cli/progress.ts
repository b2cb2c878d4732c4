/**
 * A one-line progress bar on stderr with rate and ETA. Silent unless stderr is a terminal
 * (so pipes, files and CI logs stay clean) or when turned off with --quiet.
 */

export interface ProgressOptions {
  /** Label at the start of the line, e.g. 'encode'. */
  label: string
  /** Name of the counted unit in the rate, e.g. 'frames'. */
  unit: string
  /** Total units, when known. */
  total?: number
  /** Draw at all. Default: stderr is a TTY. */
  enabled?: boolean
  /** Stream to draw on. Default: process.stderr. */
  stream?: NodeJS.WriteStream
}

/** Seconds as m:ss or h:mm:ss. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--'
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const ss = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}

/** Whether progress bars should be drawn by default. */
export function progressWanted(quiet: boolean): boolean {
  return !quiet && process.stderr.isTTY === true && process.env.TERM !== 'dumb'
}

export class Progress {
  readonly #label: string
  readonly #unit: string
  readonly #stream: NodeJS.WriteStream
  readonly #enabled: boolean
  readonly #start = performance.now()
  #total: number | undefined
  #done = 0
  #lastDraw = 0
  #drawn = false
  #finished = false

  constructor(options: ProgressOptions) {
    this.#label = options.label
    this.#unit = options.unit
    this.#total = options.total
    this.#stream = options.stream ?? process.stderr
    this.#enabled = options.enabled ?? progressWanted(false)
  }

  /** Sets the units done (and the total when it became known). */
  update(done: number, total?: number): void {
    if (this.#finished) return // late callbacks of a finished job
    this.#done = done
    if (total !== undefined) this.#total = total
    const now = performance.now()
    if (this.#enabled && (now - this.#lastDraw > 100 || (this.#total !== undefined && done >= this.#total))) {
      this.#lastDraw = now
      this.#draw(now)
    }
  }

  /** Clears the line (the caller prints its own summary). */
  finish(): void {
    this.#finished = true
    if (this.#enabled && this.#drawn) this.#stream.write('\r\x1b[2K')
    this.#drawn = false
  }

  /** The line as drawn (exposed for tests). */
  line(now = performance.now()): string {
    const elapsed = (now - this.#start) / 1000
    const rate = elapsed > 0 ? this.#done / elapsed : 0
    const total = this.#total
    const parts = [this.#label.padEnd(9)]
    if (total !== undefined && total > 0) {
      const width = 24
      const filled = Math.min(width, Math.round((this.#done / total) * width))
      parts.push(`[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`, `${this.#done}/${total} ${this.#unit}`)
    } else {
      parts.push(`${this.#done} ${this.#unit}`)
    }
    parts.push(`${rate.toFixed(rate >= 10 ? 0 : 1)} ${this.#unit}/s`)
    if (total !== undefined && total > 0 && this.#done < total) {
      parts.push(`ETA ${rate > 0 ? formatDuration((total - this.#done) / rate) : '--:--'}`)
    } else {
      parts.push(`${formatDuration(elapsed)}`)
    }
    return parts.join('  ')
  }

  #draw(now: number): void {
    const columns = this.#stream.columns || 80
    this.#stream.write(`\r\x1b[2K${this.line(now).slice(0, Math.max(10, columns - 1))}`)
    this.#drawn = true
  }
}
