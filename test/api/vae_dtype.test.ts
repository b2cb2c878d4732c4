// Reduced-precision compute: bfloat16 weights and activations, float32 results, close to the
// float32 reference on the fixture case (tolerance measured here with random weights).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'

import { readSafetensors, setNumThreads, VideoVAE } from '../../lib/index.js'
import { caseDir, maxAbsDiff, needsParity, parityBundle, PYTHON } from '../support/parity.js'

describe('VideoVAE dtypes', { skip: needsParity }, () => {
  test('bfloat16 on CPU stays within 5% of the float32 latent and returns float32', async () => {
    setNumThreads(2)
    const { tensors } = await readSafetensors(path.join(caseDir('16z-ch32-video'), 'tensors.safetensors'))
    const vae = await VideoVAE.load(parityBundle('16z-ch32-video'), { dtype: 'bfloat16' })
    const latent = await vae.encode(tensors.input!)
    assert.equal(latent.dtype, 'float32')
    const got = (await latent.data()) as Float32Array
    const ref = (await tensors.latent!.data()) as Float32Array
    const refMax = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
    const err = maxAbsDiff(got, ref)
    assert.ok(err > 0, 'bfloat16 really ran (results differ from float32)')
    assert.ok(err < 0.05 * refMax, `bfloat16 error ${err} vs max ${refMax}`)
    vae.dispose()
    await assert.rejects(VideoVAE.load(parityBundle('16z-ch32-video'), { dtype: 'int8' as never }), { code: 'ERR_DTYPE' })
  })

  test('a bundle that stores float16 weights computes in float32 by default, like PyTorch', async () => {
    setNumThreads(2)
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-half-'))
    try {
      const input = path.join(caseDir('16z-ch32-video'), 'tensors.safetensors')
      const half = path.join(tmp, 'half')
      const out = path.join(tmp, 'ref.safetensors')
      execFileSync(PYTHON, [path.join(__dirname, 'fixtures', 'half_bundle.py'), parityBundle('16z-ch32-video'), half, input, out])
      const vae = await VideoVAE.load(half)
      assert.equal(vae.info.dtype, 'float16')
      const { tensors } = await readSafetensors(input)
      const latent = (await (await vae.encode(tensors.input!)).data()) as Float32Array
      const expected = (await (await readSafetensors(out)).tensors.latent!.data()) as Float32Array
      assert.equal(maxAbsDiff(latent, expected), 0)
      vae.dispose()
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true })
    }
  })
})
