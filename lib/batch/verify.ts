/**
 * `videovae batch --verify`: re-reads every committed item of an output directory (every index
 * file, every byte of its tensors) and takes the items that do not read back out of their
 * index, so that they are pending again and the run encodes them anew. An index is rewritten
 * atomically (temporary file, rename) under its writer's lock; a shard no line refers to any
 * more is removed when its writer next opens the directory.
 */
import path from 'node:path'

import { writeFileAtomic } from '../durable_file.js'
import type { SafetensorsHeader } from '../safetensors.js'
import { indexFiles, readIndexFile, type IndexEntry } from './dataset_index.js'
import { writerFiles } from './layout.js'
import { checkTensors, shardHeader } from './shard_check.js'
import { WriterLock } from './writer_lock.js'

export interface BadItem {
  id: string
  shard: string
  /** The index file it was committed in (and is now removed from). */
  index: string
  problem: string
}

export interface VerifyReport {
  /** Committed items read back. */
  checked: number
  /** Those that did not read back: no longer committed. */
  bad: BadItem[]
}

function key(e: IndexEntry): string {
  return JSON.stringify([e.id, e.shard, e.offset])
}

/** The writer whose index is `index.<writer>.jsonl` ('' for index.jsonl). */
function writerOf(indexFile: string): string {
  return /^index(?:\.(.+))?\.jsonl$/.exec(path.basename(indexFile))?.[1] ?? ''
}

/**
 * Verifies every index file of `outdir`. `ownIndex` is the index of the caller, whose lock it
 * holds; the index of another writer is rewritten under that writer's lock (ERR_BUSY while
 * that writer runs).
 */
export async function verifyDataset(outdir: string, ownIndex: string): Promise<VerifyReport> {
  const headers = new Map<string, SafetensorsHeader | string>()
  const report: VerifyReport = { checked: 0, bad: [] }
  for (const index of await indexFiles(outdir)) {
    const bad = new Map<string, BadItem>()
    for (const e of await readIndexFile(index, { repair: index === ownIndex })) {
      report.checked++
      const file = path.join(outdir, e.shard)
      if (!headers.has(file)) headers.set(file, await shardHeader(file))
      const header = headers.get(file)!
      const expected = new Map(Object.entries(e.shapes).map(([name, shape]) => [`${e.offset}/${name}`, shape]))
      const problem = typeof header === 'string' ? header : await checkTensors(file, header, expected, true)
      if (problem !== undefined) bad.set(key(e), { id: e.id, shard: e.shard, index, problem })
    }
    if (bad.size === 0) continue
    const lock = index === ownIndex ? undefined : await WriterLock.acquire(writerFiles(outdir, writerOf(index)).lock, `${index}`)
    try {
      const keep = (await readIndexFile(index)).filter((e) => !bad.has(key(e)))
      await writeFileAtomic(index, [Buffer.from(keep.map((e) => `${JSON.stringify(e)}\n`).join(''))])
    } finally {
      await lock?.release()
    }
    report.bad.push(...bad.values())
  }
  return report
}
