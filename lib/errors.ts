/**
 * Every error the package raises is a VideoVaeError (VideoIOError, BatchError and CliError are
 * subclasses) with a stable `code` from one vocabulary, ErrorCode. Native errors arrive as plain
 * Errors with a code and are re-raised as VideoVaeError with a JS-side stack.
 * The README table "Error codes" lists the same codes with their CLI exit codes.
 */
export type ErrorCode =
  /** A Tensor or TorchModule was used after dispose(). */
  | 'ERR_DISPOSED'
  /** A shape is malformed, or does not fit the data or the module. */
  | 'ERR_SHAPE'
  /** A dtype is unknown, does not fit the typed array, or does not fit the module. */
  | 'ERR_DTYPE'
  /** A device string is malformed, CUDA is unavailable, or tensors live on the wrong device. */
  | 'ERR_DEVICE'
  /** A file does not exist. */
  | 'ERR_NOT_FOUND'
  /** A TorchScript archive is unreadable, or a method does not exist. */
  | 'ERR_MODULE'
  /** An invalid argument: wrong types or counts, a bad buffer length or option, a malformed shard spec, a TorchScript ValueError/TypeError. */
  | 'ERR_ARGUMENT'
  /** A .safetensors file is malformed. */
  | 'ERR_SAFETENSORS'
  /** Reading or writing a file failed (in batch encoding: nothing of the failed write is committed). */
  | 'ERR_IO'
  /** libtorch (or the host) ran out of memory. */
  | 'ERR_OUT_OF_MEMORY'
  /** Not a format, codec or option ffmpeg can handle here, or an operation libtorch does not implement (NotImplementedError). */
  | 'ERR_UNSUPPORTED'
  /** Any other libtorch exception; the message is libtorch's, without the C++ backtrace. */
  | 'ERR_LIBTORCH'
  /** No compiled addon exists for this platform. */
  | 'ERR_ADDON_NOT_FOUND'
  /** The addon exists but the dynamic linker refused it. */
  | 'ERR_ADDON_LOAD'
  /** The libtorch the addon needs is not where the dynamic linker looks. */
  | 'ERR_LIBTORCH_NOT_FOUND'
  /** A libtorch is found, but not the version/flavour the addon was compiled against. */
  | 'ERR_LIBTORCH_MISMATCH'
  /** `videovae setup` could not install libtorch (no Python venv, pip failed). */
  | 'ERR_SETUP'
  /** A bundle directory is missing, malformed, or its files do not match the manifest. */
  | 'ERR_BUNDLE'
  /** An AOTInductor package's kernels need CPU instructions (avx512, amx...) this CPU lacks: re-export on this machine or with a lower ISA pin. */
  | 'ERR_CPU_ISA'
  /** A text model got no usable text conditioning, or malformed embeddings. */
  | 'ERR_TEXT'
  /** An AbortSignal cancelled the operation. */
  | 'ERR_ABORTED'
  /** Input values outside the expected range (video in [-1, 1]). */
  | 'ERR_RANGE'
  /** The job is larger than a limit: its estimated memory exceeds `memoryLimit` (see lib/memory_limit.ts). */
  | 'ERR_LIMIT'
  /** A bug in this package. */
  | 'ERR_INTERNAL'
  /** A native pipeline assertion failed: a job the TypeScript checks (lib/rules.ts) should have refused; a bug, or a direct call of the raw addon. */
  | 'ERR_ASSERTION'
  // Video and image I/O (lib/io, VideoIOError)
  /** ffmpeg or ffprobe could not be found or started. */
  | 'ERR_FFMPEG_MISSING'
  /** A damaged or truncated media file (empty, missing index, undecodable data). */
  | 'ERR_VIDEO_CORRUPT'
  /** No video stream, no frame in the requested range, or nothing to write. */
  | 'ERR_NO_FRAMES'
  /** An untrusted input in a format outside the allowlist (a playlist, a concat list, an SDP file...). */
  | 'ERR_FORMAT_NOT_ALLOWED'
  /** A video or image could not be written (missing or read-only directory, disk full, encoder failure). */
  | 'ERR_WRITE'
  /** Two inputs that must match do not (frame counts, sizes or file counts in a comparison). */
  | 'ERR_MISMATCH'
  /** ffmpeg failed for a reason not recognised above. */
  | 'ERR_FFMPEG'
  // Dataset batch encoding (lib/batch, BatchError)
  /** The manifest is missing, malformed, or names an item twice. */
  | 'ERR_MANIFEST'
  /** A clip has fewer frames than the model or --frames needs. */
  | 'ERR_TOO_SHORT'
  /** The output directory holds a dataset made with other settings or another bundle. */
  | 'ERR_DATASET_MISMATCH'
  /** An index file of the output directory is damaged in the middle (not just a torn last line). */
  | 'ERR_INDEX'
  /** Another live process writes the same part of the output directory. */
  | 'ERR_BUSY'
  /** The queue URL is malformed or redis cannot be reached. */
  | 'ERR_QUEUE'
  // The command line (lib/cli, CliError)
  /** The command line is wrong: unknown option, missing or malformed argument (exit 2). */
  | 'ERR_USAGE'
  /** No --bundle given and the embedded default model is not installed. */
  | 'ERR_NO_DEFAULT_MODEL'
  /** An output path cannot be used (missing or read-only directory, a directory where a file goes, too many frames for one image). */
  | 'ERR_OUTPUT'
  /** The output already exists and --force was not given. */
  | 'ERR_EXISTS'
  /** A latent file lacks its "latent" tensor, has the wrong shape, or unusable metadata. */
  | 'ERR_LATENT'
  /** A parity case file is malformed. */
  | 'ERR_CASE'
  /** The LPIPS module misbehaved. */
  | 'ERR_LPIPS'
  /** The HTML/JSON report could not be made. */
  | 'ERR_REPORT'
  /** `videovae export` failed (the Python exporter could not run or reported an error). */
  | 'ERR_EXPORT'
  /** `videovae export` needs the repository's Python exporter, which is not here. */
  | 'ERR_NO_EXPORTER'
  /** `videovae export` needs the project's Python environment, which is missing. */
  | 'ERR_NO_VENV'

/** The base class of every error the package throws: `instanceof VideoVaeError` and `code` hold for all. */
export class VideoVaeError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'VideoVaeError'
    this.code = code
  }
}

/** Re-raise anything thrown by the addon as a VideoVaeError with the same code and message. */
export function fromNative(error: unknown): VideoVaeError {
  if (error instanceof VideoVaeError) return error
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return new VideoVaeError(typeof code === 'string' ? (code as ErrorCode) : 'ERR_INTERNAL', error.message)
  }
  return new VideoVaeError('ERR_INTERNAL', String(error))
}

/** Runs a native call, converting its failures (sync throw or rejection) into VideoVaeError. */
export async function nativeAsync<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw fromNative(error)
  }
}

export function nativeSync<T>(call: () => T): T {
  try {
    return call()
  } catch (error) {
    throw fromNative(error)
  }
}
