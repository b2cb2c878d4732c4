// Seeded posterior sampling against PyTorch, uint8 frame input, spatial tiling and blending
// against a blend computed here from per-tile encodes, progress and abort.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'

import { readSafetensors, setNumThreads, Tensor, VideoVAE } from '../../lib/index.js'
import { caseDir, exactSetup, maxAbsDiff, needsParity, parityBundle, PYTHON } from '../support/parity.js'

const CASE = '16z-ch32-video'

describe('VideoVAE sampling, uint8 input, tiling, progress, abort', { skip: needsParity }, () => {
  let vae: VideoVAE
  let input: Tensor
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-api-'))

  before(async () => {
    setNumThreads(2)
    vae = await VideoVAE.load(parityBundle(CASE))
    input = (await readSafetensors(path.join(caseDir(CASE), 'tensors.safetensors'))).tensors.input!
  })
  after(() => {
    vae.dispose()
    fs.rmSync(tmp, { recursive: true, force: true })
  })

  test('{ sample: { seed } } equals PyTorch seeded once with the same seed', async () => {
    const out = path.join(tmp, 'sample.safetensors')
    execFileSync(PYTHON, [path.join(__dirname, 'fixtures', 'sample_reference.py'), vae.info.dir, path.join(caseDir(CASE), 'tensors.safetensors'), '1234', out])
    const expected = (await readSafetensors(out)).tensors.latent!
    const sampled = await vae.encode(input, { sample: { seed: 1234 } })
    // Exact where this machine reproduces the fixtures. On AMX CPUs CI runs saw 1.3e-4 between
    // Node and PyTorch, and once between two Node runs of the same seed (kernel choice differs
    // run to run there), so there the fixtures' tolerance applies to both.
    const want = (await expected.data()) as Float32Array
    const allowed = exactSetup() ? 0 : 1e-4 * Math.max(1, maxAbsDiff(want, new Float32Array(want.length)))
    const err = maxAbsDiff((await sampled.data()) as Float32Array, want)
    assert.ok(err <= allowed, `sample vs PyTorch: max abs ${err} (allowed ${allowed})`)
    const mode = await vae.encode(input)
    assert.ok(maxAbsDiff((await sampled.data()) as Float32Array, (await mode.data()) as Float32Array) > 1e-3, 'a sample differs from the mode')
    const again = await vae.encode(input, { sample: { seed: 1234 } })
    const repeat = maxAbsDiff((await sampled.data()) as Float32Array, (await again.data()) as Float32Array)
    assert.ok(repeat <= allowed, `same seed, same sample: max abs ${repeat} (allowed ${allowed})`)
  })

  test('uint8 frames [T,H,W,3] encode like the float video (v/255 - 0.5) * 2', async () => {
    const [T, H, W] = [4, 32, 40]
    const frames = new Uint8Array(T * H * W * 3).map((_, i) => (i * 37 + (i >> 7) * 11) % 256)
    const floats = new Float32Array(3 * T * H * W)
    for (let t = 0; t < T; t++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          for (let c = 0; c < 3; c++) {
            const v = frames[((t * H + y) * W + x) * 3 + c]!
            floats[((c * T + t) * H + y) * W + x] = Math.fround(Math.fround(v / 255) - 0.5) * 2
          }
    const a = await vae.encode(Tensor.from(frames, [T, H, W, 3], { dtype: 'uint8' }))
    const b = await vae.encode(Tensor.from(floats, [1, 3, T, H, W]))
    assert.deepEqual(a.shape, [1, 16, 1, 4, 5])
    assert.equal(maxAbsDiff((await a.data()) as Float32Array, (await b.data()) as Float32Array), 0)
    const frames8 = await vae.decode(a, { output: 'uint8' })
    assert.deepEqual(frames8.shape, [1, T, H, W, 3])
    assert.equal(frames8.dtype, 'uint8')
    const video = (await (await vae.decode(a)).data()) as Float32Array
    const got = (await frames8.data()) as Uint8Array
    // Official save: clamp((x + 1) / 2, 0, 1) * 255, truncated; spot-check every pixel.
    for (let i = 0; i < got.length; i++) {
      const c = i % 3,
        x = Math.floor(i / 3) % W,
        y = Math.floor(i / (3 * W)) % H,
        t = Math.floor(i / (3 * W * H))
      const v = video[((c * T + t) * H + y) * W + x]!
      const q = Math.trunc(Math.fround(Math.min(1, Math.max(0, Math.fround(Math.fround(v + 1) / 2))) * 255))
      assert.ok(Math.abs(got[i]! - q) <= 1, `pixel ${i}: ${got[i]} vs ${q}`)
    }
  })

  test('a tile at least as large as the frame changes nothing', async () => {
    const plain = await vae.encode(input)
    const tiled = await vae.encode(input, { tile: { size: 64, overlap: 16 } })
    assert.equal(maxAbsDiff((await plain.data()) as Float32Array, (await tiled.data()) as Float32Array), 0)
  })

  test('tiled encode blends per-tile latents with linear ramps over the overlap', async () => {
    // 64x64 input, tiles of 40 with overlap 16 -> spans [0,40) and [24,64) per axis.
    const tiled = (await (await vae.encode(input, { tile: { size: 40, overlap: 16 } })).data()) as Float32Array
    const x = (await input.data()) as Float32Array
    const [T, S, tile, start] = [8, 64, 40, 24]
    const crop = (y0: number, x0: number): Tensor => {
      const out = new Float32Array(3 * T * tile * tile)
      for (let ct = 0; ct < 3 * T; ct++)
        for (let y = 0; y < tile; y++) out.set(x.subarray((ct * S + y0 + y) * S + x0, (ct * S + y0 + y) * S + x0 + tile), (ct * tile + y) * tile)
      return Tensor.from(out, [1, 3, T, tile, tile])
    }
    const [Z, Tl, L, tl, ramp] = [16, 2, 8, 5, 2] // latent: 8x8, tiles 5x5 at 0 and 3, ramp 16/8
    const sum = new Float64Array(Z * Tl * L * L)
    const weight = new Float64Array(L * L)
    const w1 = (i: number, first: boolean): number => (first ? Math.min(1, (tl - i) / (ramp + 1)) : Math.min(1, (i + 1) / (ramp + 1)))
    for (const ty of [0, start]) {
      for (const tx of [0, start]) {
        const lat = (await (await vae.encode(crop(ty, tx))).data()) as Float32Array
        for (let zt = 0; zt < Z * Tl; zt++)
          for (let i = 0; i < tl; i++)
            for (let j = 0; j < tl; j++) {
              const w = w1(i, ty === 0) * w1(j, tx === 0)
              const gy = ty / 8 + i,
                gx = tx / 8 + j
              sum[(zt * L + gy) * L + gx]! += w * lat[(zt * tl + i) * tl + j]!
              if (zt === 0) weight[gy * L + gx]! += w
            }
      }
    }
    const expected = sum.map((v, i) => v / weight[i % (L * L)]!)
    assert.ok(maxAbsDiff(tiled, expected) < 1e-5, `tiled blend differs by ${maxAbsDiff(tiled, expected)}`)
  })

  test('tiled decode covers the frame and crops back to the requested frames', async () => {
    const latent = await vae.encode(input)
    const video = await vae.decode(latent, { tile: { size: 32, overlap: 16 }, frames: 6 })
    assert.deepEqual(video.shape, [1, 3, 6, 64, 64])
    const data = (await video.data()) as Float32Array
    assert.ok(data.every(Number.isFinite))
    // Decoding is local enough that tiles agree with the untiled decode far from their seams.
    const plain = (await (await vae.decode(latent, { frames: 6 })).data()) as Float32Array
    assert.ok(maxAbsDiff(data, plain) < 10, 'tiled decode stays in the range of the untiled one')
  })

  test('progress reports every chunk and abort stops between chunks', async () => {
    const seen: [number, number][] = []
    await vae.encode(input, { chunkFrames: 4, onProgress: (done, total) => seen.push([done, total]) })
    await new Promise((r) => setImmediate(r))
    assert.deepEqual(seen, [
      [1, 2],
      [2, 2],
    ])

    // 2 chunks x 9 tiles: the abort from the first report lands long before the last unit.
    const controller = new AbortController()
    let reports = 0
    const aborted = vae.encode(input, {
      chunkFrames: 4,
      tile: { size: 32, overlap: 16 },
      signal: controller.signal,
      onProgress: () => {
        reports++
        controller.abort()
      },
    })
    await assert.rejects(aborted, { code: 'ERR_ABORTED' })
    assert.ok(reports < 18, `stopped early (${reports} of 18 units)`)
    const pre = new AbortController()
    pre.abort()
    await assert.rejects(vae.encode(input, { signal: pre.signal }), { code: 'ERR_ABORTED' })
  })
})
