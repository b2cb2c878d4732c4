// `videovae batch` and `videovae stats` end to end with the default model on tiny clips: the
// latents the README's Python reader gets equal VideoVAE.encode's, stats equal numpy's, bad
// items go to failures.jsonl, reruns skip committed items, --shard parts and --per-item files.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'

import { itemSeed } from '../../lib/batch/batch_encoder.js'
import { partOf } from '../../lib/batch/partition.js'
import { VideoVAE } from '../../lib/vae.js'
import { cli, json, needsPython, tempDir } from '../cli/helpers.js'
import { BATCH_TOLERANCE, jsonl, makeClips, makeCorrupt, maxAbsDiff, numpyStats, readWithPython, referenceLatents } from './helpers.js'

describe('videovae batch (one machine)', { skip: needsPython }, () => {
  const dir = tempDir()
  const clips = makeClips(dir, 6)
  const short = makeClips(path.join(dir, 'short'), 1, { frames: 2 })[0]!
  const corrupt = makeCorrupt(path.join(dir, 'corrupt.mp4'), clips[0]!)
  const manifest = path.join(dir, 'clips.csv')
  fs.writeFileSync(
    manifest,
    'path,caption,id\n' +
      clips.map((c, i) => `${path.basename(c)},${i % 2 === 0 ? `"clip ${i}, captioned"` : ''},c${i}`).join('\n') +
      `\n${short},,short\n${corrupt},,corrupt\nmissing.mp4,,missing\n`,
  )
  const out = path.join(dir, 'out')
  const common = ['--threads', '2', '--shard-items', '4']
  let vae: VideoVAE
  const reference: Record<string, Record<string, Float32Array>> = {}
  let first: ReturnType<typeof cli>

  before(async () => {
    first = cli(['batch', manifest, '-o', out, ...common, '--json'])
    vae = await VideoVAE.load(undefined, { threads: 2 })
    for (const [i, c] of clips.entries()) reference[`c${i}`] = await referenceLatents(vae, c)
  })
  after(() => vae?.dispose())

  it('encodes the good items, reports the bad ones and exits 3', () => {
    assert.equal(first.code, 3, first.stderr)
    const report = json<{ encoded: number; skipped: number; failed: { id: string; code: string }[] }>(first)
    assert.equal(report.encoded, 6)
    assert.equal(report.skipped, 0)
    const codes = Object.fromEntries(report.failed.map((f) => [f.id, f.code]))
    assert.deepEqual(codes, { short: 'ERR_TOO_SHORT', corrupt: 'ERR_VIDEO_CORRUPT', missing: 'ERR_NOT_FOUND' })
    const failures = jsonl<{ id: string; code: string; error: string; source: string }>(path.join(out, 'failures.jsonl'))
    assert.deepEqual(Object.fromEntries(failures.map((f) => [f.id, f.code])), codes)
    assert.match(failures.find((f) => f.id === 'short')!.error, /2 frame\(s\), fewer than the 4 needed/)
    for (const id of ['short', 'corrupt', 'missing']) assert.match(first.stderr, new RegExp(`videovae: ${id}: `))
  })

  it('the README Python reader reads back exactly what VideoVAE.encode returns, with the index fields', () => {
    const { entries, tensors } = readWithPython(out)
    assert.deepEqual(entries.map((e) => e.id).sort(), ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'])
    const manifestSha = vae.info.sha256
    for (const e of entries) {
      const i = Number(String(e.id).slice(1))
      assert.equal(e.source, clips[i])
      assert.equal(e.caption, i % 2 === 0 ? `clip ${i}, captioned` : undefined)
      assert.deepEqual(e.shapes, { mean: [16, 2, 4, 4], logvar: [16, 2, 4, 4] })
      assert.deepEqual([e.fps, e.frames, e.width, e.height, e.bundle], ['8/1', 8, 32, 32, manifestSha])
      assert.match(String(e.shard), /^data\/shard-0000[01]\.safetensors$/)
      const ref = reference[e.id as string]!
      const got = tensors[e.id as string]!
      assert.ok(maxAbsDiff(got.mean!.data, ref.mean!) <= BATCH_TOLERANCE, `${e.id} mean differs by ${maxAbsDiff(got.mean!.data, ref.mean!)}`)
      assert.ok(maxAbsDiff(got.logvar!.data, ref.logvar!) <= BATCH_TOLERANCE, `${e.id} logvar differs by ${maxAbsDiff(got.logvar!.data, ref.logvar!)}`)
    }
    // Shards of 4: one full, one with the remaining 2, offsets 0..n-1 in each.
    const byShard = new Map<string, number[]>()
    for (const e of entries) byShard.set(e.shard as string, [...(byShard.get(e.shard as string) ?? []), e.offset as number])
    assert.deepEqual(
      [...byShard.values()].map((o) => o.sort()).sort((a, b) => b.length - a.length),
      [
        [0, 1, 2, 3],
        [0, 1],
      ],
    )
    assert.deepEqual(fs.readdirSync(path.join(out, 'data')).sort(), ['shard-00000.safetensors', 'shard-00001.safetensors'])
  })

  it('stats equal numpy over the stored latents', () => {
    const r = cli(['stats', out, '--json', '-o', path.join(dir, 'stats.json')])
    assert.equal(r.code, 0, r.stderr)
    const s = json<{ tensor: string; items: number; channels: number; count: number; mean: number[]; std: number[]; sampleStd: number[] }>(r)
    assert.deepEqual([s.tensor, s.items, s.channels, s.count], ['mean', 6, 16, 6 * 2 * 4 * 4])
    const np = numpyStats(out)
    for (const key of ['mean', 'std', 'sampleStd'] as const) {
      assert.ok(maxAbsDiff(s[key], np[key]) < 1e-9, `${key}: ${s[key]} vs numpy ${np[key]}`)
    }
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'stats.json'), 'utf8')), s)
  })

  it('a rerun skips committed items, retries the failed ones and leaves the index as it was', () => {
    const index = fs.readFileSync(path.join(out, 'index.jsonl'), 'utf8')
    const r = cli(['batch', manifest, '-o', out, ...common, '--json'])
    assert.equal(r.code, 3, r.stderr)
    const report = json<{ encoded: number; skipped: number; failed: unknown[] }>(r)
    assert.deepEqual([report.encoded, report.skipped, report.failed.length], [0, 6, 3])
    assert.equal(fs.readFileSync(path.join(out, 'index.jsonl'), 'utf8'), index)
    assert.equal(jsonl(path.join(out, 'failures.jsonl')).length, 3)
  })

  it('refuses to mix settings in one directory', () => {
    const r = cli(['batch', manifest, '-o', out, ...common, '--sample-seed', '1'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /holds a dataset made with other settings \(store: "posterior" there, "sample" now.*ERR_DATASET_MISMATCH/)
  })

  it('--shard i/N parts share a directory; --per-item writes one file per item; --sample-seed stores drawn latents', async () => {
    const parts = path.join(dir, 'parts')
    const good = path.join(dir, 'good.jsonl')
    fs.writeFileSync(
      good,
      clips
        .slice(0, 4)
        .map((c, i) => JSON.stringify({ path: c, id: `c${i}` }))
        .join('\n'),
    )
    for (const part of ['0/2', '1/2']) {
      const r = cli(['batch', good, '-o', parts, '--threads', '2', '--shard', part, '--per-item', '--sample-seed', '5', '--batch-size', '1'])
      assert.equal(r.code, 0, r.stderr)
    }
    const ids = (file: string): string[] => jsonl<{ id: string }>(path.join(parts, file)).map((e) => e.id)
    for (const k of [0, 1])
      assert.deepEqual(
        ids(`index.part-${k}-of-2.jsonl`).sort(),
        ['c0', 'c1', 'c2', 'c3'].filter((id) => partOf(id, 2) === k),
      )
    const { entries, tensors } = readWithPython(parts)
    assert.deepEqual(entries.map((e) => e.id).sort(), ['c0', 'c1', 'c2', 'c3'])
    for (const e of entries) {
      assert.match(String(e.shard), /^items\/clip\d\.mp4-[0-9a-f]{10}\.safetensors$|^items\/c\d-[0-9a-f]{10}\.safetensors$/)
      assert.equal(e.offset, 0)
      assert.equal(e.seed, itemSeed(5, e.id as string))
      const ref = await referenceLatents(vae, clips[Number(String(e.id).slice(1))]!, e.seed as number)
      assert.deepEqual(Object.keys(tensors[e.id as string]!), ['latent'])
      assert.equal(maxAbsDiff(tensors[e.id as string]!.latent!.data, ref.latent!), 0)
    }
    assert.equal(fs.readdirSync(path.join(parts, 'items')).length, 4)
  })

  it('usage errors exit 2 before any work', () => {
    for (const args of [
      ['batch', manifest],
      ['batch', manifest, '-o', out, '--shard', '2/2'],
      ['batch', manifest, '-o', out, '--frames', '2'],
    ]) {
      const r = cli(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    }
  })
})
