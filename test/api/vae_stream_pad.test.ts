// Streaming encode/decode equals chunked encode/decode of the whole clip; pad: true accepts
// frame sizes that are not multiples of 8 and reconstruct crops back.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { setNumThreads, Tensor, VideoVAE, type LatentChunk } from '../../lib/index.js'
import { maxAbsDiff, needsParity, parityBundle } from '../support/parity.js'

function frames(T: number, H: number, W: number): Uint8Array {
  return new Uint8Array(T * H * W * 3).map((_, i) => (i * 31 + ((i / 97) | 0) * 7) % 256)
}

describe('VideoVAE streaming and padding', { skip: needsParity }, () => {
  let vae: VideoVAE
  before(async () => {
    setNumThreads(2)
    vae = await VideoVAE.load(parityBundle('16z-ch32-chunked'))
  })
  after(() => vae.dispose())

  test('encodeStream over uneven blocks equals encode with chunkFrames, decodeStream equals decode', async () => {
    const [T, H, W] = [10, 32, 48]
    const all = frames(T, H, W)
    const fb = H * W * 3
    // Blocks of 3, 3, 4 frames: the stream re-chunks them into 8 + 2 (padded to 4).
    const blocks = [
      [0, 3],
      [3, 6],
      [6, 10],
    ].map(([a, b]) => ({ frames: all.slice(a! * fb, b! * fb), shape: [b! - a!, H, W, 3] }))
    const chunks: LatentChunk[] = []
    for await (const c of vae.encodeStream(blocks, { chunkFrames: 8 })) chunks.push(c)
    assert.deepEqual(
      chunks.map((c) => [c.startFrame, c.frames, c.latent.shape[2]]),
      [
        [0, 8, 2],
        [8, 2, 1],
      ],
    )

    const whole = await vae.encode(Tensor.from(all, [T, H, W, 3], { dtype: 'uint8' }), { chunkFrames: 8 })
    const streamed = new Float32Array(whole.numel)
    // Concatenate along T of [1,16,Tl,4,6] latents.
    const plane = 4 * 6
    let t0 = 0
    for (const c of chunks) {
      const d = (await c.latent.data()) as Float32Array
      const tl = c.latent.shape[2]!
      for (let z = 0; z < 16; z++) streamed.set(d.subarray(z * tl * plane, (z + 1) * tl * plane), (z * 3 + t0) * plane)
      t0 += tl
    }
    assert.equal(maxAbsDiff(streamed, (await whole.data()) as Float32Array), 0)

    const decoded: Uint8Array[] = []
    for await (const f of vae.decodeStream(chunks)) decoded.push(f.frames)
    const expected = (await (await vae.decode(whole, { chunkFrames: 8, frames: T, output: 'uint8' })).data()) as Uint8Array
    const joined = Buffer.concat(decoded)
    assert.equal(joined.length, T * fb)
    assert.ok(joined.equals(Buffer.from(expected)), 'streamed frames equal the chunked decode')
  })

  test('pad: true encodes 30x44 frames as 32x48 and reconstruct crops back', async () => {
    const video = Tensor.from(frames(4, 30, 44), [4, 30, 44, 3], { dtype: 'uint8' })
    await assert.rejects(vae.encode(video), { code: 'ERR_SHAPE', message: /pad: true/ })
    const post = await vae.encode(video, { pad: true, posterior: true })
    assert.deepEqual(post.latent.shape, [1, 16, 1, 4, 6])
    assert.deepEqual([post.frames, post.height, post.width], [4, 30, 44])
    const rec = await vae.reconstruct(video, { pad: true })
    assert.deepEqual(rec.shape, [1, 3, 4, 30, 44])
    // Same as decoding the padded latent and cropping by hand.
    const full = (await (await vae.decode(post.latent)).data()) as Float32Array
    const got = (await rec.data()) as Float32Array
    let max = 0
    for (let ct = 0; ct < 12; ct++)
      for (let y = 0; y < 30; y++) for (let x = 0; x < 44; x++) max = Math.max(max, Math.abs(got[(ct * 30 + y) * 44 + x]! - full[(ct * 32 + y) * 48 + x]!))
    assert.equal(max, 0)
  })
})
