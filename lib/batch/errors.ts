import { VideoVaeError, type ErrorCode } from '../errors.js'

/** Errors of dataset batch encoding, each with a stable `code` from the package's ErrorCode. */
export type BatchErrorCode = Extract<
  ErrorCode,
  /** The manifest is missing, malformed, or names an item twice. */
  | 'ERR_MANIFEST'
  /** A clip has fewer frames than the model or --frames needs. */
  | 'ERR_TOO_SHORT'
  /** The output directory holds a dataset made with other settings or another bundle. */
  | 'ERR_DATASET_MISMATCH'
  /** An index file of the output directory is damaged in the middle (not just a torn last line). */
  | 'ERR_INDEX'
  /** Writing the output failed (a full disk, an I/O error): what it wrote is not committed. */
  | 'ERR_IO'
  /** Another live process writes the same part of the output directory. */
  | 'ERR_BUSY'
  /** The queue URL is malformed or redis cannot be reached. */
  | 'ERR_QUEUE'
  /** A malformed argument (shard spec, sizes). */
  | 'ERR_ARGUMENT'
>

export class BatchError extends VideoVaeError {
  declare readonly code: BatchErrorCode

  constructor(code: BatchErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'BatchError'
  }
}
