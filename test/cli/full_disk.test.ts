// encode, decode and reconstruct writing to a full disk: exit 1 with the error, the existing
// output as it was, no temporary left (before: exit 0 and a truncated output in its place).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { fillUp, names, smallTmpfs, unfill } from '../support/full_disk.js'
import { cli, makeVideo, tempDir } from './helpers.js'

describe('encode / decode / reconstruct on a full disk', () => {
  const disk = smallTmpfs(1024)
  const dir = tempDir()
  // 128x128: a 16 KiB latent; mandelbrot detail keeps the videos well over the room left.
  const clip = makeVideo(path.join(dir, 'clip.mp4'), { width: 128, height: 128, frames: 4, fps: 8, source: 'mandelbrot' })
  const latent = path.join(dir, 'clip.safetensors')
  const common = ['--threads', '2']

  const cases: [string, () => string[], string, RegExp][] = [
    [
      'encode',
      () => ['encode', clip, '-o', path.join(disk.dir, 'out.safetensors')],
      'out.safetensors',
      /writing .*out\.safetensors failed: .*(ENOSPC|no space)/i,
    ],
    ['decode', () => ['decode', latent, '-o', path.join(disk.dir, 'out.mkv'), '--crf', '0'], 'out.mkv', /out\.mkv.*\(ERR_WRITE\)/],
    ['reconstruct', () => ['reconstruct', clip, '-o', path.join(disk.dir, 'out.mkv'), '--crf', '0'], 'out.mkv', /out\.mkv.*\(ERR_WRITE\)/],
  ]
  for (const [command, args, name, message] of cases) {
    it(`${command}: exit 1, the existing output untouched`, { skip: disk.skip }, () => {
      if (command === 'decode' && !fs.existsSync(latent)) assert.equal(cli(['encode', clip, '-o', latent, ...common]).code, 0)
      const out = path.join(disk.dir, name)
      fs.writeFileSync(out, 'the previous output')
      fillUp(disk.dir, 8 * 1024)
      try {
        const r = cli([...args(), ...common])
        assert.equal(r.code, 1, `exit ${r.code}: ${r.stdout}${r.stderr}`)
        assert.match(r.stderr, message)
        assert.equal(fs.readFileSync(out, 'utf8'), 'the previous output')
        assert.deepEqual(names(disk.dir), [name], 'no temporary left behind')
      } finally {
        unfill(disk.dir)
        fs.rmSync(out, { force: true })
      }
    })
  }
})
