/**
 * Every error the package raises carries a stable `code`. Native errors arrive as plain
 * Errors with a code and are re-raised as VideoVaeError with a JS-side stack.
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
  /** Wrong argument types or counts (checked before any work starts). */
  | 'ERR_ARGUMENT'
  /** A .safetensors file is malformed. */
  | 'ERR_SAFETENSORS'
  /** Reading or writing a file failed. */
  | 'ERR_IO'
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
