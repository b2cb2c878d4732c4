// The memory limit in batch encoding (issue 27): same-size clips are batched only as far as the
// limit allows; a clip too large on its own fails with ERR_LIMIT and its batch-mates go on.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { BatchEncoder } from '../../lib/batch/batch_encoder.js'
import { clipMemoryCheck, type ClipFrames } from '../../lib/batch/clip_reader.js'
import type { ReadPlan } from '../../lib/io/video_reader.js'
import { memoryEstimate } from '../../lib/memory_limit.js'
import { VideoVAE } from '../../lib/vae.js'

function clip(t: number, size: number): ClipFrames {
  return { frames: new Uint8Array(t * size * size * 3).fill(100), shape: [t, size, size, 3], fps: '8', width: size, height: size }
}

describe('batch encoding under a memory limit', () => {
  let vae: VideoVAE
  before(async () => {
    vae = await VideoVAE.load(undefined, { threads: 1 })
  })
  after(() => vae.dispose())

  const run = async (memoryLimit: number | false, clips: ClipFrames[]): Promise<{ calls: number; results: PromiseSettledResult<unknown>[] }> => {
    const encoder = new BatchEncoder(vae, { store: 'posterior', chunkFrames: 8, batchSize: 2, memoryLimit })
    // The first clip goes alone (the model is free); the next two wait and would share one call.
    const results = await Promise.allSettled(clips.map((c, i) => encoder.encode({ id: `c${i}`, path: `c${i}.mp4` }, c)))
    return { calls: encoder.stats.calls, results }
  }

  it('two clips share a call only when both fit under the limit', async () => {
    const size = { frames: 8, height: 32, width: 32 }
    const layout = { image: false, chunkFrames: 8 }
    const one = memoryEstimate(vae.info, { batch: 1, ...size }, layout).total!
    const two = memoryEstimate(vae.info, { batch: 2, ...size }, layout).total!
    const clips = [clip(8, 32), clip(8, 32), clip(8, 32)]
    assert.equal((await run(false, clips)).calls, 2)
    const limited = await run(Math.floor((one + two) / 2), clips)
    assert.equal(limited.calls, 3)
    assert.ok(limited.results.every((r) => r.status === 'fulfilled'))
  })

  it('a long clip is refused from its probe when the whole clip would not fit, though one chunk would', () => {
    // What the probe of a 512x512 clip says: 64 frames, or 2,000 (a few KB of H.264 when static).
    const plan = (frameCount: number): ReadPlan => ({
      info: { width: 512, height: 512, fps: 8, fpsFraction: '8/1', frameCount, durationSeconds: frameCount / 8, codec: 'h264', pixFmt: 'yuv420p', rotation: 0 },
      width: 512,
      height: 512,
      fps: 8,
      filters: [],
      decodedWidth: 512,
      decodedHeight: 512,
    })
    const encode = { chunkFrames: 16, tile: { size: 128 }, memoryLimit: 2 * 2 ** 30 }
    clipMemoryCheck(vae, encode, { fit: 'pad' }, 'short.mp4')(plan(64))
    assert.throws(() => clipMemoryCheck(vae, encode, { fit: 'pad' }, 'long.mp4')(plan(2000)), { code: 'ERR_LIMIT', message: /long\.mp4 \(2000x512x512/ })
    // --frames bounds what is read.
    clipMemoryCheck(vae, encode, { fit: 'pad', count: 64 }, 'long.mp4')(plan(2000))
  })

  it('a clip over the limit fails with ERR_LIMIT; the others are encoded', async () => {
    const small = memoryEstimate(vae.info, { batch: 1, frames: 8, height: 32, width: 32 }, { image: false, chunkFrames: 8 }).total!
    const { results } = await run(Math.ceil(small), [clip(8, 32), clip(8, 64), clip(8, 32)])
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    )
    assert.equal(((results[1] as PromiseRejectedResult).reason as { code: string }).code, 'ERR_LIMIT')
  })
})
