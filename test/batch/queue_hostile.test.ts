// Queue workers and hostile items (issue 27): an item in a refused format or over the memory
// limit fails on its first attempt (no retries, whatever --attempts says) and is recorded in
// the worker's failures.jsonl; the worker's --trusted-input and --memory-limit are its own.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'

import { Queue } from 'bullmq'

import { cli, json, makeVideo, tempDir } from '../cli/helpers.js'
import { jsonl } from './helpers.js'
import { needsRedis, startRedis, type RedisServer } from './redis.js'

describe('queue workers and hostile items', { skip: needsRedis }, () => {
  const dir = tempDir()
  const clip = makeVideo(path.join(dir, 'clip.mp4'), { width: 32, height: 32, frames: 8 })
  const hls = path.join(dir, 'upload.mp4')
  fs.writeFileSync(hls, `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1,\n${clip}\n#EXT-X-ENDLIST\n`)
  const big = path.join(dir, 'big.mp4')
  execFileSync('ffmpeg', [
    '-nostdin',
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'color=c=blue:s=512x512:r=4',
    '-frames:v',
    '4',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    big,
  ])
  const manifest = path.join(dir, 'm.jsonl')
  fs.writeFileSync(
    manifest,
    [
      { id: 'good', path: clip },
      { id: 'hls', path: hls },
      { id: 'big', path: big },
    ]
      .map((o) => JSON.stringify(o))
      .join('\n'),
  )
  let redis: RedisServer

  before(async () => {
    redis = await startRedis()
  })
  after(() => redis?.stop())

  it('ERR_FORMAT_NOT_ALLOWED and ERR_LIMIT fail once, without retries', { timeout: 120_000 }, async () => {
    const url = redis.url('hostile')
    assert.equal(cli(['batch', manifest, '--queue', url, '--attempts', '3', '--backoff', '100']).code, 0)
    assert.equal(cli(['batch', manifest, '--queue', url, '--trusted-input']).code, 2) // the workers decide
    const out = path.join(dir, 'out')
    // 512x512 untiled is estimated above 1 GB with the default model: refused under this worker's limit.
    const r = cli(['worker', '--queue', url, '-o', out, '--worker-id', 'w', '--until-empty', '--memory-limit', '1GB', '--threads', '1', '--json'])
    assert.equal(r.code, 3, r.stderr)
    const report = json<{ processed: number; failed: { id: string; code: string }[] }>(r)
    assert.equal(report.processed, 1)
    assert.deepEqual(report.failed.map((f) => [f.id, f.code]).sort(), [
      ['big', 'ERR_LIMIT'],
      ['hls', 'ERR_FORMAT_NOT_ALLOWED'],
    ])
    assert.deepEqual(
      jsonl<{ id: string }>(path.join(out, 'failures.worker-w.jsonl'))
        .map((f) => f.id)
        .sort(),
      ['big', 'hls'],
    )
    const queue = new Queue('hostile', { connection: { host: '127.0.0.1', port: redis.port } })
    try {
      const failed = await queue.getJobs(['failed'])
      assert.deepEqual(failed.map((j) => [j.data.item.id, j.attemptsMade]).sort(), [
        ['big', 1],
        ['hls', 1],
      ])
    } finally {
      await queue.close()
    }
  })
})
