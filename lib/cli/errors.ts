/**
 * Exit codes and error reporting of the `videovae` command: one line
 * `videovae: <message> (<code>)` on stderr, the stack only with --verbose.
 */
import { VideoVaeError, type ErrorCode } from '../errors.js'

/** Process exit codes. */
export const EXIT = {
  /** Success. */
  OK: 0,
  /** A runtime failure (bad input file, missing bundle, libtorch error, ...). */
  FAILURE: 1,
  /** A usage error: unknown option, missing or malformed argument. */
  USAGE: 2,
  /** The command ran but its verdict is negative: a parity mismatch, or some of several items failed. */
  MISMATCH: 3,
  /** Interrupted (SIGINT; main() reports SIGTERM as 143, SIGHUP as 129): the job was aborted and no partial output was left. */
  INTERRUPTED: 130,
} as const

/** An error raised by the CLI itself, with a stable code and the exit code it leads to. */
export class CliError extends VideoVaeError {
  readonly exitCode: number

  constructor(code: ErrorCode, message: string, exitCode: number = EXIT.FAILURE, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

/** A usage error (exit 2): the command line itself is wrong. */
export function usageError(message: string): CliError {
  return new CliError('ERR_USAGE', message, EXIT.USAGE)
}

/** The stable code of any error (a VideoVaeError of any family, Node system errors). */
export function errorCode(error: unknown): string {
  if (error instanceof VideoVaeError) return error.code
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : 'ERR_INTERNAL'
}

/** Whether the error is the cancellation of a job. */
export function isAbort(error: unknown): boolean {
  return errorCode(error) === 'ERR_ABORTED' || (error as Error | null)?.name === 'AbortError'
}

/** The exit code an error leads to. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode
  if (isAbort(error)) return EXIT.INTERRUPTED
  return EXIT.FAILURE
}

/** The error's message on one line (libtorch and ffmpeg messages can span several). */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' | ')
}

/** `videovae: <message> (<code>)`, plus the stack (and causes) when verbose. */
export function formatError(error: unknown, verbose: boolean): string {
  let text = `videovae: ${oneLine(error)} (${errorCode(error)})`
  if (verbose && error instanceof Error) {
    if (error.stack) text += `\n${error.stack}`
    const stderr = (error as { stderr?: unknown }).stderr
    if (typeof stderr === 'string' && stderr.trim() !== '') text += `\nffmpeg said:\n${stderr.trimEnd()}`
    let cause = error.cause
    while (cause instanceof Error) {
      text += `\ncaused by: ${cause.stack ?? cause.message}`
      cause = cause.cause
    }
  }
  return text
}
