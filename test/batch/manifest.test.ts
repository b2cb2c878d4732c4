// Manifests (CSV, JSONL, directory, glob), their errors, and the --shard partition.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { parseCsv, readManifest } from '../../lib/batch/manifest.js'
import { parseShardSpec, partOf, selectShard } from '../../lib/batch/partition.js'
import { tempDir } from '../cli/helpers.js'

describe('batch manifests', () => {
  const dir = tempDir()

  it('reads CSV with quoted fields, captions, ids and relative paths', async () => {
    const file = path.join(dir, 'm.csv')
    fs.writeFileSync(file, 'id,path,caption,extra\r\nA,a.mp4,"a cat, sitting",x\n,sub/b.mp4,"said ""hi""\nin two lines",\nC,/abs/c.mp4,,\n')
    assert.deepEqual(await readManifest(file), [
      { id: 'A', path: path.join(dir, 'a.mp4'), caption: 'a cat, sitting' },
      { id: 'sub/b.mp4', path: path.join(dir, 'sub/b.mp4'), caption: 'said "hi"\nin two lines' },
      { id: 'C', path: '/abs/c.mp4' },
    ])
  })

  it('reads JSONL (numbers as ids, blank lines skipped)', async () => {
    const file = path.join(dir, 'm.jsonl')
    fs.writeFileSync(file, '{"path":"a.mp4","caption":"x","id":7}\n\n{"path":"b.mp4"}\n')
    assert.deepEqual(await readManifest(file), [
      { id: '7', path: path.join(dir, 'a.mp4'), caption: 'x' },
      { id: 'b.mp4', path: path.join(dir, 'b.mp4') },
    ])
  })

  it('reads a directory and a glob, sorted, ids relative to the root', async () => {
    const root = path.join(dir, 'clips')
    fs.mkdirSync(path.join(root, 'b'), { recursive: true })
    for (const f of ['z.mp4', 'a.mov', 'notes.txt', 'b/c.mp4']) fs.writeFileSync(path.join(root, f), '')
    assert.deepEqual(
      (await readManifest(root)).map((i) => i.id),
      ['a.mov', 'b/c.mp4', 'z.mp4'],
    )
    assert.deepEqual(
      (await readManifest(`${root}/**/*.mp4`)).map((i) => i.id),
      ['b/c.mp4', 'z.mp4'],
    )
    assert.deepEqual(
      (await readManifest(`${root}/*.mp4`)).map((i) => i.id),
      ['z.mp4'],
    )
  })

  it('names the problem of a bad manifest', async () => {
    const cases: [string, string, RegExp][] = [
      ['dup.csv', 'path,id\na.mp4,x\nb.mp4,x\n', /items 1 and 2 have the same id 'x'/],
      ['nopath.csv', 'file,caption\na.mp4,x\n', /must name a 'path' column/],
      ['empty.csv', 'path\n', /lists no items/],
      ['quote.csv', 'path\n"a.mp4\n', /unterminated quoted field/],
      ['bad.jsonl', '{"path":"a.mp4"}\nnot json\n', /bad\.jsonl:2: not a JSON object/],
      ['nopath.jsonl', '{"caption":"x"}\n', /nopath\.jsonl:1: "path" is missing/],
      ['m.txt', 'a.mp4\n', /unknown manifest format '\.txt'/],
    ]
    for (const [name, text, message] of cases) {
      fs.writeFileSync(path.join(dir, name), text)
      await assert.rejects(readManifest(path.join(dir, name)), (err: Error & { code?: string }) => err.code === 'ERR_MANIFEST' && message.test(err.message))
    }
    await assert.rejects(readManifest(path.join(dir, 'absent.csv')), /no such manifest/)
    await assert.rejects(readManifest(path.join(dir, 'nothing', '*.mp4')), /matches no files/)
  })

  it('parses CSV records exactly', () => {
    assert.deepEqual(
      parseCsv('a,"b,c"\n\n"d""e",\n').map((r) => r.fields),
      [
        ['a', 'b,c'],
        ['d"e', ''],
      ],
    )
  })

  it('--shard i/N partitions deterministically: every item in exactly one part, stable under reordering', () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ id: `clip-${i}`, path: `/c/${i}.mp4` }))
    const parts = [0, 1, 2, 3, 4].map((index) => selectShard(items, { index, count: 5 }))
    assert.equal(
      parts.reduce((s, p) => s + p.length, 0),
      1000,
    )
    assert.equal(new Set(parts.flat().map((i) => i.id)).size, 1000)
    for (const p of parts) assert.ok(p.length > 150 && p.length < 250, `unbalanced part of ${p.length}`)
    const reversed = selectShard([...items].reverse(), { index: 2, count: 5 })
      .map((i) => i.id)
      .sort()
    assert.deepEqual(reversed, parts[2]!.map((i) => i.id).sort())
    assert.equal(partOf('clip-0', 5), partOf('clip-0', 5))
    assert.deepEqual(parseShardSpec('3/8'), { index: 3, count: 8 })
    for (const bad of ['8/8', '1', '-1/2', 'a/b', '1/0']) assert.throws(() => parseShardSpec(bad), /--shard must be i\/N/)
  })
})
