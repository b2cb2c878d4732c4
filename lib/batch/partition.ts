/**
 * `--shard i/N`: which items one of N independent jobs takes (Slurm job arrays with
 * `--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`, Kubernetes indexed jobs with
 * `$JOB_COMPLETION_INDEX`). An item goes to part sha1(id) mod N: every item to exactly one
 * part, and an item keeps its part when the manifest is reordered or grows.
 */
import { createHash } from 'node:crypto'

import { BatchError } from './errors.js'
import type { BatchItem } from './manifest.js'

export interface ShardSpec {
  /** This part, 0-based. */
  index: number
  /** Number of parts. */
  count: number
}

/** Parses 'i/N' (0 <= i < N). */
export function parseShardSpec(text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text)
  const index = Number(m?.[1])
  const count = Number(m?.[2])
  if (m === null || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index >= count) {
    throw new BatchError('ERR_ARGUMENT', `--shard must be i/N with 0 <= i < N (e.g. 0/8), got '${text}'`)
  }
  return { index, count }
}

/** The part (0..count-1) an id belongs to. */
export function partOf(id: string, count: number): number {
  const digest = createHash('sha1').update(id, 'utf8').digest()
  return Number(digest.readBigUInt64BE(0) % BigInt(count))
}

/** The items of one part, in manifest order. */
export function selectShard(items: BatchItem[], spec: ShardSpec | undefined): BatchItem[] {
  if (spec === undefined || spec.count === 1) return items
  return items.filter((item) => partOf(item.id, spec.count) === spec.index)
}
