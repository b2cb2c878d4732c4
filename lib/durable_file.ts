/**
 * Checked, durable file writes: every byte written or an error (a short write is never taken
 * for success: on a full disk write(2) writes part of a buffer and returns the count), fsync
 * awaited, and files that replace others go to a temporary beside them that is renamed into
 * place only once complete and synced. One module for the writers of the package.
 */
import { randomBytes } from 'node:crypto'
import { open, rename, rm, type FileHandle } from 'node:fs/promises'
import path from 'node:path'

/** At most this much per write call (Linux writes at most 0x7ffff000 bytes per call anyway). */
const MAX_WRITE = 1 << 30

function noProgress(file: string | undefined): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`ENOSPC: no space left on device, write${file ? ` '${file}'` : ''} wrote 0 bytes`)
  err.code = 'ENOSPC'
  return err
}

/**
 * Writes every byte of `chunks` at `position` (the current position when null; appends on a
 * file opened with 'a'), retrying short writes; a write that makes no progress throws ENOSPC.
 * Returns the bytes written.
 */
export async function writeFully(fh: FileHandle, chunks: readonly Uint8Array[], position: number | null = null, file?: string): Promise<number> {
  let total = 0
  for (const chunk of chunks) {
    let done = 0
    while (done < chunk.byteLength) {
      const length = Math.min(chunk.byteLength - done, MAX_WRITE)
      const { bytesWritten } = await fh.write(chunk, done, length, position === null ? null : position + total)
      if (bytesWritten <= 0) throw noProgress(file)
      done += bytesWritten
      total += bytesWritten
    }
  }
  return total
}

/**
 * A temporary name beside `file` (same directory, so the rename is atomic): `.<name>.<random>.tmp`,
 * or with `keepExtension` `.<stem>.<random>.tmp<ext>`, for writers such as ffmpeg that choose the
 * format from the extension.
 */
export function tempPathFor(file: string, keepExtension = false): string {
  const random = randomBytes(6).toString('hex')
  const ext = keepExtension ? path.extname(file) : ''
  return path.join(path.dirname(file), `.${path.basename(file, ext)}.${random}.tmp${ext}`)
}

/**
 * Writes `chunks` to a new temporary file beside `file`, fsyncs it and returns its path; on any
 * error the temporary is removed and the error rethrown.
 */
export async function writeTempFile(file: string, chunks: readonly Uint8Array[]): Promise<string> {
  const temp = tempPathFor(file)
  try {
    const fh = await open(temp, 'wx')
    try {
      await writeFully(fh, chunks, 0, temp)
      await fh.sync()
    } finally {
      await fh.close()
    }
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined) // the directory may be gone: report the write error
    throw err
  }
  return temp
}

/**
 * Replaces `file` with `chunks` atomically: temporary file, every byte written, fsync, rename,
 * then fsync of the directory. On any error `file` is left as it was and the temporary removed.
 */
export async function writeFileAtomic(file: string, chunks: readonly Uint8Array[]): Promise<void> {
  await moveIntoPlace(await writeTempFile(file, chunks), file)
}

/**
 * Renames the complete, synced temporary `temp` to `file`, then fsyncs the directory so that the
 * rename survives a crash. If the rename fails the temporary is removed and the error rethrown.
 */
export async function moveIntoPlace(temp: string, file: string): Promise<void> {
  try {
    await rename(temp, file)
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined)
    throw err
  }
  await syncDirectory(path.dirname(file))
}

/** fsyncs a file that another writer (e.g. ffmpeg) filled, before it replaces anything. */
export async function syncFile(file: string): Promise<void> {
  const fh = await open(file, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Makes a rename in `dir` durable. Best effort: not every platform can fsync a directory. */
export async function syncDirectory(dir: string): Promise<void> {
  await syncFile(dir).catch(() => undefined)
}
