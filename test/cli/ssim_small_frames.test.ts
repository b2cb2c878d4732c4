// Frames smaller than SSIM's 7x7 window (reachable with --fit pad): reconstruct and eval report
// PSNR alone and say why SSIM is missing, instead of running the model and then failing.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { compareFrames } from '../../lib/metrics/index.js'
import { cli, json, makeVideo, tempDir } from './helpers.js'

describe('SSIM on frames smaller than its window', () => {
  const dir = tempDir()
  const small = makeVideo(path.join(dir, 'small.mp4'), { width: 6, height: 4, frames: 8 })

  it('compareFrames gives PSNR and a NaN SSIM below 7 pixels, SSIM from 7 up', () => {
    const a = new Uint8Array(6 * 4 * 3).map((_, i) => (i * 7) % 256)
    const b = a.map((v) => v ^ 1)
    const s = compareFrames(a, b, 6, 4)
    assert.ok(Number.isNaN(s.ssim))
    assert.ok(Math.abs(s.psnr - 48.1308036) < 1e-6, String(s.psnr)) // MSE 1: 10 log10(255^2)
    const c = new Uint8Array(7 * 7 * 3).map((_, i) => (i * 7) % 256)
    assert.equal(compareFrames(c, c, 7, 7).ssim, 1)
  })

  it('reconstruct of 6x4 frames: PSNR, and SSIM left out with the reason', () => {
    const out = path.join(dir, 'small_r.mp4')
    const r = cli(['reconstruct', small, '-o', out, '--fit', 'pad', '--threads', '1', '--json'], { env: { OMP_NUM_THREADS: '1' } })
    assert.equal(r.code, 0, r.stderr)
    const result = json<{ psnr: number; ssim?: number; ssimOmitted?: string; perFrame: { psnr: number[]; ssim?: number[] } }>(r)
    assert.ok(result.psnr > 0 && result.perFrame.psnr.length === 8)
    assert.equal(result.ssim, undefined)
    assert.equal(result.perFrame.ssim, undefined)
    assert.equal(result.ssimOmitted, "6x4 frames are smaller than SSIM's 7x7 window")
    assert.ok(fs.existsSync(out))
  })

  it('eval: a small pair has PSNR only; the mean SSIM is over the frames that have one', () => {
    const refs = path.join(dir, 'refs')
    fs.mkdirSync(refs)
    fs.copyFileSync(small, path.join(refs, 'a.mp4'))
    makeVideo(path.join(refs, 'b.mp4'), { width: 16, height: 16, frames: 8 })
    let r = cli(['eval', small, small])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^PSNR 100\.0000 dB {2}SSIM n\/a \(6x4 frames are smaller than SSIM's 7x7 window\) {2}\(8 frames\)$/m)
    r = cli(['eval', refs, refs, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const result = json<{ pairs: { ssim?: number; ssimOmitted?: string }[]; mean: { frames: number; ssim: number; ssimFrames: number } }>(r)
    assert.deepEqual(
      result.pairs.map((p) => [p.ssim, p.ssimOmitted]),
      [
        [undefined, "6x4 frames are smaller than SSIM's 7x7 window"],
        [1, undefined],
      ],
    )
    assert.deepEqual(result.mean, { ...result.mean, frames: 16, ssim: 1, ssimFrames: 8 })
    r = cli(['eval', refs, refs])
    assert.match(r.stdout, /SSIM 1\.0000 over 8 of 16 frames \(the others are smaller than its 7x7 window\)/)
  })
})
