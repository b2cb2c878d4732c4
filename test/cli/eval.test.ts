// `videovae eval`: the official protocol's PSNR/SSIM, directory pairing, LPIPS plumbing.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { readVideoFrames } from '../../lib/io/read_clip.js'
import { cli, EVAL_DIR, json, makeVideo, needsEval, needsPython, PYTHON, tempDir } from './helpers.js'

interface EvalJson {
  pairing: string
  pairs: { ref: string; test: string; frames: number; psnr: number; ssim: number; lpips?: number }[]
  failed: { ref: string; code: string }[]
  mean: { pairs: number; frames: number; psnr: number; ssim: number; lpips?: number }
}

describe('videovae eval', () => {
  const dir = tempDir()
  const a = makeVideo(path.join(dir, 'a.mp4'), { width: 48, height: 32, frames: 6 })
  const b = makeVideo(path.join(dir, 'b.mp4'), { width: 48, height: 32, frames: 6, source: 'rgbtestsrc' })

  it('a video against itself: PSNR 100, SSIM 1', () => {
    const r = cli(['eval', a, a, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = json<EvalJson>(r)
    assert.equal(out.pairing, 'files')
    assert.deepEqual([out.mean.frames, out.mean.psnr, out.mean.ssim], [6, 100, 1])
    const human = cli(['eval', a, a])
    assert.equal(human.code, 0)
    assert.match(human.stdout, /PSNR 100\.0000 dB {2}SSIM 1\.0000 {2}\(6 frames\)/)
  })

  it('the official reconstruction of 8.mp4 scores 37.12 dB', { skip: needsEval }, () => {
    const r = cli(['eval', path.join(EVAL_DIR, 'videos', '8.mp4'), path.join(EVAL_DIR, 'official-recon', '8_reconstructed.mp4'), '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = json<EvalJson>(r)
    assert.equal(out.mean.frames, 16)
    assert.ok(Math.abs(out.mean.psnr - 37.12) <= 0.01, String(out.mean.psnr))
    assert.ok(out.mean.ssim > 0.8 && out.mean.ssim < 1, String(out.mean.ssim))
  })

  it('directories are paired by sorted position; captions are skipped; one bad pair gives exit 3', () => {
    const ref = path.join(dir, 'ref')
    const rec = path.join(dir, 'rec')
    fs.mkdirSync(ref)
    fs.mkdirSync(rec)
    fs.copyFileSync(a, path.join(ref, '1.mp4'))
    fs.copyFileSync(b, path.join(ref, '2.mp4'))
    fs.writeFileSync(path.join(ref, '1.txt'), 'a caption')
    fs.copyFileSync(a, path.join(rec, '1_reconstructed.mp4'))
    fs.copyFileSync(b, path.join(rec, '2_reconstructed.mp4'))
    const r = cli(['eval', ref, rec, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = json<EvalJson>(r)
    assert.equal(out.pairing, 'sorted-position')
    assert.deepEqual(
      out.pairs.map((p) => [path.basename(p.ref), path.basename(p.test), p.psnr]),
      [
        ['1.mp4', '1_reconstructed.mp4', 100],
        ['2.mp4', '2_reconstructed.mp4', 100],
      ],
    )
    assert.equal(out.mean.frames, 12)

    fs.copyFileSync(makeVideo(path.join(dir, 'short.mp4'), { width: 48, height: 32, frames: 3 }), path.join(rec, '2_reconstructed.mp4'))
    const bad = cli(['eval', ref, rec, '--json'])
    assert.equal(bad.code, 3, bad.stderr)
    const partial = json<EvalJson>(bad)
    assert.equal(partial.pairs.length, 1)
    assert.deepEqual(
      partial.failed.map((f) => [path.basename(f.ref), f.code]),
      [['2.mp4', 'ERR_MISMATCH']],
    )
    assert.match(bad.stderr, /frame counts differ/)

    fs.rmSync(path.join(rec, '2_reconstructed.mp4'))
    const uneven = cli(['eval', ref, rec])
    assert.equal(uneven.code, 1)
    assert.match(uneven.stderr, /holds 2 files but .* holds 1; pairing is by sorted position/)
  })

  it('LPIPS through a TorchScript module: mean over frames of its output', { skip: needsPython }, async () => {
    // Stand-in for LPIPS: the mean absolute difference of the two [1,3,H,W] frames in [-1, 1].
    const module = path.join(dir, 'mad.pt')
    const script = path.join(dir, 'make_mad.py') // TorchScript needs the source in a file
    fs.writeFileSync(
      script,
      [
        'import sys, torch',
        'class MAD(torch.nn.Module):',
        '    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:',
        '        assert x.dim() == 4 and x.shape[0] == 1 and x.shape[1] == 3',
        '        assert float(x.min()) >= -1.0 and float(x.max()) <= 1.0',
        '        return (x - y).abs().mean().reshape(1, 1, 1, 1)',
        'torch.jit.script(MAD()).save(sys.argv[1])',
      ].join('\n'),
    )
    execFileSync(PYTHON, [script, module])

    const self = json<EvalJson>(cli(['eval', a, a, '--lpips', module, '--json']))
    assert.equal(self.mean.lpips, 0)

    const r = cli(['eval', a, b, '--lpips', module, '--threads', '1', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = json<EvalJson>(r)
    const [fa, fb] = await Promise.all([readVideoFrames(a), readVideoFrames(b)])
    const per = fa.shape[1] * fa.shape[2] * 3
    let expected = 0
    for (let f = 0; f < 6; f++) {
      let s = 0
      for (let i = f * per; i < (f + 1) * per; i++) s += Math.abs((fa.frames[i]! / 255 - 0.5) * 2 - (fb.frames[i]! / 255 - 0.5) * 2)
      expected += s / per / 6
    }
    assert.ok(out.mean.lpips! > 0.05)
    assert.ok(Math.abs(out.mean.lpips! - expected) < 1e-5, `${out.mean.lpips} vs ${expected}`)
    assert.equal(out.pairs[0]!.lpips, out.mean.lpips)
    assert.match(cli(['eval', a, b, '--lpips', module]).stdout, /LPIPS \d\.\d{4}/)
  })
})
