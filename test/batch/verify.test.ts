// `videovae batch --verify`: committed items whose shard does not read back (what a full disk
// left before writes were checked) are taken out of the index and encoded again; `stats` names
// the damaged shard and the way out.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { cli, json, tempDir } from '../cli/helpers.js'
import { jsonl, makeClips } from './helpers.js'

interface Report {
  encoded: number
  skipped: number
  verified?: { checked: number; bad: { id: string; shard: string; problem: string }[] }
}

describe('videovae batch --verify', () => {
  const dir = tempDir()
  const clips = makeClips(dir, 3)
  const manifest = path.join(dir, 'clips.csv')
  fs.writeFileSync(manifest, `path,id\n${clips.map((c, i) => `${c},c${i}`).join('\n')}\n`)
  const out = path.join(dir, 'out')
  const common = ['--threads', '2', '--shard-items', '2', '--json']
  const index = path.join(out, 'index.jsonl')

  it('re-encodes the items of a truncated shard and leaves the others committed', () => {
    const first = cli(['batch', manifest, '-o', out, ...common])
    assert.equal(first.code, 0, first.stderr)
    const entries = jsonl<{ id: string; shard: string }>(index)
    const damaged = entries[0]!.shard
    const inDamaged = entries
      .filter((e) => e.shard === damaged)
      .map((e) => e.id)
      .sort()
    assert.equal(inDamaged.length, 2)
    const file = path.join(out, damaged)
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2))

    const stats = cli(['stats', out])
    assert.equal(stats.code, 1)
    assert.match(stats.stderr, new RegExp(`${damaged} of 2 committed item\\(s\\).*does not read: .*truncated.*--verify`))

    const verify = cli(['batch', manifest, '-o', out, '--verify', ...common])
    assert.equal(verify.code, 0, verify.stderr)
    const report = json<Report>(verify)
    assert.equal(report.verified?.checked, 3)
    assert.deepEqual(report.verified?.bad.map((b) => b.id).sort(), inDamaged)
    for (const b of report.verified!.bad) assert.match(b.problem, /header describes|outside the file|truncated/)
    assert.equal(report.encoded, 2)
    assert.equal(report.skipped, 1)
    for (const id of inDamaged) assert.match(verify.stderr, new RegExp(`videovae: ${id} did not read back, encoding it again`))

    const ids = jsonl<{ id: string }>(index)
      .map((e) => e.id)
      .sort()
    assert.deepEqual(ids, ['c0', 'c1', 'c2'], 'each item committed once')
    assert.equal(cli(['stats', out]).code, 0)

    const again = json<Report>(cli(['batch', manifest, '-o', out, '--verify', ...common]))
    assert.deepEqual(again.verified, { checked: 3, bad: [] })
    assert.equal(again.encoded, 0)
  })

  it('--verify with --queue is a usage error', () => {
    const r = cli(['batch', manifest, '--queue', 'redis://127.0.0.1:1/x', '--verify'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /--verify checks an output directory/)
  })
})
