/**
 * The I/O layer's error class. Its own module so that ffmpeg.ts and input_policy.ts, which both
 * throw it, need not import each other.
 */
import { VideoVaeError, type ErrorCode } from '../errors.js'

/** Stable error codes of the I/O layer: a part of the package's ErrorCode. */
export type VideoIOErrorCode = Extract<
  ErrorCode,
  /** The input file does not exist (or is not a regular file). */
  | 'ERR_NOT_FOUND'
  /** ffmpeg or ffprobe could not be found or started. */
  | 'ERR_FFMPEG_MISSING'
  /** The file is a damaged or truncated media file (empty, missing index, undecodable data). */
  | 'ERR_VIDEO_CORRUPT'
  /** The input has no video stream, or no frame in the requested range. */
  | 'ERR_NO_FRAMES'
  /** Not a format, codec or option that ffmpeg can handle here (a text file, an unknown encoder...). */
  | 'ERR_UNSUPPORTED'
  /**
   * An untrusted input in a format outside the allowlist (a playlist, a concat list, an SDP file...:
   * formats that make ffmpeg open other files or URLs); see `trusted`.
   */
  | 'ERR_FORMAT_NOT_ALLOWED'
  /** The output could not be written (missing or read-only directory, disk full, encoder failure). */
  | 'ERR_WRITE'
  /** An argument is invalid (wrong buffer length, bad shape, out-of-range option). */
  | 'ERR_ARGUMENT'
  /** Two inputs that must match do not (frame counts or sizes in a comparison). */
  | 'ERR_MISMATCH'
  /** The operation was cancelled through its AbortSignal. */
  | 'ERR_ABORTED'
  /** ffmpeg failed for a reason not recognised above. */
  | 'ERR_FFMPEG'
>

/** Options of a {@link VideoIOError}. */
export interface VideoIOErrorOptions {
  /** The file concerned, when there is one. Default: undefined. */
  path?: string
  /** The last lines ffmpeg printed on stderr, when ffmpeg was involved. Default: undefined. */
  stderr?: string
  /** ffmpeg's exit code, when it ran. Default: undefined. */
  exitCode?: number | null
  /** The underlying error. Default: undefined. */
  cause?: unknown
}

/** An error of the I/O layer, with a stable {@link VideoIOErrorCode} in `code`. */
export class VideoIOError extends VideoVaeError {
  declare readonly code: VideoIOErrorCode
  readonly path: string | undefined
  readonly stderr: string | undefined
  readonly exitCode: number | null | undefined

  constructor(code: VideoIOErrorCode, message: string, options: VideoIOErrorOptions = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'VideoIOError'
    this.path = options.path
    this.stderr = options.stderr
    this.exitCode = options.exitCode
  }
}
