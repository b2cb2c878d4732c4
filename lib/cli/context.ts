/**
 * What every command gets: its flags (--json, --verbose, --quiet), the abort signal that
 * SIGINT fires, and the ways to talk to the user (result on stdout, warnings on stderr,
 * progress bars on a terminal).
 */
import { CliError, EXIT } from './errors.js'
import { Progress, progressWanted } from './progress.js'

export interface OutputFlags {
  json?: boolean
  verbose?: boolean
  quiet?: boolean
}

export class Context {
  readonly json: boolean
  readonly verbose: boolean
  readonly quiet: boolean
  readonly signal: AbortSignal
  /** What print() was given since recordTranscript(), also in --json mode (for --report). */
  #transcript: string[] | undefined
  #printed = false

  constructor(flags: OutputFlags, signal: AbortSignal) {
    this.json = flags.json === true
    this.verbose = flags.verbose === true
    this.quiet = flags.quiet === true
    this.signal = signal
  }

  /** Human-readable output on stdout (nothing in --json mode). */
  print(text: string): void {
    const line = text.endsWith('\n') ? text : `${text}\n`
    this.#transcript?.push(line)
    if (!this.json) process.stdout.write(line)
  }

  /** Starts keeping what print() is given (off by default: long-running commands print a lot). */
  recordTranscript(): void {
    this.#transcript ??= []
  }

  /** What print() was given since recordTranscript(). */
  get transcript(): string {
    return this.#transcript?.join('') ?? ''
  }

  /** The one JSON object of --json mode (ignored otherwise). */
  result(value: unknown): void {
    if (!this.json) return
    if (this.#printed) throw new CliError('ERR_INTERNAL', 'a command printed two JSON results')
    this.#printed = true
    process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`)
  }

  /** A note on stderr (also in --json mode; never on stdout). */
  warn(message: string): void {
    process.stderr.write(`videovae: warning: ${message}\n`)
  }

  /** Details on stderr with --verbose. */
  debug(message: string): void {
    if (this.verbose) process.stderr.write(`videovae: ${message}\n`)
  }

  /** A progress bar on stderr, drawn only on a terminal and without --quiet. */
  progress(label: string, unit: string, total?: number): Progress {
    const bar = new Progress({ label, unit, total, enabled: progressWanted(this.quiet) })
    if (total !== undefined) bar.update(0)
    return bar
  }

  /** Throws ERR_ABORTED once SIGINT was received (call before committing an output). */
  throwIfAborted(): void {
    if (this.signal.aborted) throw new CliError('ERR_ABORTED', 'interrupted', EXIT.INTERRUPTED)
  }
}

/** NaN and infinities are not JSON: they become null. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value
}
