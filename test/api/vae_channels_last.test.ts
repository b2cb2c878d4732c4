// Issue 28: fast bundles loaded on CUDA get their conv weights in channels-last-3d (the layout
// their activations use), exact bundles and every CPU load keep them as stored. Without a GPU
// the conversion runs through the test hook `debugModuleChannelsLast3d` on CPU modules: the
// strides it reports, and encode/decode results before and after it.
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'

import { native } from '../../lib/native.js'
import { setNumThreads, Tensor, VideoVAE, type TorchModule } from '../../lib/index.js'
import { maxAbsDiff, needsParity, parityBundle } from '../support/parity.js'

const CASE = '16z-ch32-video'

/** Strides of a contiguous (NCDHW) and of a channels-last-3d (NDHWC) tensor of these sizes. */
function contiguousStrides([, c, d, h, w]: number[]): number[] {
  return [c! * d! * h! * w!, d! * h! * w!, h! * w!, w!, 1]
}
function channelsLastStrides([, c, d, h, w]: number[]): number[] {
  return [c! * d! * h! * w!, 1, h! * w! * c!, w! * c!, c!]
}

function report(m: TorchModule, convert: boolean): ReturnType<ReturnType<typeof native>['debugModuleChannelsLast3d']> {
  return native().debugModuleChannelsLast3d(m.handle(), convert)
}

/** A seeded [-1, 1) video [1, 3, 8, 32, 32]. */
function video(): Tensor {
  let s = 7
  const data = new Float32Array(3 * 8 * 32 * 32).map(() => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 31 - 1))
  return Tensor.from(data, [1, 3, 8, 32, 32])
}

describe('conv weights in channels-last-3d for fast bundles', { skip: needsParity }, () => {
  before(() => setNumThreads(2))

  test('a CPU load keeps every weight as stored; the fast export declares channels-last, the exact one does not', async () => {
    for (const mode of ['fast', 'exact'] as const) {
      const vae = await VideoVAE.load(parityBundle(CASE, mode))
      for (const stage of vae.stages) {
        const r = report(stage, false)
        assert.equal(r.declared, mode === 'fast', `${mode}: declared`)
        assert.equal(r.converted, 0)
        assert.ok(r.weights.length > 0)
        for (const w of r.weights) assert.deepEqual(w.strides, contiguousStrides(w.sizes), `${mode} ${w.name}`)
      }
      vae.dispose()
    }
  })

  test('converted weights have channels-last-3d strides and give the same latents and reconstructions', async () => {
    const vae = await VideoVAE.load(parityBundle(CASE, 'fast'))
    const x = video()
    const latent = await vae.encode(x)
    const recon = await vae.decode(latent)
    const [refLatent, refRecon] = [(await latent.data()) as Float32Array, (await recon.data()) as Float32Array]
    let converted = 0
    for (const stage of vae.stages) {
      const r = report(stage, true)
      converted += r.converted
      for (const w of r.weights) assert.deepEqual(w.strides, channelsLastStrides(w.sizes), w.name)
      assert.equal(report(stage, true).converted, 0, 'a second conversion has nothing left to do')
    }
    // Every 3x3 / 3x3x3 / (3,1,1) kernel changes layout; 1x1x1 kernels already are both layouts.
    assert.ok(converted > 100, `${converted} weights converted`)
    const latent2 = await vae.encode(x)
    const recon2 = await vae.decode(latent2)
    // oneDNN reorders weights into its own blocked layout whatever their strides: same kernels.
    assert.equal(maxAbsDiff((await latent2.data()) as Float32Array, refLatent), 0)
    assert.equal(maxAbsDiff((await recon2.data()) as Float32Array, refRecon), 0)
    for (const t of [x, latent, recon, latent2, recon2]) t.dispose()
    vae.dispose()
  })
})
