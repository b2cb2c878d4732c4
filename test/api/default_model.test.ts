// The embedded default model: loads with no arguments (int8 weights and float16 storage rebuilt
// as float32) and reconstructs the shipped sample clip above a quality floor. The floor tracks
// the model's measured quality (28.6 dB on these 8 frames at step 44,285, more since) with a margin; raise it
// as training goes on.
import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'

import { psnr, readVideoFrames, Tensor, VideoVAE } from '../../lib/index.js'
import { ROOT } from '../support/parity.js'

const PSNR_FLOOR_DB = 27.5

test('the default model reconstructs the sample clip above the quality floor', async () => {
  const vae = await VideoVAE.load()
  assert.equal(vae.info.variant, '16z')
  assert.equal(vae.info.latentChannels, 16)
  assert.equal(vae.info.dtype, 'float16')
  assert.equal(vae.info.quantization?.scheme, 'int8-absmax-dim0')
  assert.equal(vae.info.widths.hiddenChannel, 48)
  const { frames, shape } = await readVideoFrames(path.join(ROOT, 'assets', 'sample', 'dandelions_256.mp4'), { count: 8 })
  const video = Tensor.from(frames, shape, { dtype: 'uint8' })
  const latent = await vae.encode(video)
  assert.deepEqual(latent.shape, [1, 16, 2, 32, 32])
  const rgb = await vae.decode(latent, { output: 'uint8' })
  const db = psnr(frames, (await rgb.data()) as Uint8Array)
  assert.ok(db > PSNR_FLOOR_DB, `default model PSNR ${db.toFixed(2)} dB is below ${PSNR_FLOOR_DB} dB`)
  vae.dispose()
})

// With one channel per GroupNorm group (the official GroupNorm(32) at width 32) the model could
// not reproduce a flat colour: orange came out grey. The shipped model uses 4 channels per group.
test('the default model keeps saturated colour (a flat orange clip comes back orange)', async () => {
  const vae = await VideoVAE.load()
  assert.equal(vae.info.widths.normGroupChannels, 4)
  const [T, H, W] = [4, 64, 64]
  const orange = [255, 128, 0]
  const frames = new Uint8Array(T * H * W * 3).map((_, i) => orange[i % 3]!)
  const video = Tensor.from(frames, [T, H, W, 3], { dtype: 'uint8' })
  const rgb = await vae.reconstruct(video, { output: 'uint8' })
  const out = (await rgb.data()) as Uint8Array
  const mean = [0, 1, 2].map((c) => out.filter((_, i) => i % 3 === c).reduce((a, b) => a + b, 0) / (out.length / 3))
  for (const c of [0, 1, 2]) {
    assert.ok(Math.abs(mean[c]! - orange[c]!) < 48, `channel ${c}: mean ${mean[c]!.toFixed(1)}, expected about ${orange[c]}`)
  }
  vae.dispose()
})
