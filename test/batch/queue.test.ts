// Many machines: items enqueued as BullMQ jobs on a real redis-server, two workers, one killed
// with SIGKILL midway; the survivor recovers the dead worker's stalled jobs, and every item ends
// up in the index exactly once, with the same latents as VideoVAE.encode. A corrupt item fails
// once (no retries) and shows in the final report. A worker that stalls past its lock (SIGSTOP)
// loses its job to another worker and, resumed, does not commit the item a second time.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'

import { Queue } from 'bullmq'

import { VideoVAE } from '../../lib/vae.js'
import { cli, cliAsync, json, makeVideo, needsPython, tempDir, type CliResult } from '../cli/helpers.js'
import { BATCH_TOLERANCE, jsonl, makeClips, makeCorrupt, maxAbsDiff, readWithPython, referenceLatents } from './helpers.js'
import { needsRedis, startRedis, type RedisServer } from './redis.js'

const N = 8

describe('batch --queue and workers', { skip: needsRedis || needsPython }, () => {
  const dir = tempDir()
  const clips = makeClips(dir, N)
  const corrupt = makeCorrupt(path.join(dir, 'corrupt.mp4'), clips[0]!)
  const manifest = path.join(dir, 'm.jsonl')
  fs.writeFileSync(manifest, [...clips.map((c, i) => ({ path: c, id: `c${i}` })), { path: corrupt, id: 'bad' }].map((o) => JSON.stringify(o)).join('\n'))
  const out = path.join(dir, 'out')
  let redis: RedisServer

  before(async () => {
    redis = await startRedis()
  })
  after(() => redis?.stop())

  it('refuses an unreachable redis and a malformed URL clearly', () => {
    let r = cli(['batch', manifest, '--queue', 'redis://127.0.0.1:1/x'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /cannot reach redis at 127\.0\.0\.1:1: .*\(ERR_QUEUE\)/)
    r = cli(['batch', manifest, '--queue', 'http://nowhere/x'])
    assert.match(r.stderr, /must be a URL like redis:\/\/HOST:PORT\/NAME.*\(ERR_QUEUE\)/)
  })

  it('two workers, one killed midway: every item committed exactly once', async () => {
    const url = redis.url('clips')
    let r = cli(['batch', manifest, '--queue', url, '--attempts', '3', '--backoff', '200', '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(json(r), { url, queue: 'clips', added: N + 1, existing: 0 })
    r = cli(['batch', manifest, '--queue', url, '--json']) // enqueuing again adds nothing
    assert.equal(json<{ added: number }>(r).added, 0)

    const worker = (id: string): string[] => [
      'worker',
      '--queue',
      url,
      '-o',
      out,
      '--worker-id',
      id,
      '--concurrency',
      '2',
      '--lock-ms',
      '2000',
      '--stalled-ms',
      '500',
      '--until-empty',
      '--threads',
      '1',
      '--json',
    ]
    const indexA = path.join(out, 'index.worker-a.jsonl')
    const a = cliAsync(worker('a'), (child) => {
      // Killed once it has committed something, while it holds more jobs.
      const poll = setInterval(() => {
        if (fs.existsSync(indexA) && fs.readFileSync(indexA, 'utf8').length > 0) {
          clearInterval(poll)
          child.kill('SIGKILL')
        }
      }, 10)
      child.on('close', () => clearInterval(poll))
    })
    const b = cliAsync(worker('b'))
    const [ra, rb] = await Promise.all([a, b])
    assert.equal(ra.signal, 'SIGKILL', `worker a ended before it was killed: ${ra.stderr}`)
    assert.equal(rb.code, 3, rb.stderr) // the corrupt item failed
    const report = json<{ processed: number; skipped: number; failed: { id: string; code: string }[] }>(rb)
    assert.deepEqual(
      report.failed.map((f) => [f.id, f.code]),
      [['bad', 'ERR_VIDEO_CORRUPT']],
    )

    const ids = [...jsonl<{ id: string }>(indexA), ...jsonl<{ id: string }>(path.join(out, 'index.worker-b.jsonl'))].map((e) => e.id)
    assert.ok(jsonl(indexA).length > 0 && jsonl(indexA).length < N, 'a committed some, not all')
    assert.deepEqual(ids.sort(), clips.map((_, i) => `c${i}`).sort(), 'every item exactly once across the workers')

    // The queue's own final report: all completed but the corrupt one, tried once.
    r = cli(['batch', manifest, '--queue', url, '--wait', '--json'])
    assert.equal(r.code, 3, r.stderr)
    const final = json<{ completed: number; failed: { id: string; error: string }[] }>(r)
    assert.equal(final.completed, N)
    assert.deepEqual(
      final.failed.map((f) => f.id),
      ['bad'],
    )
    assert.match(final.failed[0]!.error, /ERR_VIDEO_CORRUPT/)

    const { entries, tensors } = readWithPython(out)
    assert.equal(entries.length, N)
    const vae = await VideoVAE.load(undefined, { threads: 2 })
    try {
      for (const [i, clip] of clips.entries()) {
        const ref = await referenceLatents(vae, clip)
        assert.ok(maxAbsDiff(tensors[`c${i}`]!.mean!.data, ref.mean!) <= BATCH_TOLERANCE, `c${i} mean`)
      }
    } finally {
      vae.dispose()
    }
  })

  it('a worker stalled past its lock loses the job to another and does not commit it again', async () => {
    const url = redis.url('stall')
    // Long enough to encode that the worker is still busy with it when it is stopped.
    const clip = makeVideo(path.join(dir, 'long.mp4'), { width: 96, height: 96, frames: 64, source: 'testsrc2' })
    const m = path.join(dir, 'stall.jsonl')
    fs.writeFileSync(m, JSON.stringify({ path: clip, id: 'long' }))
    assert.equal(cli(['batch', m, '--queue', url]).code, 0)
    const outdir = path.join(dir, 'out-stall')
    const worker = (id: string): string[] => [
      'worker',
      '--queue',
      url,
      '-o',
      outdir,
      '--worker-id',
      id,
      '--lock-ms',
      '1000',
      '--stalled-ms',
      '500',
      '--until-empty',
      '--threads',
      '1',
      '--json',
    ]
    const queue = new Queue('stall', { connection: { host: '127.0.0.1', port: redis.port } })
    let b: Promise<CliResult> | undefined
    try {
      const a = await cliAsync(worker('a'), (child) => {
        // Once a holds the job: stop it until b has taken the job over (a's lock expired) and committed it.
        const poll = setInterval(() => {
          void queue.getActiveCount().then((active) => {
            if (active === 0 || b !== undefined) return
            clearInterval(poll)
            child.kill('SIGSTOP')
            b = cliAsync(worker('b'))
            void b.finally(() => child.kill('SIGCONT'))
          })
        }, 20)
        child.on('close', () => clearInterval(poll))
      })
      assert.ok(b !== undefined, `worker a finished before it was stopped: ${a.stderr}`)
      const rb = await b
      assert.equal(rb.code, 0, rb.stderr)
      assert.equal(json<{ processed: number }>(rb).processed, 1, 'b took over the job and committed it')
      assert.equal(a.code, 0, a.stderr)
      assert.deepEqual(json<{ processed: number; lost: number }>(a), { ...json(a), processed: 0, lost: 1 })
      const ids = fs
        .readdirSync(outdir)
        .filter((n) => n.startsWith('index.'))
        .flatMap((n) => jsonl<{ id: string }>(path.join(outdir, n)).map((e) => e.id))
      assert.deepEqual(ids, ['long'], 'committed exactly once')
    } finally {
      await queue.close()
    }
  })
})
