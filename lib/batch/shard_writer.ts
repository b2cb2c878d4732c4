/**
 * Commits encoded items to an output directory, exactly once. Items are buffered into shards
 * of N; a shard is written to a temporary file, fsynced and renamed into place, and only then
 * are its index lines appended (one write, fsync): the index is the commit point. Opening a
 * writer recovers from a crash at any moment: a torn last index line is cut off, shard files
 * no index line refers to (renamed but never committed) and temporaries are removed, and
 * numbering continues after the last committed shard. Items not in any index are simply
 * encoded again.
 */
import { mkdir, readdir, rm } from 'node:fs/promises'
import path from 'node:path'

import { moveIntoPlace } from '../durable_file.js'
import { writeSafetensors } from '../safetensors.js'
import { BatchError } from './errors.js'
import { IndexAppender, indexFiles, readIndexFile, type IndexEntry } from './dataset_index.js'
import { DATA_DIR, ITEMS_DIR, itemFileName, shardFileName, shardSeq, writerFiles, type WriterFiles } from './layout.js'
import type { BatchItem } from './manifest.js'
import { checkShard } from './shard_check.js'
import { verifyDataset, type VerifyReport } from './verify.js'
import { WriterLock } from './writer_lock.js'

/** A float32 array and its shape. */
export interface HostArray {
  data: Float32Array
  shape: number[]
}

/** One item's latents (shapes [z, T', h, w]) and what the index records about its clip. */
export interface EncodedItem {
  item: BatchItem
  /** 'mean' and 'logvar', or 'latent' (a sample). */
  tensors: Record<string, HostArray>
  fps: string
  frames: number
  width: number
  height: number
  seed?: number
}

export interface ShardWriterOptions {
  /** Items per shard file. */
  itemsPerShard: number
  /** One file per item (items/<id>.safetensors) instead of shards. */
  perItem: boolean
  /** sha256 of the bundle's manifest.json, recorded in every index line. */
  bundle: string
  /**
   * Asked right before items are written, one answer per item: false drops the item uncommitted
   * (its `add` promise resolves with null). Queue workers use it to check that they still own
   * the item's job, so that a job another worker took over is not committed twice.
   */
  claim?: (items: EncodedItem[]) => Promise<boolean[]>
  /** Re-read every committed item of the directory first; those that do not read back are uncommitted (`verified`). */
  verify?: boolean
}

interface Pending {
  encoded: EncodedItem
  resolve: (entry: IndexEntry | null) => void
  reject: (err: unknown) => void
}

export class ShardWriter {
  readonly files: WriterFiles
  /** Ids committed in any index of the directory (when opened), plus those this writer commits. */
  readonly committed: Set<string>
  /** What the verification of `verify: true` found. */
  verified: VerifyReport | undefined
  readonly #outdir: string
  readonly #options: ShardWriterOptions
  readonly #index: IndexAppender
  readonly #lock: WriterLock
  #nextSeq: number
  #buffer: Pending[] = []
  #chain: Promise<void> = Promise.resolve()
  #error: unknown = undefined

  private constructor(
    outdir: string,
    files: WriterFiles,
    options: ShardWriterOptions,
    index: IndexAppender,
    lock: WriterLock,
    committed: Set<string>,
    nextSeq: number,
  ) {
    this.#outdir = outdir
    this.files = files
    this.#options = options
    this.#index = index
    this.#lock = lock
    this.committed = committed
    this.#nextSeq = nextSeq
  }

  /** Opens (and recovers) the files of `writer` in `outdir`. */
  static async open(outdir: string, writer: string, options: ShardWriterOptions): Promise<ShardWriter> {
    const files = writerFiles(outdir, writer)
    await mkdir(path.join(outdir, options.perItem ? ITEMS_DIR : DATA_DIR), { recursive: true })
    await mkdir(path.join(outdir, DATA_DIR), { recursive: true })
    const lock = await WriterLock.acquire(files.lock, `${outdir} (${writer === '' ? 'the main writer' : `writer ${writer}`})`)
    try {
      const verified = options.verify === true ? await verifyDataset(outdir, files.index) : undefined
      const own = await readIndexFile(files.index, { repair: true })
      const committed = new Set(own.map((e) => e.id))
      for (const file of await indexFiles(outdir)) {
        if (file !== files.index) for (const e of await readIndexFile(file)) committed.add(e.id)
      }
      const referenced = new Set(own.map((e) => e.shard))
      let nextSeq = 0
      for (const shard of referenced) nextSeq = Math.max(nextSeq, (shardSeq(files.shardPrefix, shard) ?? -1) + 1)
      await removeOrphans(outdir, files.shardPrefix, referenced)
      const writer = new ShardWriter(outdir, files, options, await IndexAppender.open(files.index), lock, committed, nextSeq)
      writer.verified = verified
      return writer
    } catch (err) {
      await lock.release()
      throw err
    }
  }

  /** Items waiting for their shard to be written. */
  get buffered(): number {
    return this.#buffer.length
  }

