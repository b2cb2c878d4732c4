/**
 * The many-machine mode: manifest items become BullMQ jobs on a redis queue named by a URL
 * `redis://[:password@]HOST:PORT/NAME`; `videovae worker` processes them. A job's id is a hash
 * of the item id, so enqueuing the same manifest twice adds nothing twice. Jobs are retried
 * with exponential backoff; completed and failed jobs are kept for the final report.
 */
import { createHash } from 'node:crypto'

import { Queue, type Job } from 'bullmq'
import { Redis } from 'ioredis'

import { BatchError } from './errors.js'
import type { BatchItem } from './manifest.js'

/** What a job carries besides its item: how to read and encode (the same for every job of a dataset). */
export interface QueueJobSettings {
  store: 'posterior' | 'sample'
  sampleSeed?: number
  chunkFrames: number
  tile?: { size: number; overlap?: number }
  read: { fit: 'pad' | 'crop' | 'resize' | 'none'; start?: number; count?: number; fps?: string; maxSize?: { width: number; height: number } }
}

export interface QueueJobData {
  item: BatchItem
  settings: QueueJobSettings
}

export interface QueueTarget {
  connection: { host: string; port: number; username?: string; password?: string }
  name: string
  /** host:port, for messages. */
  where: string
}

/** Parses redis://HOST:PORT/NAME. */
export function parseQueueUrl(url: string): QueueTarget {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new BatchError('ERR_QUEUE', `the queue must be a URL like redis://HOST:PORT/NAME, got '${url}'`)
  }
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''))
  if (u.protocol !== 'redis:' || u.hostname === '' || name === '' || name.includes('/') || name.includes(':')) {
    throw new BatchError('ERR_QUEUE', `the queue must be a URL like redis://HOST:PORT/NAME (a name without '/' or ':'), got '${url}'`)
  }
  const port = u.port === '' ? 6379 : Number(u.port)
  return {
    connection: {
      host: u.hostname,
      port,
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    },
    name,
    where: `${u.hostname}:${port}`,
  }
}

/** Fails fast with ERR_QUEUE when redis cannot be reached (BullMQ itself would retry forever). */
export async function checkRedis(target: QueueTarget, timeoutMs = 5000): Promise<void> {
  const redis = new Redis({ ...target.connection, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null })
  redis.on('error', () => undefined) // reported through connect() below
  try {
    await redis.connect()
    await redis.ping()
  } catch (err) {
    throw new BatchError('ERR_QUEUE', `cannot reach redis at ${target.where}: ${(err as Error).message}`, { cause: err })
  } finally {
    redis.disconnect()
  }
}

/** BullMQ's connection options: workers need maxRetriesPerRequest null. */
export function bullConnection(target: QueueTarget): QueueTarget['connection'] & { maxRetriesPerRequest: null } {
  return { ...target.connection, maxRetriesPerRequest: null }
}

/** The job id of an item: its id hashed (BullMQ ids cannot hold every character). */
export function jobIdOf(itemId: string): string {
  return createHash('sha1').update(itemId, 'utf8').digest('hex')
}

export interface EnqueueResult {
  queue: string
  added: number
  existing: number
}

/** Adds one job per item (items already on the queue are left as they are). */
export async function enqueueItems(
  url: string,
  items: BatchItem[],
  settings: QueueJobSettings,
  { attempts = 3, backoffMs = 2000 } = {},
): Promise<EnqueueResult> {
  const target = parseQueueUrl(url)
  await checkRedis(target)
  const queue = new Queue<QueueJobData>(target.name, { connection: bullConnection(target) })
  let added = 0
  try {
    for (let i = 0; i < items.length; i += 500) {
      const slice = items.slice(i, i + 500)
      const present = await Promise.all(slice.map((item) => queue.getJob(jobIdOf(item.id))))
      const fresh = slice.filter((_, k) => present[k] === undefined)
      await queue.addBulk(
        fresh.map((item) => ({
          name: 'encode',
          data: { item, settings },
          opts: { jobId: jobIdOf(item.id), attempts, backoff: { type: 'exponential', delay: backoffMs }, removeOnComplete: false, removeOnFail: false },
        })),
      )
      added += fresh.length
    }
  } finally {
    await queue.close()
  }
  return { queue: target.name, added, existing: items.length - added }
}

/** Counts of a queue's jobs that are still to be done. */
export const PENDING_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const

export async function pendingJobs(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts(...PENDING_STATES)
  return PENDING_STATES.reduce((s, k) => s + (counts[k] ?? 0), 0)
}

export interface QueueReport {
  completed: number
  failed: { id: string; source: string; error: string }[]
}

/** Waits until no job of the queue is pending, then reports completed and failed items. */
export async function waitForQueue(
  url: string,
  { signal, onProgress, pollMs = 500 }: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void; pollMs?: number } = {},
): Promise<QueueReport> {
  const target = parseQueueUrl(url)
  await checkRedis(target)
  const queue = new Queue<QueueJobData>(target.name, { connection: bullConnection(target) })
  try {
    for (;;) {
      const counts = await queue.getJobCounts('completed', 'failed', ...PENDING_STATES)
      const pending = PENDING_STATES.reduce((s, k) => s + (counts[k] ?? 0), 0)
      const done = (counts.completed ?? 0) + (counts.failed ?? 0)
      onProgress?.(done, done + pending)
      if (pending === 0 || signal?.aborted) break
      await new Promise((resolve) => setTimeout(resolve, pollMs))
    }
    const failedJobs: Job<QueueJobData>[] = await queue.getFailed(0, -1)
    return {
      completed: await queue.getCompletedCount(),
      failed: failedJobs.map((j) => ({ id: j.data.item.id, source: j.data.item.path, error: j.failedReason })),
    }
  } finally {
    await queue.close()
  }
}
