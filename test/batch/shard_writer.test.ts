// ShardWriter on its own (no model): shards of N with offsets, reopening continues the
// numbering, and a failing write stops the writer without touching what was committed.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { ShardWriter, type EncodedItem } from '../../lib/batch/shard_writer.js'
import { readSafetensors } from '../../lib/safetensors.js'
import { tempDir } from '../cli/helpers.js'
import { jsonl } from './helpers.js'

function item(id: string, seed: number): EncodedItem {
  const data = Float32Array.from({ length: 2 * 1 * 2 * 2 }, (_, i) => seed * 100 + i)
  return { item: { id, path: `/clips/${id}.mp4` }, tensors: { mean: { data, shape: [2, 1, 2, 2] } }, fps: '8/1', frames: 4, width: 16, height: 16 }
}

describe('ShardWriter', () => {
  const dir = tempDir()

  it('writes shards of N, indexes them and continues the numbering when reopened', async () => {
    const out = path.join(dir, 'a')
    let w = await ShardWriter.open(out, '', { itemsPerShard: 2, perItem: false, bundle: 'b' })
    const entries = await Promise.all([
      w.add(item('x', 1)),
      w.add(item('y', 2)),
      (async () => {
        const p = w.add(item('z', 3))
        await w.close()
        return p
      })(),
    ])
    assert.deepEqual(
      entries.map((e) => [e?.id, e?.shard, e?.offset]),
      [
        ['x', 'data/shard-00000.safetensors', 0],
        ['y', 'data/shard-00000.safetensors', 1],
        ['z', 'data/shard-00001.safetensors', 0],
      ],
    )
    const { tensors, metadata } = await readSafetensors(path.join(out, 'data/shard-00000.safetensors'))
    assert.deepEqual(Array.from((await tensors['1/mean']!.data()) as Float32Array), Array.from(item('y', 2).tensors.mean!.data))
    assert.equal(metadata.items, '2')
    w = await ShardWriter.open(out, '', { itemsPerShard: 2, perItem: false, bundle: 'b' })
    assert.deepEqual([...w.committed].sort(), ['x', 'y', 'z'])
    const next = w.add(item('w', 4))
    await w.close()
    assert.equal((await next)?.shard, 'data/shard-00002.safetensors')
    assert.equal(jsonl(path.join(out, 'index.jsonl')).length, 4)
  })

  it('items the claim refuses are dropped uncommitted, the rest fill the shard in order', async () => {
    const out = path.join(dir, 'claim')
    const asked: string[][] = []
    const w = await ShardWriter.open(out, 'worker-a', {
      itemsPerShard: 3,
      perItem: false,
      bundle: 'b',
      claim: async (items) => {
        asked.push(items.map((e) => e.item.id))
        return items.map((e) => e.item.id !== 'taken')
      },
    })
    const results = await Promise.all([w.add(item('p', 1)), w.add(item('taken', 2)), w.add(item('q', 3))])
    await w.close()
    assert.deepEqual(asked, [['p', 'taken', 'q']], 'asked once, right before the shard is written')
    assert.deepEqual(
      results.map((e) => e && [e.id, e.offset]),
      [['p', 0], null, ['q', 1]],
    )
    assert.deepEqual(
      jsonl<{ id: string }>(path.join(out, 'index.worker-a.jsonl')).map((e) => e.id),
      ['p', 'q'],
    )
    const { tensors, metadata } = await readSafetensors(path.join(out, results[2]!.shard))
    assert.equal(metadata.items, '2')
    assert.deepEqual(Array.from((await tensors['1/mean']!.data()) as Float32Array), Array.from(item('q', 3).tensors.mean!.data))
    for (const t of Object.values(tensors)) t.dispose()
  })

  it('a second live writer of the same part is refused', async () => {
    const out = path.join(dir, 'b')
    const w = await ShardWriter.open(out, 'part-0-of-2', { itemsPerShard: 2, perItem: false, bundle: 'b' })
    await assert.rejects(ShardWriter.open(out, 'part-0-of-2', { itemsPerShard: 2, perItem: false, bundle: 'b' }), { code: 'ERR_BUSY' })
    await w.close()
  })

  it('a failing write rejects its items and later ones, and leaves the committed ones intact', async () => {
    const out = path.join(dir, 'c')
    const w = await ShardWriter.open(out, '', { itemsPerShard: 1, perItem: false, bundle: 'b' })
    await w.add(item('kept', 1))
    const index = fs.readFileSync(path.join(out, 'index.jsonl'), 'utf8')
    fs.renameSync(path.join(out, 'data'), path.join(out, 'data-away'))
    fs.writeFileSync(path.join(out, 'data'), 'not a directory') // every later write fails
    await assert.rejects(w.add(item('lost', 2)), { code: 'ERR_IO' })
    await assert.rejects(w.add(item('after', 3)), { code: 'ERR_IO' })
    await assert.rejects(w.close(), { code: 'ERR_IO' })
    assert.equal(fs.readFileSync(path.join(out, 'index.jsonl'), 'utf8'), index)
    assert.ok(!fs.existsSync(path.join(out, '.lock')), 'the lock is released')
  })
})
