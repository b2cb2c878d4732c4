/**
 * The one-machine batch run: every manifest item that is not yet committed in the output
 * directory is read, encoded and committed. `prefetch` items are in flight at once: while the
 * model encodes, ffmpeg decodes the next clips, and the clips that wait are batched together
 * (BatchEncoder). Bad items go to the failures file and the run goes on. Killed at any moment,
 * the same run started again continues where it stopped (see ShardWriter).
 */
import { mkdir } from 'node:fs/promises'

import type { VideoVAE } from '../vae.js'
import { BatchEncoder, type EncodeSettings } from './batch_encoder.js'
import { clipMemoryCheck, readClip, type ClipReadOptions } from './clip_reader.js'
import { ensureSettings, type DatasetSettings } from './dataset_settings.js'
import { BatchError } from './errors.js'
import { FailuresFile, type FailureRecord } from './failures.js'
import type { BatchItem } from './manifest.js'
import { ShardWriter } from './shard_writer.js'
import type { VerifyReport } from './verify.js'

export interface BatchRunOptions {
  outdir: string
  /** The writer's name ('' for a plain run, 'part-i-of-N' for --shard i/N). */
  writer: string
  /** The items of this run (already partitioned). */
  items: BatchItem[]
  encode: EncodeSettings
  read: Omit<ClipReadOptions, 'signal' | 'hwMultiple'>
  /** Items per shard file. */
  itemsPerShard: number
  /** One file per item instead of shards. */
  perItem: boolean
  /** Re-read every committed item first; those that do not read back are encoded again. */
  verify?: boolean
  /** Items decoded and waiting for the model at once. Default batchSize + 2. */
  prefetch?: number
  signal?: AbortSignal
  /** Items finished (committed or failed) out of those to do. */
  onProgress?: (done: number, total: number) => void
  /** Each failed item, when it fails. */
  onFailure?: (record: FailureRecord) => void
}

export interface BatchReport {
  /** Items of this run (after --shard). */
  total: number
  /** Items committed before this run started. */
  skipped: number
  /** Items committed by this run. */
  encoded: number
  failed: FailureRecord[]
  /** Encode calls and clips per call: how well same-size clips were batched. */
  encodeCalls: number
  seconds: number
  itemsPerSecond: number
  interrupted: boolean
  /** With `verify`: items re-read, and those that did not read back (encoded again in this run). */
  verified?: VerifyReport
  index: string
  failures: string
}

/** The settings dataset.json records for a run on this bundle. */
export function datasetSettings(vae: VideoVAE, encode: EncodeSettings, read: ClipReadOptions['read']): DatasetSettings {
  return {
    bundle: { variant: vae.info.variant, sha256: vae.info.sha256 },
    store: encode.store,
    ...(encode.sampleSeed === undefined ? {} : { sampleSeed: encode.sampleSeed }),
    chunkFrames: encode.chunkFrames,
    ...(encode.tile ? { tile: encode.tile } : {}),
    read: {
      fit: read.fit ?? 'none',
      ...(read.count === undefined ? {} : { frames: read.count }),
      ...(read.start === undefined ? {} : { start: read.start }),
      ...(read.fps === undefined ? {} : { fps: String(read.fps) }),
      ...(read.maxSize === undefined ? {} : { maxSize: read.maxSize }),
    },
  }
}

export async function runBatch(vae: VideoVAE, options: BatchRunOptions): Promise<BatchReport> {
  const started = performance.now()
  const { outdir, signal } = options
  if (!Number.isInteger(options.itemsPerShard) || options.itemsPerShard < 1) throw new BatchError('ERR_ARGUMENT', 'itemsPerShard must be a positive integer')
  await mkdir(outdir, { recursive: true })
  await ensureSettings(outdir, datasetSettings(vae, options.encode, options.read.read))
  const writer = await ShardWriter.open(outdir, options.writer, {
    itemsPerShard: options.itemsPerShard,
    perItem: options.perItem,
    bundle: vae.info.sha256,
    verify: options.verify === true,
  })
  let failures: FailuresFile | undefined
  const commits: Promise<unknown>[] = []
  let fatal: unknown
  let encoded = 0
  let done = 0
  const todo = options.items.filter((item) => !writer.committed.has(item.id))
  const encoder = new BatchEncoder(vae, options.encode, signal)
  try {
    failures = await FailuresFile.open(writer.files.failures, true)
    const read: ClipReadOptions = { ...options.read, hwMultiple: vae.info.rules.hwMultiple, ...(signal ? { signal } : {}) }
    const progress = (): void => options.onProgress?.(++done, todo.length)
    options.onProgress?.(0, todo.length)

    const processOne = async (item: BatchItem): Promise<void> => {
      let result
      try {
        result = await encoder.encode(item, await readClip(item, { ...read, checkPlan: clipMemoryCheck(vae, options.encode, read.read, item.path) }))
      } catch (err) {
        if (signal?.aborted) return // interrupted, not failed: the item is simply not committed
        options.onFailure?.(await failures!.add(item, err))
        progress()
        return
      }
      // Not awaited: a lane goes on decoding while its item waits for the rest of its shard.
      commits.push(
        writer.add(result).then(
          () => {
            encoded++
            progress()
          },
          (err: unknown) => {
            fatal ??= err
          },
        ),
      )
    }

    let next = 0
    const lane = async (): Promise<void> => {
      while (next < todo.length && !signal?.aborted && fatal === undefined) await processOne(todo[next++]!)
    }
    const lanes = Math.max(1, options.prefetch ?? options.encode.batchSize + 2)
    await Promise.all(Array.from({ length: lanes }, lane))
  } finally {
    // Items already encoded are complete: commit them even when interrupted.
    await writer.close().catch((err: unknown) => (fatal ??= err))
    await Promise.all(commits)
    await failures?.close()
  }
  if (fatal !== undefined) throw fatal
  const seconds = (performance.now() - started) / 1000
  return {
    total: options.items.length,
    skipped: options.items.length - todo.length,
    encoded,
    failed: failures?.records ?? [],
    encodeCalls: encoder.stats.calls,
    seconds,
    itemsPerSecond: seconds > 0 ? encoded / seconds : 0,
    interrupted: signal?.aborted === true,
    ...(writer.verified === undefined ? {} : { verified: writer.verified }),
    index: writer.files.index,
    failures: writer.files.failures,
  }
}
