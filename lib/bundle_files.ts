// Opening the files a bundle's manifest names, safely: a name must resolve (symlinks
// followed) to a regular file inside the bundle's real directory. A FIFO, a device or a
// directory is refused before it is read (reading a FIFO would block forever), and a symlink
// that leads out of the bundle is refused, so loading never reads what the user did not point at.
import { createHash } from 'node:crypto'
import { constants } from 'node:fs'
import { open, realpath, type FileHandle } from 'node:fs/promises'
import * as path from 'node:path'

import { VideoVaeError } from './errors.js'

function bundleError(message: string, cause?: unknown): VideoVaeError {
  return new VideoVaeError('ERR_BUNDLE', message, cause === undefined ? undefined : { cause })
}

const outside = (root: string, file: string): boolean => {
  const rel = path.relative(root, file)
  return rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)
}

/** The bundle directory's real path (symlinks resolved), or ERR_BUNDLE when it does not exist. */
export async function realBundleRoot(dir: string): Promise<string> {
  try {
    return await realpath(path.resolve(dir))
  } catch (err) {
    throw bundleError(`not a bundle: cannot read ${path.join(path.resolve(dir), 'manifest.json')} (${(err as Error).message})`, err)
  }
}

/**
 * Resolves `rel` inside `root` (a real path) and opens it for reading without blocking.
 * `what` names the file in messages. The caller closes the handle.
 */
export async function openBundleFile(root: string, rel: string, what: string): Promise<{ file: string; handle: FileHandle }> {
  const lexical = path.resolve(root, rel)
  if (outside(root, lexical)) throw bundleError(`${what} points outside the bundle (${rel})`)
  let file: string
  try {
    file = await realpath(lexical)
  } catch (err) {
    throw bundleError(`${what} (${rel}) is missing or unreadable: ${(err as Error).message}`, err)
  }
  if (outside(root, file)) throw bundleError(`${what} (${rel}) is a symlink to ${file}, outside the bundle`)
  let handle: FileHandle
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (err) {
    throw bundleError(`${what} (${rel}) is missing or unreadable: ${(err as Error).message}`, err)
  }
  const stat = await handle.stat()
  if (!stat.isFile()) {
    await handle.close()
    throw bundleError(`${what} (${rel}) is not a regular file (a FIFO, device or directory); a bundle holds regular files only`)
  }
  return { file, handle }
}

/** Checks `rel` as openBundleFile does and returns its real path. */
export async function checkBundleFile(root: string, rel: string, what: string): Promise<string> {
  const { file, handle } = await openBundleFile(root, rel, what)
  await handle.close()
  return file
}

/** sha256 (hex) of a bundle file, read through the checked handle. */
export async function hashBundleFile(root: string, rel: string, what: string): Promise<{ file: string; sha256: string }> {
  const { file, handle } = await openBundleFile(root, rel, what)
  try {
    const hash = createHash('sha256')
    for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer)
    return { file, sha256: hash.digest('hex') }
  } catch (err) {
    throw bundleError(`${what} (${rel}) is unreadable: ${(err as Error).message}`, err)
  } finally {
    await handle.close()
  }
}

/** The whole of a bundle file (manifest.json), read through the checked handle. */
export async function readBundleFile(root: string, rel: string, what: string): Promise<Buffer> {
  const { handle } = await openBundleFile(root, rel, what)
  try {
    return await handle.readFile()
  } catch (err) {
    throw bundleError(`${what} (${rel}) is unreadable: ${(err as Error).message}`, err)
  } finally {
    await handle.close()
  }
}
