// VideoVAE on CUDA (skipped without a GPU): float32 matches the CPU-computed golden fixtures,
// bfloat16/float16 stay within the CPU bfloat16 bound, and GPU memory goes back after dispose.
import assert from 'node:assert/strict'
import path from 'node:path'
import { describe, test } from 'node:test'

import { cuda, memory, readSafetensors, VideoVAE } from '../../lib/index.js'
import { runParity } from '../../lib/cli/parity.js'
import { caseDir, maxAbsDiff, needsParity, PARITY_CH32_CASES, parityBundle } from '../support/parity.js'

const skip = needsParity || (cuda.isAvailable() ? false : 'no CUDA device (or CPU-only libtorch)')

describe('VideoVAE on CUDA', { skip }, () => {
  for (const name of PARITY_CH32_CASES) {
    test(`${name}: float32 on cuda:0 within 1e-4 of the fixtures`, async () => {
      const report = await runParity(parityBundle(name), caseDir(name), { device: 'cuda:0', tolerance: 1e-4 })
      assert.ok(report.pass, `max abs ${report.max_abs}`)
    })
  }

  test('the fast bundle on cuda:0 also matches, and reduced precision stays close', async () => {
    const { tensors } = await readSafetensors(path.join(caseDir('16z-ch32-video'), 'tensors.safetensors'))
    const ref = (await tensors.latent!.data()) as Float32Array
    const refMax = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
    const input = await tensors.input!.to({ device: 'cuda:0' })
    for (const dtype of ['float32', 'bfloat16', 'float16'] as const) {
      const vae = await VideoVAE.load(parityBundle('16z-ch32-video', 'fast'), { device: 'cuda:0', dtype })
      const latent = await vae.encode(input)
      assert.equal(latent.device, 'cuda:0')
      assert.equal(latent.dtype, 'float32')
      const err = maxAbsDiff((await latent.data()) as Float32Array, ref)
      if (dtype === 'float32') assert.ok(err <= 1e-4, `float32 fast on CUDA: ${err}`)
      else assert.ok(err > 0 && err < 0.05 * refMax, `${dtype} on CUDA: ${err} vs max ${refMax}`)
      latent.dispose()
      vae.dispose()
    }
    input.dispose()
    const before = memory().cuda![0]!.allocatedBytes
    cuda.emptyCache() // also frees the cuBLAS workspaces (one per worker thread that ran a matmul)
    const after = memory().cuda![0]!
    assert.equal(after.allocatedBytes, 0, `every CUDA tensor was freed (${before} bytes before emptyCache)`)
  })
})
