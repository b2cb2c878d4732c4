// The embedded default model: loads with no arguments (float16 storage widened to float32)
// and reconstructs the shipped sample clip above a quality floor. The floor tracks the
// model's measured quality (17.5 dB at step 1014) with a margin; raise it as training goes on.
import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'

import { psnr, readVideoFrames, Tensor, VideoVAE } from '../../lib/index.js'
import { ROOT } from '../support/parity.js'

const PSNR_FLOOR_DB = 16

test('the default model reconstructs the sample clip above the quality floor', async () => {
  const vae = await VideoVAE.load()
  assert.equal(vae.info.variant, '16z')
  assert.equal(vae.info.latentChannels, 16)
  assert.equal(vae.info.dtype, 'float16')
  const { frames, shape } = await readVideoFrames(path.join(ROOT, 'assets', 'sample', 'dandelions_256.mp4'), { count: 8 })
  const video = Tensor.from(frames, shape, { dtype: 'uint8' })
  const latent = await vae.encode(video)
  assert.deepEqual(latent.shape, [1, 16, 2, 32, 32])
  const rgb = await vae.decode(latent, { output: 'uint8' })
  const db = psnr(frames, (await rgb.data()) as Uint8Array)
  assert.ok(db > PSNR_FLOOR_DB, `default model PSNR ${db.toFixed(2)} dB is below ${PSNR_FLOOR_DB} dB`)
  vae.dispose()
})
