// Issue 27: an onProgress that throws or rejects rejects the call with its error and stops the
// job (an async rejection used to be an unhandled rejection that killed the process, a sync
// throw was swallowed); VideoVAE.load's thread count has the bounds of setNumThreads.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { maxThreads, setNumThreads, Tensor, VideoVAE } from '../../lib/index.js'

describe('VideoVAE onProgress failures and thread bounds (default model)', () => {
  let vae: VideoVAE
  let video: Tensor
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason)
  }

  before(async () => {
    setNumThreads(1)
    vae = await VideoVAE.load()
    video = Tensor.from(
      new Uint8Array(16 * 16 * 16 * 3).map((_, i) => (i * 13) % 256),
      [16, 16, 16, 3],
      { dtype: 'uint8' },
    )
    process.on('unhandledRejection', onUnhandled)
  })
  after(() => {
    process.off('unhandledRejection', onUnhandled)
    video.dispose()
    vae.dispose()
  })

  test('a throwing callback rejects encode with its error, and is not called again', async () => {
    const boom = new Error('progress callback failed')
    const seen: number[] = []
    const call = vae.encode(video, {
      chunkFrames: 4,
      onProgress: (done) => {
        seen.push(done)
        throw boom
      },
    })
    await assert.rejects(call, (error) => error === boom)
    assert.deepEqual(seen, [1], 'one report of 4, then the job stopped')
  })

  test('an async callback that rejects rejects decode with its error, with no unhandled rejection', async () => {
    const latent = await vae.encode(video, { chunkFrames: 4 })
    const boom = new Error('async progress callback failed')
    const seen: number[] = []
    const call = vae.decode(latent, {
      chunkFrames: 4,
      onProgress: async (done) => {
        seen.push(done)
        await new Promise((resolve) => setImmediate(resolve))
        throw boom
      },
    })
    await assert.rejects(call, (error) => error === boom)
    assert.ok(seen.length >= 1 && seen.length < 4, `stopped before the last of 4 units (${seen.length} reports)`)
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.deepEqual(unhandled, [])
    latent.dispose()
  })

  test('a callback that fails on the last unit still rejects the call', async () => {
    const boom = new Error('last report failed')
    const call = vae.encode(video, {
      onProgress: (done, total) => {
        if (done === total) throw boom
      },
    })
    await assert.rejects(call, (error) => error === boom)
    await assert.rejects(vae.encode(video, { onProgress: 5 as unknown as () => void }), { code: 'ERR_ARGUMENT', message: /onProgress must be a function/ })
  })

  test('a callback that succeeds sees every unit and the result comes back', async () => {
    const seen: [number, number][] = []
    const latent = await vae.encode(video, { chunkFrames: 8, onProgress: async (done, total) => void seen.push([done, total]) })
    assert.deepEqual(latent.shape, [1, 16, 4, 2, 2])
    assert.deepEqual(seen, [
      [1, 2],
      [2, 2],
    ])
    latent.dispose()
  })

  test('VideoVAE.load refuses thread counts beyond maxThreads() with ERR_ARGUMENT', async () => {
    await assert.rejects(VideoVAE.load(undefined, { threads: 1e6 }), { code: 'ERR_ARGUMENT', message: new RegExp(`from 1 to ${maxThreads()}`) })
    await assert.rejects(VideoVAE.load(undefined, { threads: 0 }), { code: 'ERR_ARGUMENT' })
  })
})
