// The CLI moves each tensor across the JS/native boundary at most once: frames go up once per
// chunk, a latent comes down once (encode, batch) or goes up once from its file (decode), and
// reconstruct never moves a latent at all. Read from the `transfers` of --json (memory().transfers
// around the command). Embedded default model: 16 latent channels, 4x8x8.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { cli, json, makeVideo, tempDir } from './helpers.js'

interface Transfers {
  toNative: { count: number; bytes: number }
  toHost: { count: number; bytes: number }
}

describe('host/native transfers of the CLI', () => {
  const dir = tempDir()
  // 18 frames in chunks of 8: 8 + 8 + 2 (a tail padded to 4 natively), latents of 2 + 2 + 1 frames.
  const clip = makeVideo(path.join(dir, 'clip.mp4'), { width: 64, height: 48, frames: 18 })
  const frameBytes = 18 * 48 * 64 * 3
  const latentBytes = 16 * 5 * 6 * 8 * 4
  const common = ['--threads', '1', '--json', '--chunk-frames', '8']
  const latentFile = path.join(dir, 'clip.safetensors')

  it('encode --posterior: frames up once per chunk; latent, mean and logvar down once each', () => {
    const r = cli(['encode', clip, '-o', latentFile, '--posterior', ...common])
    assert.equal(r.code, 0, r.stderr)
    const out = json<{ outputs: { shape: number[]; transfers: Transfers }[] }>(r).outputs[0]!
    assert.deepEqual(out.shape, [1, 16, 5, 6, 8])
    assert.deepEqual(out.transfers, { toNative: { count: 3, bytes: frameBytes }, toHost: { count: 3, bytes: 3 * latentBytes } })
  })

  it('decode: every tensor of the file up once, frames down once per chunk', () => {
    const r = cli(['decode', latentFile, '-o', path.join(dir, 'dec_%04d.png'), '--threads', '1', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = json<{ frames: number; transfers: Transfers }>(r)
    assert.equal(out.frames, 18)
    assert.deepEqual(out.transfers, { toNative: { count: 3, bytes: 3 * latentBytes }, toHost: { count: 3, bytes: frameBytes } })
  })

  it('reconstruct: frames up and down once per chunk, no latent crosses', () => {
    const r = cli(['reconstruct', clip, '-o', path.join(dir, 'rec.mp4'), ...common])
    assert.equal(r.code, 0, r.stderr)
    const out = json<{ frames: number; transfers: Transfers }>(r)
    assert.equal(out.frames, 18)
    assert.deepEqual(out.transfers, { toNative: { count: 3, bytes: frameBytes }, toHost: { count: 3, bytes: frameBytes } })
  })

  it('batch: the clip up once, mean and logvar down once each', () => {
    const clips = path.join(dir, 'clips')
    fs.mkdirSync(clips)
    fs.copyFileSync(clip, path.join(clips, 'a.mp4'))
    const r = cli(['batch', clips, '-o', path.join(dir, 'latents'), '--threads', '1', '--json', '--chunk-frames', '8'])
    assert.equal(r.code, 0, r.stderr)
    const out = json<{ encoded: number; transfers: Transfers }>(r)
    assert.equal(out.encoded, 1)
    assert.deepEqual(out.transfers, { toNative: { count: 1, bytes: frameBytes }, toHost: { count: 2, bytes: 2 * latentBytes } })
  })
})
