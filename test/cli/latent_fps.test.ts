// An absurd frame rate (a latent file's metadata fps of 0.0001, a typo in --fps) made ffmpeg's
// mp4 muxer drop frames: decode wrote 14 of 16 frames and reported 16. It is refused up front
// now, with a message naming the rate and the way out (--fps), and no output is left.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { before, describe, it } from 'node:test'

import { readSafetensors, writeSafetensors, writeVideo } from '../../lib/index.js'
import { cli, listing, makeVideo, probe, tempDir } from './helpers.js'

describe('frame rates out of range', () => {
  const dir = tempDir()
  const out = path.join(dir, 'out')
  const latent = path.join(dir, 'clip.safetensors')
  const absurd = path.join(dir, 'absurd.safetensors')
  const env = { OMP_NUM_THREADS: '1' }

  before(async () => {
    fs.mkdirSync(out)
    const clip = makeVideo(path.join(dir, 'clip.mp4'), { width: 32, height: 32, frames: 16 })
    const r = cli(['encode', clip, '-o', latent, '--threads', '1'], { env })
    assert.equal(r.code, 0, r.stderr)
    const { tensors, metadata } = await readSafetensors(latent)
    await writeSafetensors(absurd, tensors, { ...metadata, fps: '0.0001' })
    for (const t of Object.values(tensors)) t.dispose()
  })

  it('decode refuses a latent file whose metadata fps is absurd, naming it and --fps', () => {
    const r = cli(['decode', absurd, '-o', path.join(out, 'a.mp4'), '--threads', '1'], { env })
    assert.equal(r.code, 1, r.stderr)
    assert.match(
      r.stderr,
      /absurd\.safetensors: the frame rate in its metadata cannot be used: 0\.0001 fps is outside the frame rates videovae writes \(0\.01 to 1000000\); pass --fps RATE .*\(ERR_LATENT\)/,
    )
    assert.deepEqual(listing(out), [])
  })

  it('decode with --fps writes every frame it reports', () => {
    const r = cli(['decode', absurd, '-o', path.join(out, 'b.mp4'), '--fps', '8', '--threads', '1'], { env })
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, / 16 frame\(s\) 32x32 at 8 fps/)
    assert.deepEqual(probe(path.join(out, 'b.mp4')), { frames: 16, width: 32, height: 32, fps: '8/1' })
  })

  it('--fps outside 0.01..1000000 is a usage error', () => {
    for (const rate of ['0.0001', '1/1000', '2000000']) {
      const r = cli(['decode', latent, '-o', path.join(out, 'c.mp4'), '--fps', rate])
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, /the frame rate must be between 0\.01 and 1000000 fps/)
    }
  })

  it('writeVideo refuses such a rate before writing anything', async () => {
    const frames = new Uint8Array(16 * 16 * 16 * 3)
    await assert.rejects(writeVideo(path.join(out, 'd.mp4'), { frames, shape: [16, 16, 16, 3] }, { fps: '1/10000' }), {
      code: 'ERR_ARGUMENT',
      message: /d\.mp4: 1\/10000 fps is outside the frame rates videovae writes \(0\.01 to 1000000\)/,
    })
    assert.deepEqual(listing(out), ['b.mp4'])
  })
})
