// The bundle's manifest `rules` and `compression` are the one source of the chunk, tile and
// size rules (lib/rules.ts): every bad value is ERR_ARGUMENT (ERR_SHAPE for tensor shapes)
// before any native work, a bundle with other rules accepts other values, and the native
// pipeline only asserts (ERR_ASSERTION) when the raw addon is called past those checks.
// Runs on the embedded default model (no ../shared).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'

import { readBundle } from '../../lib/bundle.js'
import { defaultBundleDir, Tensor, VideoVAE } from '../../lib/index.js'
import { memoryEstimate } from '../../lib/memory_limit.js'
import { native, type NativeRunOptions } from '../../lib/native.js'
import { latentShape } from '../../lib/rules.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a manifest the test edits freely
type Manifest = Record<string, any>

const video = (t: number, h: number, w: number): Tensor => Tensor.from(new Float32Array(3 * t * h * w), [1, 3, t, h, w])
const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0)

/** A copy of the default bundle whose manifest is edited (the stage files keep their hashes). */
function editedBundle(root: string, name: string, edit: (m: Manifest) => void): string {
  const dir = path.join(root, name)
  fs.cpSync(defaultBundleDir(), dir, { recursive: true })
  const file = path.join(dir, 'manifest.json')
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest
  edit(m)
  fs.writeFileSync(file, JSON.stringify(m, null, 2))
  return dir
}

