/**
 * A queue worker: takes BullMQ jobs (one manifest item each), encodes them and commits them to
 * the output directory like the one-machine run, under its own writer name. A job completes
 * only after its item is committed, so a worker that dies loses nothing: its jobs stall, and
 * another worker's stalled-job check puts them back on the queue once their lock expires.
 * Exactly once: a job that was started before (retried or recovered) first checks every index
 * of the directory, because the dead worker may have committed it just before dying. And right
 * before its item is written, a job renews its lock and (when started before) checks the indexes
 * again: a worker that stalled past its lock (a stopped process, a VM pause) and lost the job to
 * another worker drops the item instead of committing it a second time.
 */
import { hostname } from 'node:os'
import { mkdir } from 'node:fs/promises'

import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq'

import type { VideoVAE } from '../vae.js'
import { BatchEncoder } from './batch_encoder.js'
import type { MemoryLimit } from '../memory_limit.js'
import { clipMemoryCheck, readClip, type ClipReadOptions } from './clip_reader.js'
import { readDatasetIndex } from './dataset_index.js'
import { ensureSettings } from './dataset_settings.js'
import { FailuresFile, type FailureRecord } from './failures.js'
import { writerName } from './layout.js'
import { bullConnection, checkRedis, parseQueueUrl, pendingJobs, type QueueJobData, type QueueJobSettings } from './queue.js'
import { datasetSettings } from './runner.js'
import { ShardWriter } from './shard_writer.js'

export interface QueueWorkerOptions {
  url: string
  outdir: string
  /** Names this worker's files (default: host-pid). */
  workerId?: string
  /** Jobs held at once; also the most items per model call and per shard. Default 1. */
  concurrency?: number
  /** Most same-size clips per model call. Default: concurrency. */
  batchSize?: number
  /** Most items per shard file. Default 64. */
  itemsPerShard?: number
  perItem?: boolean
  /** How long a job's lock lasts without renewal: a dead worker's jobs return to the queue after it. Default 30000. */
  lockMs?: number
  /** How often stalled jobs are looked for. Default 30000. */
  stalledMs?: number
  /** Stop once the queue has nothing left to do (else run until the signal). */
  untilEmpty?: boolean
  /** Refuse clips whose job exceeds this estimated memory (ERR_LIMIT; default the API's; false or 0: none). */
  memoryLimit?: MemoryLimit
  /** Read the items as trusted input (any ffmpeg format and protocol). Default false. */
  trusted?: boolean
  signal?: AbortSignal
  onItem?: (id: string, done: number) => void
  onFailure?: (record: FailureRecord) => void
}

export interface WorkerReport {
  worker: string
  /** Items this worker committed. */
  processed: number
  /** Jobs whose item another (dead) worker had already committed. */
  skipped: number
  /** Jobs this worker lost to another worker (its lock expired while it stalled) before committing them. */
  lost: number
  /** Items that failed for good (after their retries) in this worker. */
  failed: FailureRecord[]
  seconds: number
  itemsPerSecond: number
  index: string
}

/** Errors of the item itself: retrying cannot help. */
const INPUT_ERRORS = new Set([
  'ERR_NOT_FOUND',
  'ERR_VIDEO_CORRUPT',
  'ERR_NO_FRAMES',
  'ERR_UNSUPPORTED',
  'ERR_FORMAT_NOT_ALLOWED',
  'ERR_LIMIT',
  'ERR_TOO_SHORT',
  'ERR_SHAPE',
  'ERR_TEXT',
  'ERR_DATASET_MISMATCH',
])

