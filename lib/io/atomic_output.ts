/**
 * Outputs that appear only when complete: everything is written to a temporary name in the
 * destination directory and renamed into place on success. Failed or interrupted writes remove
 * their temporaries (also when the process exits normally mid-write), so a file at the final
 * path is always a complete one, and a failed overwrite leaves the old file untouched.
 */
import { rmSync } from 'node:fs'
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { moveIntoPlace, syncDirectory, syncFile, tempPathFor } from '../durable_file.js'
import { killAllTools, VideoIOError } from './ffmpeg.js'

const pending = new Set<string>()
let exitHookInstalled = false

function track(path: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once('exit', () => {
      if (pending.size > 0) killAllTools() // nothing may write into a temporary being removed
      for (const p of pending) {
        try {
          rmSync(p, { recursive: true, force: true })
        } catch {
          // best effort at exit
        }
      }
    })
  }
  pending.add(path)
}

function writeError(path: string, err: unknown): VideoIOError {
  const reason = err instanceof Error ? err.message : String(err)
  return new VideoIOError('ERR_WRITE', `cannot write ${path}: ${reason}`, { path, cause: err })
}

async function checkOverwrite(path: string, overwrite: boolean): Promise<void> {
  if (overwrite) return
  try {
    await stat(path)
  } catch {
    return
  }
  throw new VideoIOError('ERR_WRITE', `${path} already exists (overwrite is false)`, { path })
}

/** A temporary file next to its destination. */
export interface TempFile {
  /** Where the data is written meanwhile (same directory and extension as the destination). */
  readonly tempPath: string
  /** Renames the temporary into place. */
  commit(): Promise<void>
  /** Removes the temporary (idempotent). */
  discard(): Promise<void>
}

/**
 * Reserves a temporary file beside `path` (`.<stem>.<random>.tmp<ext>`, named by durable_file, the
 * extension kept for ffmpeg); creating it checks that the directory is writable.
 * @throws VideoIOError `ERR_WRITE`.
 */
export async function createTempFile(path: string, overwrite = true): Promise<TempFile> {
  const dest = resolve(path)
  await checkOverwrite(dest, overwrite)
  const tempPath = tempPathFor(dest, true)
  try {
    const fh = await open(tempPath, 'wx')
    await fh.close()
  } catch (err) {
    throw writeError(path, err)
  }
  track(tempPath)
  let done = false
  return {
    tempPath,
    commit: async () => {
      try {
        await syncFile(tempPath) // durable before it replaces anything
        await moveIntoPlace(tempPath, dest)
      } catch (err) {
        throw writeError(path, err)
      }
      done = true
      pending.delete(tempPath)
    },
    discard: async () => {
      if (done) return
      done = true
      await rm(tempPath, { force: true })
      pending.delete(tempPath)
    },
  }
}

/** A temporary directory for an image sequence next to its destination. */
export interface TempSequence {
  /** The pattern to give ffmpeg: the destination's file pattern inside the temporary directory. */
  readonly tempPattern: string
  /** Moves every file written into the destination directory; resolves to their final paths. */
  commit(): Promise<string[]>
  /** Removes the temporary directory (idempotent). */
  discard(): Promise<void>
}

/**
 * Creates a temporary directory beside the pattern `path` (e.g. `out/frame_%04d.png`).
 * @throws VideoIOError `ERR_WRITE`.
 */
export async function createTempSequence(path: string, overwrite = true): Promise<TempSequence> {
  const destPattern = resolve(path)
  const destDir = dirname(destPattern)
  const tempDir = tempPathFor(join(destDir, basename(destPattern).replace(/%/g, '')))
  try {
    await mkdir(tempDir)
  } catch (err) {
    throw writeError(path, err)
  }
  track(tempDir)
  let done = false
  const discard = async (): Promise<void> => {
    if (done) return
    done = true
    await rm(tempDir, { recursive: true, force: true })
    pending.delete(tempDir)
  }
  return {
    tempPattern: join(tempDir, basename(destPattern)),
    commit: async () => {
      const names = (await readdir(tempDir)).sort()
      const finals = names.map((n) => join(destDir, n))
      for (const f of finals) await checkOverwrite(f, overwrite)
      try {
        for (let i = 0; i < names.length; i++) {
          const temp = join(tempDir, names[i] as string)
          await syncFile(temp) // durable before it replaces anything
          await rename(temp, finals[i] as string)
        }
        await syncDirectory(destDir) // one directory sync for all the renames
      } catch (err) {
        throw writeError(path, err)
      } finally {
        await discard()
      }
      return finals
    },
    discard,
  }
}
