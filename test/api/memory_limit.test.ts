// The preflight memory limit (issue 27): a job whose estimated peak memory (the model of
// `videovae info --size`) exceeds `memoryLimit` fails with ERR_LIMIT before the native job
// starts, so a large tensor cannot grow the process by gigabytes.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { DEFAULT_MEMORY_LIMIT, defaultMemoryLimit, memory, memoryEstimate, Tensor, VideoVAE } from '../../lib/index.js'

const frames = (t: number, h: number, w: number): Tensor => Tensor.from(new Uint8Array(t * h * w * 3).fill(128), [t, h, w, 3], { dtype: 'uint8' })

describe('memory limit', () => {
  let vae: VideoVAE
  before(async () => {
    vae = await VideoVAE.load()
  })
  after(() => vae.dispose())

  test('the default limit refuses a large uint8 tensor before any native work, and suggests tiles', async () => {
    // 50 MB of frames whose untiled encode is estimated at tens of GB.
    const video = frames(4, 2048, 2048)
    try {
      const before = memory().tensors
      const rss = process.memoryUsage().rss
      const estimate = memoryEstimate(vae.info, { batch: 1, frames: 4, height: 2048, width: 2048 }, { image: false }).total!
      assert.ok(estimate > defaultMemoryLimit(), `estimate ${estimate}`)
      assert.ok(defaultMemoryLimit() >= DEFAULT_MEMORY_LIMIT)
      await assert.rejects(vae.encode(video), {
        code: 'ERR_LIMIT',
        message: /4x2048x2048.*above the memory limit of [\d.]+ GB; run it in tiles \(tile: \{ size: \d+ \}\).*memoryLimit/,
      })
      await assert.rejects(vae.reconstruct(video), { code: 'ERR_LIMIT' })
      // No tensor was made and the process did not grow by the job's gigabytes.
      assert.equal(memory().tensors, before)
      assert.ok(process.memoryUsage().rss - rss < 512 * 1024 * 1024)
    } finally {
      video.dispose()
    }
  })

  test('decode: a small latent that decodes to huge frames is refused', async () => {
    const z = vae.info.latentChannels
    const latent = Tensor.from(new Float32Array(z * 256 * 256), [1, z, 1, 256, 256])
    try {
      await assert.rejects(vae.decode(latent, { output: 'uint8' }), { code: 'ERR_LIMIT', message: /the decoded latent \(4x2048x2048\)/ })
    } finally {
      latent.dispose()
    }
  })

  test('memoryLimit lowers, raises and disables the limit; tiles bring a job under it', async () => {
    const video = frames(4, 64, 64)
    try {
      const layout = { image: false }
      const need = memoryEstimate(vae.info, { batch: 1, frames: 4, height: 64, width: 64 }, layout).total!
      await assert.rejects(vae.encode(video, { memoryLimit: Math.floor(need) - 1 }), { code: 'ERR_LIMIT' })
      const latent = await vae.encode(video, { memoryLimit: Math.ceil(need) })
      assert.deepEqual(latent.shape, [1, vae.info.latentChannels, 1, 8, 8])
      latent.dispose()
      for (const off of [false, 0] as const) (await vae.encode(video, { memoryLimit: off })).dispose()
      // A batch counts once per item.
      const batch = Tensor.from(new Uint8Array(2 * 4 * 64 * 64 * 3), [2, 4, 64, 64, 3], { dtype: 'uint8' })
      try {
        await assert.rejects(vae.encode(batch, { memoryLimit: Math.ceil(need) }), { code: 'ERR_LIMIT', message: /2 x 4x64x64/ })
      } finally {
        batch.dispose()
      }
      await assert.rejects(vae.encode(video, { memoryLimit: -1 }), { code: 'ERR_ARGUMENT', message: /memoryLimit/ })
    } finally {
      video.dispose()
    }
  })
})