// Values that break the default rules (t_multiple 4, t_min 4, hw_multiple 8), each with the rule its message must name.
const BAD: [string, Record<string, unknown>, RegExp][] = [
  ['chunkFrames 6', { chunkFrames: 6 }, /chunkFrames must be a multiple of 4 \(the bundle's rules\.t_multiple\).*got 6/],
  ['chunkFrames 0', { chunkFrames: 0 }, /chunkFrames .*rules\.t_multiple.*got 0/],
  ['chunkFrames -4', { chunkFrames: -4 }, /chunkFrames .*got -4/],
  ['chunkFrames 4.5', { chunkFrames: 4.5 }, /chunkFrames .*got 4\.5/],
  ['chunkFrames "8"', { chunkFrames: '8' }, /chunkFrames .*got 8/],
  ['image chunkFrames 0', { image: true, chunkFrames: 0 }, /chunkFrames must be a positive integer, got 0/],
  ['tile.size 20', { tile: { size: 20 } }, /tile\.size must be a multiple of 8 \(the bundle's rules\.hw_multiple\).*got 20/],
  ['tile.size 0', { tile: { size: 0 } }, /tile\.size .*got 0/],
  ['tile.size NaN', { tile: { size: NaN } }, /tile\.size .*got NaN/],
  [
    'tile.overlap 4',
    { tile: { size: 32, overlap: 4 } },
    /tile\.overlap must be 0 or a multiple of 8 \(the bundle's rules\.hw_multiple\) below tile\.size \(32\), got 4/,
  ],
  ['tile.overlap = size', { tile: { size: 32, overlap: 32 } }, /tile\.overlap .*below tile\.size \(32\), got 32/],
  ['tile.overlap -8', { tile: { size: 32, overlap: -8 } }, /tile\.overlap .*got -8/],
]

describe('shape rules from the bundle manifest', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-rules-'))
  let vae: VideoVAE
  let latent: Tensor
  before(async () => {
    vae = await VideoVAE.load()
    latent = await vae.encode(video(8, 16, 16))
  })
  after(() => {
    latent.dispose()
    vae.dispose()
    fs.rmSync(tmp, { recursive: true, force: true })
  })

  for (const [name, options, message] of BAD) {
    test(`${name}: ERR_ARGUMENT from encode, decode and encodeStream`, async () => {
      const input = video(8, 16, 16)
      await assert.rejects(vae.encode(input, options), { code: 'ERR_ARGUMENT', message })
      await assert.rejects(vae.decode(latent, options), { code: 'ERR_ARGUMENT', message })
      // encodeStream's chunkFrames 0 is valid: the whole stream as one chunk.
      if (options.image === undefined && options.chunkFrames !== undefined && options.chunkFrames !== 0) {
        const blocks = [{ frames: new Uint8Array(8 * 16 * 16 * 3), shape: [8, 16, 16, 3] }]
        await assert.rejects(vae.encodeStream(blocks, options).next(), { code: 'ERR_ARGUMENT', message })
      }
      input.dispose()
    })
  }

  test('tensor shapes that break the rules are ERR_SHAPE naming the rule', async () => {
    await assert.rejects(vae.encode(video(3, 16, 16)), { code: 'ERR_SHAPE', message: /at least 4 frames \(the bundle's rules\.t_min\), got 3/ })
    await assert.rejects(vae.encode(video(4, 12, 16)), { code: 'ERR_SHAPE', message: /multiples of 8 \(the bundle's rules\.hw_multiple\), got 12x16/ })
    const empty = Tensor.from(new Float32Array(0), [1, 16, 0, 2, 2])
    await assert.rejects(vae.decode(empty), { code: 'ERR_SHAPE', message: /latent must be \[B, 16, T, h, w\]/ })
    empty.dispose()
  })

  test('the raw addon past the TypeScript checks: internal assertions, ERR_ASSERTION', async () => {
    const addon = native()
    const stages = vae.stages.map((m) => m.handle())
    const input = video(8, 16, 16)
    const good: NativeRunOptions = { image: false, chunkFrames: 0, tileSize: 0, tileOverlap: 0, compressionT: 4, compressionH: 8, compressionW: 8 }
    const run = (options: Partial<NativeRunOptions>) =>
      addon.vaeEncode(stages, input.handle(), null, { ...good, ...options } as NativeRunOptions, null, addon.cancelTokenNew())
    await assert.rejects(run({ tileSize: 20, tileOverlap: 0 }), { code: 'ERR_ASSERTION', message: /internal assertion failed: tile size 20/ })
    await assert.rejects(run({ tileSize: 32, tileOverlap: 32 }), { code: 'ERR_ASSERTION' })
    await assert.rejects(run({ chunkFrames: 6 }), { code: 'ERR_ASSERTION', message: /chunkFrames 6 is not a multiple of 4/ })
    await assert.rejects(run({ compressionT: undefined as unknown as number }), { code: 'ERR_ASSERTION', message: /compression factors/ })
    await assert.rejects(addon.vaeDecode(stages, latent.handle(), null, { ...good, tileSize: 12 }, null, addon.cancelTokenNew()), {
      code: 'ERR_ASSERTION',
      message: /tile size 12/,
    })
    const short = video(2, 16, 16)
    await assert.rejects(addon.vaeEncode(stages, short.handle(), null, good, null, addon.cancelTokenNew()), {
      code: 'ERR_ASSERTION',
      message: /at least 4 frames/,
    })
    // The same options with valid values run.
    const out = await run({ tileSize: 16, tileOverlap: 8, chunkFrames: 4 })
    for (const t of [out.latent, out.mean, out.logvar]) addon.tensorDispose(t)
    short.dispose()
    input.dispose()
  })

  test('a bundle with other rules accepts other values (t_multiple 8, t_min 8, hw_multiple 16)', async () => {
    const dir = editedBundle(tmp, 'coarse', (m) => (m.rules = { t_multiple: 8, t_min: 8, hw_multiple: 16 }))
    const coarse = await VideoVAE.load(dir)
    try {
      const input = video(8, 32, 32)
      await assert.rejects(coarse.encode(input, { chunkFrames: 4 }), {
        code: 'ERR_ARGUMENT',
        message: /multiple of 8 \(the bundle's rules\.t_multiple\).*got 4/,
      })
      await assert.rejects(coarse.encode(input, { tile: { size: 24 } }), { code: 'ERR_ARGUMENT', message: /multiple of 16 .*got 24/ })
      await assert.rejects(coarse.encode(input, { tile: { size: 32, overlap: 8 } }), { code: 'ERR_ARGUMENT', message: /tile\.overlap .*multiple of 16/ })
      await assert.rejects(coarse.encode(video(4, 32, 32)), { code: 'ERR_SHAPE', message: /at least 8 frames/ })
      await assert.rejects(coarse.encode(video(8, 24, 32)), { code: 'ERR_SHAPE', message: /multiples of 16/ })
      const blocks = [{ frames: new Uint8Array(8 * 32 * 32 * 3), shape: [8, 32, 32, 3] }]
      await assert.rejects(coarse.encodeStream(blocks, { chunkFrames: 4 }).next(), { code: 'ERR_ARGUMENT' })
      // What both bundles accept gives the same numbers: the rules restrict, the model is the same.
      const a = await coarse.encode(input, { chunkFrames: 8, tile: { size: 16, overlap: 0 } })
      const b = await vae.encode(input, { chunkFrames: 8, tile: { size: 16, overlap: 0 } })
      assert.deepEqual(a.shape, [1, 16, 2, 4, 4])
      assert.equal(maxAbsDiff((await a.data()) as Float32Array, (await b.data()) as Float32Array), 0)
      // The default bundle accepts what the coarse one refuses.
      const c = await vae.encode(input, { chunkFrames: 4, tile: { size: 24 } })
      for (const t of [a, b, c, input]) t.dispose()
    } finally {
      coarse.dispose()
    }
  })

  test('latent shapes and memory estimates follow the manifest', async () => {
    const base = await readBundle(defaultBundleDir(), { verify: false })
    const coarse = { ...base, rules: { tMultiple: 8, tMin: 8, hwMultiple: 16 } }
    const size = { frames: 9, height: 40, width: 24 }
    assert.deepEqual(latentShape(base, 1, size, false), [1, 16, 3, 5, 3])
    assert.deepEqual(latentShape(coarse, 2, size, false), [2, 16, 4, 6, 4])
    assert.deepEqual(latentShape(coarse, 1, size, true), [1, 16, 9, 6, 4])
    const layout = { image: false }
    const job = { batch: 1, ...size }
    // frameBuffers: frames (padded to t_multiple) x padded H x W x 3 x 10 bytes per sample.
    assert.equal(memoryEstimate(base, job, layout).frameBuffers, 12 * 40 * 24 * 3 * 10)
    assert.equal(memoryEstimate(coarse, job, layout).frameBuffers, 16 * 48 * 32 * 3 * 10)
  })

  test('rules that do not fit the compression are ERR_BUNDLE', async () => {
    const bad = editedBundle(tmp, 'misfit', (m) => (m.rules = { t_multiple: 6, t_min: 6, hw_multiple: 8 }))
    await assert.rejects(readBundle(bad, { verify: false }), {
      code: 'ERR_BUNDLE',
      message: /rules\.t_multiple \(6\) is not a multiple of compression\.t \(4\)/,
    })
    const grid = editedBundle(tmp, 'grid', (m) => (m.rules.hw_multiple = 12))
    await assert.rejects(VideoVAE.load(grid), { code: 'ERR_BUNDLE', message: /rules\.hw_multiple \(12\)/ })
  })
})
