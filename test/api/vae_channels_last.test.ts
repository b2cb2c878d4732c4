// Issue 28: fast bundles loaded on CUDA get their conv weights in channels-last-3d (the layout
// their activations use), exact bundles and every CPU load keep them as stored. Without a GPU
// the conversion runs through the test hook `debugModuleChannelsLast3d` on CPU modules: the
// strides it reports, and encode/decode results before and after it (within 1e-4).
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'

import { native } from '../../lib/native.js'
import { setNumThreads, Tensor, VideoVAE, type TorchModule } from '../../lib/index.js'
import { maxAbsDiff, needsParity, parityBundle } from '../support/parity.js'

const CASE = '16z-ch32-video'

/** Whether `strides` lay out `sizes` densely in this dimension order (size-1 dims take any stride, as in PyTorch). */
function dense(sizes: number[], strides: number[], order: number[]): boolean {
  let expected = 1
  for (const d of [...order].reverse()) {
    if (sizes[d] !== 1 && strides[d] !== expected) return false
    expected *= sizes[d]!
  }
  return true
}
const contiguous = (s: number[], st: number[]): boolean => dense(s, st, [0, 1, 2, 3, 4])
const channelsLast = (s: number[], st: number[]): boolean => dense(s, st, [0, 2, 3, 4, 1])

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
        for (const w of r.weights) assert.ok(contiguous(w.sizes, w.strides), `${mode} ${w.name}: ${w.strides}`)
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
      for (const w of r.weights) assert.ok(channelsLast(w.sizes, w.strides), `${w.name}: ${w.strides}`)
      // Every kernel with more than one tap changed layout; 1x1x1 kernels already were both.
      const taps = r.weights.filter((w) => w.sizes.slice(2).some((k) => k > 1))
      for (const w of taps) assert.ok(!contiguous(w.sizes, w.strides), w.name)
      assert.equal(report(stage, true).converted, 0, 'a second conversion has nothing left to do')
    }
    assert.ok(converted > 100, `${converted} weights converted`)
    const latent2 = await vae.encode(x)
    const recon2 = await vae.decode(latent2)
    // Another weight layout picks other oneDNN kernels on the CPU (other summation orders: 3e-5
    // seen), which is why CPU loads never convert; same values within the fast mode's tolerance.
    const errors = [maxAbsDiff((await latent2.data()) as Float32Array, refLatent), maxAbsDiff((await recon2.data()) as Float32Array, refRecon)]
    for (const err of errors) assert.ok(err <= 1e-4, `max abs ${err}`)
    for (const t of [x, latent, recon, latent2, recon2]) t.dispose()
    vae.dispose()
  })
})
