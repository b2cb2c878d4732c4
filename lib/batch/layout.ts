/**
 * Where things live in an output directory. Every writer (the one-machine run, one `--shard`
 * part, one queue worker) has its own index, failures file and shard names, so parts of a job
 * array and workers on several machines can share one directory without touching each other's
 * files:
 *   dataset.json                 settings every writer must share (bundle, what is stored, read options)
 *   index[.WRITER].jsonl         committed items, one JSON line each (the commit point)
 *   failures[.WRITER].jsonl      items that failed in the writer's latest run, with the error
 *   data/[WRITER|shard]-NNNNN.safetensors   shards of N items;  items/<id>.safetensors   one file per item
 */
import { createHash } from 'node:crypto'
import path from 'node:path'

export interface WriterFiles {
  index: string
  failures: string
  lock: string
  /** Shard file names are `<shardPrefix>-NNNNN.safetensors` under data/. */
  shardPrefix: string
}

/** A writer name usable in file names. */
export function writerName(raw: string): string {
  return raw.replace(/[^A-Za-z0-9_.-]/g, '_')
}

export function writerFiles(outdir: string, writer: string): WriterFiles {
  const suffix = writer === '' ? '' : `.${writer}`
  return {
    index: path.join(outdir, `index${suffix}.jsonl`),
    failures: path.join(outdir, `failures${suffix}.jsonl`),
    lock: path.join(outdir, `.lock${suffix}`),
    shardPrefix: writer === '' ? 'shard' : writer,
  }
}

/** Whether a file name is one of the index files. */
export function isIndexFileName(name: string): boolean {
  return /^index(\.[A-Za-z0-9_.-]+)?\.jsonl$/.test(name)
}

/** Whether a file name is one of the failures files. */
export function isFailuresFileName(name: string): boolean {
  return /^failures(\.[A-Za-z0-9_.-]+)?\.jsonl$/.test(name)
}

export const DATA_DIR = 'data'
export const ITEMS_DIR = 'items'

/** `data/<prefix>-00012.safetensors`. */
export function shardFileName(prefix: string, seq: number): string {
  return `${DATA_DIR}/${prefix}-${String(seq).padStart(5, '0')}.safetensors`
}

/** The sequence number of a shard of `prefix`, or undefined for other files. */
export function shardSeq(prefix: string, relative: string): number | undefined {
  const m = new RegExp(`^${DATA_DIR}/${prefix.replace(/[.]/g, '\\.')}-(\\d{5,})\\.safetensors$`).exec(relative)
  return m === null ? undefined : Number(m[1])
}

/**
 * `items/<readable id>-<hash>.safetensors`: ids may hold any characters, so the name keeps a
 * readable part and a hash of the whole id, which keeps names distinct.
 */
export function itemFileName(id: string): string {
  const readable =
    id
      .replace(/[^A-Za-z0-9_.-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, 80) || 'item'
  const hash = createHash('sha1').update(id, 'utf8').digest('hex').slice(0, 10)
  return `${ITEMS_DIR}/${readable}-${hash}.safetensors`
}
