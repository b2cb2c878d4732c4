// Issue 28: --cudnn-benchmark on the commands that run the model. Accepted everywhere, echoed in
// --json as { enabled, applies } (applies: only on CUDA), refused with a value.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { cli, json, makeVideo, tempDir } from './helpers.js'

describe('--cudnn-benchmark', () => {
  const dir = tempDir()
  const clip = makeVideo(path.join(dir, 'clip.mp4'), { width: 32, height: 32, frames: 4 })
  const common = ['--threads', '2', '--json']

  it('reconstruct: accepted, reported as on but without effect on the CPU', () => {
    for (const [flags, enabled] of [
      [['--cudnn-benchmark'], true],
      [[], false],
    ] as const) {
      const r = cli(['reconstruct', clip, '-o', path.join(dir, `rec-${String(enabled)}.mp4`), ...flags, ...common])
      assert.equal(r.code, 0, r.stderr)
      const out = json<{ device: string; cudnnBenchmark: unknown; psnr: number }>(r)
      assert.equal(out.device, 'cpu')
      assert.deepEqual(out.cudnnBenchmark, { enabled, applies: false })
      assert.ok(out.psnr > 10)
    }
  })

  it('batch: accepted and reported', () => {
    const manifest = path.join(dir, 'clips.csv')
    fs.writeFileSync(manifest, `path,id\n${clip},c0\n`)
    const r = cli(['batch', manifest, '-o', path.join(dir, 'latents'), '--cudnn-benchmark', ...common])
    assert.equal(r.code, 0, r.stderr)
    const out = json<{ encoded: number; device: string; cudnnBenchmark: unknown }>(r)
    assert.equal(out.encoded, 1)
    assert.equal(out.device, 'cpu')
    assert.deepEqual(out.cudnnBenchmark, { enabled: true, applies: false })
  })

  it('takes no value (a usage error, exit 2)', () => {
    const r = cli(['reconstruct', clip, '-o', path.join(dir, 'x.mp4'), '--cudnn-benchmark=yes'])
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /cudnn-benchmark.*\(ERR_USAGE\)/)
  })
})
