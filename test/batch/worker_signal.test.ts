// `videovae worker` stopped by SIGTERM (docker stop, systemd, a scheduler) while it holds a job:
// it finishes and commits the job and exits 143, leaving no job locked in redis (a killed worker
// would leave it active until --lock-ms runs out, and its item encoded again elsewhere).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'

import { Queue } from 'bullmq'

import { cli, cliAsync, json, makeVideo, needsPython, tempDir } from '../cli/helpers.js'
import { jsonl } from './helpers.js'
import { needsRedis, startRedis, type RedisServer } from './redis.js'

describe('worker on SIGTERM', { skip: needsRedis || needsPython }, () => {
  const dir = tempDir()
  let redis: RedisServer
  before(async () => {
    redis = await startRedis()
  })
  after(() => redis?.stop())

  it('finishes the job it holds, exits 143, leaves nothing locked', async () => {
    const url = redis.url('term')
    const clip = makeVideo(path.join(dir, 'clip.mp4'), { width: 64, height: 64, frames: 32 })
    const manifest = path.join(dir, 'm.jsonl')
    fs.writeFileSync(manifest, JSON.stringify({ path: clip, id: 'clip' }))
    assert.equal(cli(['batch', manifest, '--queue', url]).code, 0)
    const outdir = path.join(dir, 'out')
    const queue = new Queue('term', { connection: { host: '127.0.0.1', port: redis.port } })
    try {
      let sent = false
      const r = await cliAsync(['worker', '--queue', url, '-o', outdir, '--worker-id', 'w', '--threads', '1', '--json'], (child) => {
        const poll = setInterval(() => {
          void queue.getActiveCount().then((active) => {
            if (active === 0 || sent) return
            clearInterval(poll)
            sent = child.kill('SIGTERM')
          })
        }, 20)
        child.on('close', () => clearInterval(poll))
      })
      assert.ok(sent, `the worker ended before it held the job: ${r.stderr}`)
      assert.equal(r.signal, null, 'killed by SIGTERM instead of handling it')
      assert.equal(r.code, 143, r.stderr)
      assert.equal(json<{ processed: number }>(r).processed, 1)
      assert.deepEqual(await queue.getJobCounts('active', 'completed', 'wait'), { active: 0, completed: 1, wait: 0 })
      assert.deepEqual(
        jsonl<{ id: string }>(path.join(outdir, 'index.worker-w.jsonl')).map((e) => e.id),
        ['clip'],
      )
    } finally {
      await queue.close()
    }
  })
})
