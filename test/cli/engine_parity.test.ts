// `videovae reconstruct` runs the streaming engine chunk by chunk (one native job each, the
// short tail padded natively, --fit pad cropped natively); its frames equal vae.reconstruct on
// the whole clip with the same options, bit for bit (PNG output: lossless). Embedded default
// model, so no shared fixtures are needed.
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'

import { readVideoFrames } from '../../lib/io/read_clip.js'
import { setNumThreads } from '../../lib/runtime.js'
import { Tensor } from '../../lib/tensor.js'
import { VideoVAE } from '../../lib/vae.js'
import { cli, json, makeVideo, tempDir } from './helpers.js'

describe('videovae reconstruct equals vae.reconstruct', () => {
  const dir = tempDir()
  let vae: VideoVAE
  before(async () => {
    setNumThreads(1)
    vae = await VideoVAE.load()
  })
  after(() => vae.dispose())

  async function apiFrames(
    clip: string,
    fit: 'pad' | undefined,
    options: { chunkFrames: number; tile?: { size: number; overlap: number } },
    crop?: { width: number; height: number },
  ): Promise<Buffer> {
    const { frames, shape } = await readVideoFrames(clip, fit ? { fit } : {})
    const video = Tensor.from(frames, shape, { dtype: 'uint8' })
    const out = await vae.reconstruct(video, { ...options, ...(crop ?? {}), output: 'uint8' })
    try {
      return Buffer.from((await out.data()) as Uint8Array)
    } finally {
      out.dispose()
      video.dispose()
    }
  }

  async function cliFrames(clip: string, args: string[]): Promise<{ frames: Buffer; shape: number[]; result: Record<string, unknown> }> {
    const out = path.join(dir, `${path.basename(clip, '.mp4')}-${args.join('')}_%04d.png`)
    const r = cli(['reconstruct', clip, '-o', out, '--threads', '1', '--json', ...args])
    assert.equal(r.code, 0, r.stderr)
    const back = await readVideoFrames(out)
    return { frames: Buffer.from(back.frames), shape: back.shape, result: json(r) }
  }

  it('10 frames in chunks of 8 (a tail of 2, padded natively) and tiles', async () => {
    const clip = makeVideo(path.join(dir, 'clip10.mp4'), { width: 64, height: 32, frames: 10 })
    const got = await cliFrames(clip, ['--chunk-frames', '8', '--tile', '32', '--tile-overlap', '8'])
    assert.deepEqual(got.shape, [10, 32, 64, 3])
    const expected = await apiFrames(clip, undefined, { chunkFrames: 8, tile: { size: 32, overlap: 8 } })
    assert.equal(got.frames.length, expected.length)
    assert.ok(got.frames.equals(expected), 'CLI frames equal vae.reconstruct bit for bit')
  })

  it('--fit pad: 60x44 frames padded to 64x48 and cropped back natively', async () => {
    const clip = makeVideo(path.join(dir, 'clip7.mp4'), { width: 60, height: 44, frames: 7 })
    const got = await cliFrames(clip, ['--chunk-frames', '4', '--fit', 'pad'])
    assert.deepEqual(got.shape, [7, 44, 60, 3])
    const expected = await apiFrames(clip, 'pad', { chunkFrames: 4 }, { width: 60, height: 44 })
    assert.ok(got.frames.equals(expected), 'CLI frames equal vae.reconstruct bit for bit')
  })
})
