/**
 * The index: one JSON line per committed item. It is the commit point of the dataset: an item
 * exists once its line is in an index file, fsynced, and never before (its tensors were written
 * and renamed into place first). A crash can at worst tear the last line of an append, which is
 * not committed: the writer that owns the file cuts it off when it opens it again.
 */
import { open, readdir, readFile, type FileHandle } from 'node:fs/promises'
import path from 'node:path'

import { writeFully } from '../durable_file.js'
import { BatchError } from './errors.js'
import { isIndexFileName } from './layout.js'

export interface IndexEntry {
  /** The item's id from the manifest. */
  id: string
  /** The clip it was encoded from (as the manifest resolved it). */
  source: string
  caption?: string
  /** The file holding its tensors, relative to the output directory. */
  shard: string
  /** Its position in that file: its tensors are named `<offset>/mean`, `<offset>/logvar` (or `<offset>/latent`). */
  offset: number
  /** Shape of each stored tensor: [z, T', h, w]. */
  shapes: Record<string, number[]>
  /** Frame rate of the frames that were encoded (exact rational like '30000/1001'). */
  fps: string
  /** Frames encoded (before the padding to a multiple of 4). */
  frames: number
  /** Frame size before --fit pad. */
  width: number
  height: number
  /** sha256 of the bundle's manifest.json. */
  bundle: string
  /** The seed of the drawn latent ('sample' datasets). */
  seed?: number
}

function parseLine(line: string, where: string): IndexEntry {
  let e: IndexEntry
  try {
    e = JSON.parse(line) as IndexEntry
  } catch {
    throw new BatchError('ERR_INDEX', `${where} is not a JSON line; the index is damaged`)
  }
  if (typeof e?.id !== 'string' || typeof e.shard !== 'string' || !Number.isInteger(e.offset) || typeof e.shapes !== 'object') {
    throw new BatchError('ERR_INDEX', `${where} lacks id, shard, offset or shapes; the index is damaged`)
  }
  return e
}

/**
 * The committed entries of an index file ([] when absent). A last line without its newline is
 * an append torn by a crash: it is ignored, and with `repair` cut off the file.
 */
export async function readIndexFile(file: string, { repair = false } = {}): Promise<IndexEntry[]> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const end = text.lastIndexOf('\n') + 1
  if (end < text.length && repair) {
    const fh = await open(file, 'r+')
    try {
      await fh.truncate(Buffer.byteLength(text.slice(0, end)))
      await fh.sync()
    } finally {
      await fh.close()
    }
  }
  return text
    .slice(0, end)
    .split('\n')
    .flatMap((line, i) => (line === '' ? [] : [parseLine(line, `${file}:${i + 1}`)]))
}

/** The index files of an output directory, sorted. */
export async function indexFiles(outdir: string): Promise<string[]> {
  const names = await readdir(outdir).catch(() => [] as string[])
  return names
    .filter(isIndexFileName)
    .sort()
    .map((n) => path.join(outdir, n))
}

/** Every committed entry of every index file of the directory. */
export async function readDatasetIndex(outdir: string): Promise<IndexEntry[]> {
  const out: IndexEntry[] = []
  for (const file of await indexFiles(outdir)) out.push(...(await readIndexFile(file)))
  return out
}

/**
 * Appends entries to an index file: every byte written (checked), then fsync, so a batch of
 * lines commits together. A failed append (a full disk) cuts the file back to its size before
 * it, so no partial line is left for a later append to follow.
 */
export class IndexAppender {
  readonly #fh: FileHandle
  readonly #file: string

  private constructor(fh: FileHandle, file: string) {
    this.#fh = fh
    this.#file = file
  }

  static async open(file: string): Promise<IndexAppender> {
    return new IndexAppender(await open(file, 'a'), file)
  }

  async append(entries: IndexEntry[]): Promise<void> {
    if (entries.length === 0) return
    const size = (await this.#fh.stat()).size
    try {
      await writeFully(this.#fh, [Buffer.from(entries.map((e) => `${JSON.stringify(e)}\n`).join(''))], null, this.#file)
      await this.#fh.sync()
    } catch (err) {
      const undone = await this.#fh
        .truncate(size)
        .then(() => this.#fh.sync())
        .then(
          () => true,
          () => false,
        )
      throw new BatchError(
        'ERR_IO',
        `appending ${entries.length} line(s) to ${this.#file} failed (${(err as Error).message}); ` +
          (undone ? 'the index was cut back to its committed lines' : 'the torn lines are cut off when the run starts again'),
        { cause: err },
      )
    }
  }

  async close(): Promise<void> {
    await this.#fh.close()
  }
}