  /** Queues an item; resolves with its index entry once committed (null: the claim refused it). */
  add(encoded: EncodedItem): Promise<IndexEntry | null> {
    if (this.#error !== undefined) return Promise.reject(this.#error)
    const promise = new Promise<IndexEntry | null>((resolve, reject) => this.#buffer.push({ encoded, resolve, reject }))
    if (this.#options.perItem || this.#buffer.length >= this.#options.itemsPerShard) void this.flush().catch(() => undefined)
    return promise
  }

  /** Commits the buffered items now (a short last shard); resolves when they are settled. */
  flush(): Promise<void> {
    const batch = this.#buffer
    this.#buffer = []
    if (batch.length > 0) {
      this.#chain = this.#chain.then(() => this.#commit(batch))
    }
    return this.#chain
  }

  /** Commits what is buffered, closes the index and releases the lock; throws a write error that stopped it. */
  async close(): Promise<void> {
    try {
      await this.flush()
      if (this.#error !== undefined) throw this.#error
    } finally {
      await this.#index.close()
      await this.#lock.release()
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    if (this.#error !== undefined) {
      for (const p of batch) p.reject(this.#error)
      return
    }
    try {
      if (this.#options.claim !== undefined) {
        const keep = await this.#options.claim(batch.map((p) => p.encoded))
        batch.forEach((p, i) => keep[i] !== true && p.resolve(null))
        batch = batch.filter((_, i) => keep[i] === true)
        if (batch.length === 0) return
      }
      const entries = this.#options.perItem ? await this.#writeItems(batch) : await this.#writeShard(batch)
      await this.#index.append(entries)
      entries.forEach((e, i) => {
        this.committed.add(e.id)
        batch[i]!.resolve(e)
      })
    } catch (err) {
      // The directory stays consistent (nothing was committed), but this writer stops. Not
      // rethrown: the chain must go on settling later batches (they are rejected above).
      this.#error = err
      for (const p of batch) p.reject(err)
    }
  }

  #entry(e: EncodedItem, shard: string, offset: number): IndexEntry {
    const entry: IndexEntry = {
      id: e.item.id,
      source: e.item.path,
      ...(e.item.caption === undefined ? {} : { caption: e.item.caption }),
      shard,
      offset,
      shapes: Object.fromEntries(Object.entries(e.tensors).map(([k, t]) => [k, t.shape])),
      fps: e.fps,
      frames: e.frames,
      width: e.width,
      height: e.height,
      bundle: this.#options.bundle,
    }
    if (e.seed !== undefined) entry.seed = e.seed
    return entry
  }

  async #writeFile(file: string, items: EncodedItem[]): Promise<void> {
    const tensors: Record<string, HostArray> = {}
    const expected = new Map(items.flatMap((e, offset) => Object.entries(e.tensors).map(([name, t]) => [`${offset}/${name}`, t.shape] as const)))
    items.forEach((e, offset) => {
      for (const [name, t] of Object.entries(e.tensors)) tensors[`${offset}/${name}`] = t
    })
    const metadata = { format: 'videovae-latent-shard', format_version: '1', bundle_sha256: this.#options.bundle, items: String(items.length) }
    await writeSafetensors(file, tensors, metadata)
    // Read back before the index line makes it count: a write the disk lost must not commit.
    const problem = await checkShard(file, expected)
    if (problem !== undefined) {
      await rm(file, { force: true }).catch(() => undefined)
      throw new BatchError('ERR_IO', `the shard just written does not read back (${problem}); nothing of it was committed`)
    }
  }

  async #writeShard(batch: Pending[]): Promise<IndexEntry[]> {
    const shard = shardFileName(this.files.shardPrefix, this.#nextSeq++)
    await this.#writeFile(
      path.join(this.#outdir, shard),
      batch.map((p) => p.encoded),
    )
    return batch.map((p, offset) => this.#entry(p.encoded, shard, offset))
  }

  async #writeItems(batch: Pending[]): Promise<IndexEntry[]> {
    const entries: IndexEntry[] = []
    for (const p of batch) {
      // Written under this writer's prefix in data/ first (so recovery can remove it), then moved.
      const staging = path.join(this.#outdir, DATA_DIR, `${this.files.shardPrefix}-staging.safetensors`)
      const shard = itemFileName(p.encoded.item.id)
      await this.#writeFile(staging, [p.encoded])
      await moveIntoPlace(staging, path.join(this.#outdir, shard))
      entries.push(this.#entry(p.encoded, shard, 0))
    }
    return entries
  }
}

/** Removes this writer's shard files that no committed line refers to, and its temporaries. */
async function removeOrphans(outdir: string, prefix: string, referenced: Set<string>): Promise<void> {
  const dataDir = path.join(outdir, DATA_DIR)
  const escaped = prefix.replace(/[.]/g, '\\.')
  const ownFile = new RegExp(`^\\.?${escaped}-(\\d{5,}|staging)\\.safetensors(\\.[0-9a-f]+\\.tmp)?$`)
  for (const name of await readdir(dataDir)) {
    const own = ownFile.test(name)
    if (own && !referenced.has(`${DATA_DIR}/${name}`)) await rm(path.join(dataDir, name), { force: true })
  }
}