export async function runWorker(vae: VideoVAE, options: QueueWorkerOptions): Promise<WorkerReport> {
  const started = performance.now()
  const target = parseQueueUrl(options.url)
  await checkRedis(target)
  const concurrency = options.concurrency ?? 1
  const id = writerName(options.workerId ?? `${hostname()}-${process.pid}`)
  await mkdir(options.outdir, { recursive: true })
  const lockMs = options.lockMs ?? 30000
  /** The jobs in flight, by item id, with the lock token that proves this worker still owns them. */
  const held = new Map<string, { job: Job<QueueJobData>; token: string | undefined; lost?: boolean }>()
  // The writer's claim, right before an item is written: the job is still ours, and (when it was
  // started before) no other worker has committed its item meanwhile.
  const stillOwned = async (itemId: string): Promise<boolean> => {
    const h = held.get(itemId)
    if (h === undefined || h.token === undefined) return false
    const renewed = await h.job.extendLock(h.token, lockMs).catch(() => 0)
    if (renewed !== 1) {
      h.lost = true
      return false
    }
    return !(h.job.attemptsStarted > 1 && (await committedElsewhere(itemId)))
  }
  const writer = await ShardWriter.open(options.outdir, `worker-${id}`, {
    itemsPerShard: options.itemsPerShard ?? 64,
    perItem: options.perItem === true,
    bundle: vae.info.sha256,
    claim: (items) => Promise.all(items.map((e) => stillOwned(e.item.id))),
  })
  const failures = await FailuresFile.open(writer.files.failures, true)
  let encoder: BatchEncoder | undefined
  let settingsKey: string | undefined
  let inFlight = 0
  let processed = 0
  let skipped = 0
  let lost = 0

  // Items wait in the writer until every job this worker holds is waiting there too.
  const maybeFlush = (): void => {
    if (writer.buffered > 0 && writer.buffered >= inFlight) void writer.flush().catch(() => undefined)
  }

  const setup = async (settings: QueueJobSettings): Promise<{ encoder: BatchEncoder; read: ClipReadOptions }> => {
    const key = JSON.stringify(settings)
    const encode = {
      ...settings,
      batchSize: options.batchSize ?? concurrency,
      ...(options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit }),
    }
    if (settingsKey === undefined) {
      await ensureSettings(options.outdir, datasetSettings(vae, encode, settings.read))
      settingsKey = key
      encoder = new BatchEncoder(vae, encode)
    } else if (key !== settingsKey) {
      throw Object.assign(new Error(`job settings ${key} differ from those of this worker's dataset (${settingsKey})`), { code: 'ERR_DATASET_MISMATCH' })
    }
    const read = { ...settings.read, ...(options.trusted === true ? { trusted: true } : {}) }
    return { encoder: encoder!, read: { read, minFrames: Math.max(vae.info.rules.tMin, settings.read.count ?? 0), hwMultiple: vae.info.rules.hwMultiple } }
  }

  const committedElsewhere = async (itemId: string): Promise<boolean> =>
    writer.committed.has(itemId) || (await readDatasetIndex(options.outdir)).some((e) => e.id === itemId)

  const processJob = async (job: Job<QueueJobData>, token?: string): Promise<{ shard?: string; offset?: number; skipped?: boolean }> => {
    inFlight++
    const { item, settings } = job.data
    held.set(item.id, { job, token })
    try {
      if (job.attemptsStarted > 1 && (await committedElsewhere(item.id))) {
        skipped++
        return { skipped: true }
      }
      const { encoder: enc, read } = await setup(settings)
      const encoded = await enc.encode(
        item,
        await readClip(item, {
          ...read,
          checkPlan: clipMemoryCheck(
            vae,
            { ...settings, ...(options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit }) },
            read.read,
            item.path,
          ),
        }),
      )
      const committed = writer.add(encoded)
      maybeFlush()
      const entry = await committed
      if (entry === null) {
        if (held.get(item.id)?.lost === true) lost++
        else skipped++
        return { skipped: true }
      }
      options.onItem?.(item.id, ++processed)
      return { shard: entry.shard, offset: entry.offset }
    } catch (err) {
      const code = (err as { code?: string }).code ?? ''
      const final = INPUT_ERRORS.has(code) || job.attemptsMade + 1 >= (job.opts.attempts ?? 1)
      if (final) options.onFailure?.(await failures.add(item, err))
      if (INPUT_ERRORS.has(code)) throw new UnrecoverableError(`${(err as Error).message} (${code})`)
      throw err
    } finally {
      held.delete(item.id)
      inFlight--
      maybeFlush()
    }
  }

  const worker = new Worker<QueueJobData>(target.name, processJob, {
    connection: bullConnection(target),
    concurrency,
    lockDuration: lockMs,
    stalledInterval: options.stalledMs ?? 30000,
    maxStalledCount: 2,
  })
  worker.on('error', () => undefined) // connection hiccups: ioredis reconnects by itself
  const queue = new Queue(target.name, { connection: bullConnection(target) })
  try {
    await new Promise<void>((resolve) => {
      const onAbort = (): void => resolve()
      options.signal?.addEventListener('abort', onAbort, { once: true })
      if (options.signal?.aborted) resolve()
      if (!options.untilEmpty) return
      // Pending counts include jobs held by dead workers until they are recovered: wait for those too.
      const poll = async (): Promise<void> => {
        if (options.signal?.aborted) return
        if (inFlight === 0 && (await pendingJobs(queue).catch(() => 1)) === 0) {
          options.signal?.removeEventListener('abort', onAbort)
          resolve()
          return
        }
        setTimeout(() => void poll(), 500)
      }
      void poll()
    })
  } finally {
    await worker.close() // lets the jobs in flight finish and commit
    await queue.close()
    await writer.close()
    await failures.close()
  }
  const seconds = (performance.now() - started) / 1000
  return {
    worker: id,
    processed,
    skipped,
    lost,
    failed: failures.records,
    seconds,
    itemsPerSecond: seconds > 0 ? processed / seconds : 0,
    index: writer.files.index,
  }
}
