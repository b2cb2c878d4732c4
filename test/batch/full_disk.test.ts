// Batch output on a full disk: a shard the disk cut short is never committed, an index append
// that fails leaves no partial line, and the directory stays usable once there is room again.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { ShardWriter, type EncodedItem } from '../../lib/batch/shard_writer.js'
import { readSafetensors } from '../../lib/safetensors.js'
import { tempDir } from '../cli/helpers.js'
import { childWrite, fillUp, smallTmpfs, unfill } from '../support/full_disk.js'
import { jsonl } from './helpers.js'

/** An item of 16 KiB (mean [16,1,16,16] float32). */
function item(id: string, seed: number): EncodedItem {
  const data = Float32Array.from({ length: 16 * 16 * 16 }, (_, i) => seed + i / 4096)
  return { item: { id, path: `/clips/${id}.mp4` }, tensors: { mean: { data, shape: [16, 1, 16, 16] } }, fps: '8/1', frames: 4, width: 128, height: 128 }
}

describe('batch output on a full disk', () => {
  it('an index append past a file-size limit fails and leaves the committed lines as they were', () => {
    const dir = tempDir()
    const index = path.join(dir, 'index.jsonl')
    const committed = `${JSON.stringify({ id: 'kept', shard: 'data/shard-00000.safetensors', offset: 0, shapes: { mean: [1] } })}\n`
    fs.writeFileSync(index, committed)
    const verdict = childWrite(4, 'index', index, 40) // ~12 KB of lines against 4 KiB
    assert.equal(verdict.ok, false, 'a short append must not pass for success')
    assert.equal(verdict.code, 'ERR_IO', verdict.message)
    assert.match(verdict.message!, /appending 40 line\(s\) to .*index\.jsonl failed .*the index was cut back to its committed lines/)
    assert.equal(fs.readFileSync(index, 'utf8'), committed, 'no partial line left')
  })

  const disk = smallTmpfs(1024)
  it('a shard cut short by a full tmpfs is not committed; with room again the items commit', { skip: disk.skip }, async () => {
    const out = path.join(disk.dir, 'out')
    const options = { itemsPerShard: 4, perItem: false, bundle: 'b' }
    let w = await ShardWriter.open(out, '', options)
    const first = w.add(item('first', 0))
    await w.flush() // commits it alone: the index has its page now
    assert.equal((await first)?.id, 'first')
    const index = fs.readFileSync(path.join(out, 'index.jsonl'), 'utf8')
    fillUp(disk.dir, 24 * 1024) // room for part of a 64 KiB shard, and for index lines
    try {
      const adds = ['a', 'b', 'c', 'd'].map((id, i) => w.add(item(id, i + 1)))
      for (const a of adds)
        await assert.rejects(a, (err: Error & { code?: string }) => {
          assert.equal(err.code, 'ERR_IO', err.message)
          assert.match(err.message, /ENOSPC|no space/i)
          return true
        })
      await assert.rejects(w.close(), { code: 'ERR_IO' })
      assert.equal(fs.readFileSync(path.join(out, 'index.jsonl'), 'utf8'), index, 'nothing more committed')
      assert.deepEqual(fs.readdirSync(path.join(out, 'data')), ['shard-00000.safetensors'], 'no cut-short shard or temporary left')
    } finally {
      unfill(disk.dir)
    }
    w = await ShardWriter.open(out, '', options)
    assert.deepEqual([...w.committed], ['first'])
    const entries = await Promise.all(['a', 'b', 'c', 'd'].map((id, i) => w.add(item(id, i + 1))))
    await w.close()
    assert.deepEqual(
      jsonl<{ id: string }>(path.join(out, 'index.jsonl')).map((e) => e.id),
      ['first', 'a', 'b', 'c', 'd'],
    )
    const { tensors } = await readSafetensors(path.join(out, entries[3]!.shard))
    assert.deepEqual(Array.from(((await tensors['3/mean']!.data()) as Float32Array).subarray(0, 2)), [4, 4 + 1 / 4096])
    for (const t of Object.values(tensors)) t.dispose()
  })
})
