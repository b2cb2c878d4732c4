// writeVideo on a full disk: ffmpeg exits 0 with a truncated mkv/avi when the disk fills while
// muxing (without -xerror); such a write must fail, leave no temporary, and keep an existing file.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import { writeImage, writeVideo } from '../../lib/io/index.js'
import { childWrite, fillUp, names, smallTmpfs, unfill } from '../support/full_disk.js'
import { tempDir } from './helpers.js'

/** Incompressible frames (so the encoded size tracks the frame count). */
function noise(frames: number): { frames: Uint8Array; shape: [number, number, number, 3] } {
  const out = new Uint8Array(frames * 64 * 64 * 3)
  let x = 7
  for (let i = 0; i < out.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return { frames: out, shape: [frames, 64, 64, 3] }
}

describe('writeVideo on a full disk', () => {
  const disk = smallTmpfs(1024)

  for (const ext of ['mkv', 'avi', 'mp4']) {
    it(`.${ext}: fails with ERR_WRITE and leaves the existing file as it was`, { skip: disk.skip }, async () => {
      const out = path.join(disk.dir, `out.${ext}`)
      fs.writeFileSync(out, 'the previous output')
      fillUp(disk.dir, 96 * 1024) // 64 noise frames take ~390 kB
      try {
        await assert.rejects(writeVideo(out, noise(64), { crf: 0 }), (err: Error & { code?: string }) => {
          assert.equal(err.code, 'ERR_WRITE', err.message)
          assert.match(err.message, /No space left|frames|does not read back/)
          return true
        })
        assert.equal(fs.readFileSync(out, 'utf8'), 'the previous output')
        assert.deepEqual(names(disk.dir), [`out.${ext}`], 'no temporary left behind')
      } finally {
        unfill(disk.dir)
        fs.rmSync(out, { force: true })
      }
      // With room again the same write succeeds.
      const result = await writeVideo(out, noise(64), { crf: 0 })
      assert.equal(result.frames, 64)
      fs.rmSync(out)
    })
  }

  it('an image sequence fails whole: no image of it appears', { skip: disk.skip }, async () => {
    const dir = path.join(disk.dir, 'seq')
    fs.mkdirSync(dir)
    fillUp(disk.dir, 64 * 1024) // 64 noise PNGs take ~800 kB
    try {
      await assert.rejects(writeVideo(path.join(dir, 'f_%03d.png'), noise(64)), { code: 'ERR_WRITE' })
      assert.deepEqual(fs.readdirSync(dir), [])
    } finally {
      unfill(disk.dir)
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('writeImage: ERR_WRITE, the existing image kept', { skip: disk.skip }, async () => {
    const out = path.join(disk.dir, 'still.png')
    fs.writeFileSync(out, 'the previous image')
    fillUp(disk.dir, 32 * 1024) // a 256x256 noise PNG takes ~200 kB
    try {
      await assert.rejects(writeImage(out, new Uint8Array(randomBytes(256 * 256 * 3)), 256, 256), { code: 'ERR_WRITE' })
      assert.equal(fs.readFileSync(out, 'utf8'), 'the previous image')
      assert.deepEqual(names(disk.dir), ['still.png'])
    } finally {
      unfill(disk.dir)
      fs.rmSync(out, { force: true })
    }
  })

  it('under a file-size limit (no root needed): ERR_WRITE, the existing file kept', () => {
    const { dir, cleanup } = tempDir()
    try {
      const out = path.join(dir, 'out.mkv')
      fs.writeFileSync(out, 'the previous output')
      const verdict = childWrite(64, 'video', out, 64)
      assert.equal(verdict.ok, false)
      assert.equal(verdict.code, 'ERR_WRITE', verdict.message)
      assert.equal(fs.readFileSync(out, 'utf8'), 'the previous output')
      assert.deepEqual(fs.readdirSync(dir), ['out.mkv'])
    } finally {
      cleanup()
    }
  })
})
