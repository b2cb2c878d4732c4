// Exactly once: a batch run killed with SIGKILL midway and run again ends with every item in
// the index once, every shard whole, no temporaries or orphan shards, and the same latents as
// VideoVAE.encode. Also the recovery paths a kill can leave: a torn last index line, a shard
// renamed but never committed, a writer's temporary file. And ^C (SIGINT) midway: a clean stop
// with exit code 130, then a rerun that completes.
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { VideoVAE } from '../../lib/vae.js'
import { cli, cliAsync, json, needsPython, tempDir } from '../cli/helpers.js'
import { BATCH_TOLERANCE, jsonl, makeClips, maxAbsDiff, readWithPython, referenceLatents } from './helpers.js'

const N = 10

function checkComplete(out: string, clips: string[]): ReturnType<typeof readWithPython> {
  const lines = jsonl<{ id: string; shard: string }>(path.join(out, 'index.jsonl'))
  assert.deepEqual(lines.map((e) => e.id).sort(), clips.map((_, i) => `c${i}`).sort(), 'every item exactly once')
  const referenced = new Set(lines.map((e) => e.shard.replace(/^data\//, '')))
  assert.deepEqual(fs.readdirSync(path.join(out, 'data')).sort(), [...referenced].sort(), 'only committed shards, no temporaries')
  assert.ok(!fs.existsSync(path.join(out, '.lock')), 'the lock is released')
  return readWithPython(out)
}

/** N clips, their manifest, and the batch command over them (shards of 2). */
function batchRun(): { clips: string[]; out: string; args: string[]; index: string } {
  const dir = tempDir()
  const clips = makeClips(dir, N)
  const manifest = path.join(dir, 'm.jsonl')
  fs.writeFileSync(manifest, clips.map((c, i) => JSON.stringify({ path: c, id: `c${i}` })).join('\n'))
  const out = path.join(dir, 'out')
  const args = ['batch', manifest, '-o', out, '--threads', '2', '--shard-items', '2', '--batch-size', '2', '--json']
  return { clips, out, args, index: path.join(out, 'index.jsonl') }
}

/** A `during` hook for cliAsync: sends `signal` as soon as the first shard is committed (midway). */
function signalAfterFirstCommit(index: string, signal: NodeJS.Signals) {
  return (child: ChildProcess): void => {
    const poll = setInterval(() => {
      if (fs.existsSync(index) && fs.readFileSync(index, 'utf8').length > 0) {
        clearInterval(poll)
        child.kill(signal)
      }
    }, 10)
    child.on('close', () => clearInterval(poll))
  }
}

describe('batch: killed and rerun, exactly once', { skip: needsPython }, () => {
  const { clips, out, args, index } = batchRun()

  it('SIGKILL after the first commit, then again at once, then a rerun completes', async () => {
    // First kill: as soon as a shard is committed (the run is midway).
    const killed = await cliAsync(args, signalAfterFirstCommit(index, 'SIGKILL'))
    assert.equal(killed.signal, 'SIGKILL', `the run ended before it was killed: ${killed.stderr}`)
    const committed = jsonl(index).length
    assert.ok(committed >= 2 && committed < N, `killed midway (${committed} committed)`)

    // Second kill: shortly after start (during loading, reading or writing, whichever it is).
    const again = await cliAsync(args, (child) => setTimeout(() => child.kill('SIGKILL'), 1500))
    assert.equal(again.signal, 'SIGKILL')

    const last = cli(args)
    assert.equal(last.code, 0, last.stderr)
    const report = json<{ encoded: number; skipped: number }>(last)
    assert.equal(report.encoded + report.skipped, N)
    assert.ok(report.skipped >= committed)

    const { tensors } = checkComplete(out, clips)
    const vae = await VideoVAE.load(undefined, { threads: 2 })
    try {
      for (const [i, clip] of clips.entries()) {
        const ref = await referenceLatents(vae, clip)
        const got = tensors[`c${i}`]!
        assert.ok(maxAbsDiff(got.mean!.data, ref.mean!) <= BATCH_TOLERANCE, `c${i} mean`)
        assert.ok(maxAbsDiff(got.logvar!.data, ref.logvar!) <= BATCH_TOLERANCE, `c${i} logvar ${maxAbsDiff(got.logvar!.data, ref.logvar!)}`)
      }
    } finally {
      vae.dispose()
    }
  })

  it('recovers from a torn index line, an uncommitted shard and a temporary', () => {
    const before = fs.readFileSync(index, 'utf8')
    const lines = before.trimEnd().split('\n')
    // Uncommit the last shard's items as a crash mid-append would: their lines torn away...
    const lastShard = (JSON.parse(lines[lines.length - 1]!) as { shard: string }).shard
    const kept = lines.filter((l) => (JSON.parse(l) as { shard: string }).shard !== lastShard)
    const torn = lines.find((l) => (JSON.parse(l) as { shard: string }).shard === lastShard)!.slice(0, 40)
    fs.writeFileSync(index, `${kept.join('\n')}\n${torn}`)
    // ...while their shard file was already renamed into place; plus a writer's temporary.
    fs.writeFileSync(path.join(out, 'data', '.shard-00099.safetensors.0123456789ab.tmp'), 'partial')
    fs.writeFileSync(path.join(out, lastShard), 'whatever the crash left') // never read: no line refers to it
    const r = cli(args)
    assert.equal(r.code, 0, r.stderr)
    const report = json<{ encoded: number; skipped: number }>(r)
    assert.equal(report.encoded, lines.length - kept.length)
    // Every line parses (the torn one was cut off) and every shard loads (the orphan was removed,
    // its number reused by a shard written afresh).
    checkComplete(out, clips)
  })

  it('a damaged index line in the middle stops the run with a clear error and touches nothing', () => {
    const text = fs.readFileSync(index, 'utf8')
    const damaged = text.replace('\n', '\n{garbage\n')
    fs.writeFileSync(index, damaged)
    const r = cli(args)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /index\.jsonl:2 is not a JSON line; the index is damaged \(ERR_INDEX\)/)
    assert.equal(fs.readFileSync(index, 'utf8'), damaged)
  })
})

describe('batch: interrupted with SIGINT (^C), then rerun', { skip: needsPython }, () => {
  const { clips, out, args, index } = batchRun()

  it('stops cleanly with exit code 130, what it committed is whole, and a rerun completes', async () => {
    const interrupted = await cliAsync(args, signalAfterFirstCommit(index, 'SIGINT'))
    assert.equal(interrupted.code, 130, `exit code of an interrupted run: ${interrupted.stderr}`)
    const committed = jsonl<{ id: string; shard: string }>(index)
    assert.ok(committed.length >= 2 && committed.length < N, `interrupted midway (${committed.length} committed)`)
    const referenced = new Set(committed.map((e) => e.shard.replace(/^data\//, '')))
    assert.deepEqual(fs.readdirSync(path.join(out, 'data')).sort(), [...referenced].sort(), 'no temporaries or uncommitted shards')
    assert.ok(!fs.existsSync(path.join(out, '.lock')), 'the lock is released')
    assert.equal(readWithPython(out).entries.length, committed.length, 'every committed item reads back')

    const rerun = cli(args)
    assert.equal(rerun.code, 0, rerun.stderr)
    assert.deepEqual(json<{ encoded: number; skipped: number }>(rerun), { ...json(rerun), encoded: N - committed.length, skipped: committed.length })
    checkComplete(out, clips)
  })
})
