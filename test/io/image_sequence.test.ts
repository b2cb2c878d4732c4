import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { execFileSync } from 'node:child_process'
import { renameSync } from 'node:fs'
import { join } from 'node:path'
import { findImageSequence, probeVideo, readImage, readVideoFrames, VideoIOError } from '../../lib/io/index.js'
import { makeVideo, tempDir } from './helpers.js'

const T = { timeout: 60_000 }

describe('image sequences and maxSize', () => {
  let dir: string
  let cleanup: () => void

  before(() => {
    ;({ dir, cleanup } = tempDir())
    // frames 7..16 of a 48x32 pattern, written as PNG files numbered from 7.
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=48x32:rate=10',
      '-frames:v',
      '10',
      '-start_number',
      '7',
      join(dir, 'f_%04d.png'),
    ])
    // A second sequence with a gap after frame 3.
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=48x32:rate=10', '-frames:v', '6', join(dir, 'g_%02d.png')])
    renameSync(join(dir, 'g_04.png'), join(dir, 'moved.png'))
  })
  after(() => cleanup())

  it('finds the first number and the frame count; a gap is an error naming the missing frame', () => {
    const seq = findImageSequence(join(dir, 'f_%04d.png'))
    assert.deepEqual([seq.startNumber, seq.frameCount], [7, 10])
    assert.equal(seq.firstFile, join(dir, 'f_0007.png'))
    assert.throws(
      () => findImageSequence(join(dir, 'g_%02d.png')),
      (err: unknown) => {
        assert.ok(err instanceof VideoIOError)
        assert.equal(err.code, 'ERR_ARGUMENT')
        assert.match(err.message, /frame number 4 is missing \(the files run from 1 to 6\)/)
        return true
      },
    )
  })

  it('probes a sequence with the given rate', T, async () => {
    const info = await probeVideo(join(dir, 'f_%04d.png'), { sequenceFps: '12/1' })
    assert.deepEqual([info.width, info.height, info.frameCount, info.fps, info.fpsFraction], [48, 32, 10, 12, '12/1'])
    const byDefault = await probeVideo(join(dir, 'f_%04d.png'))
    assert.equal(byDefault.fps, 25)
  })

  it('reads the files in order, each frame equal to the image read alone', T, async () => {
    const all = await readVideoFrames(join(dir, 'f_%04d.png'), { sequenceFps: 8 })
    assert.deepEqual(all.shape, [10, 32, 48, 3])
    assert.equal(all.fps, 8)
    for (const i of [0, 4, 9]) {
      const img = await readImage(join(dir, `f_${String(7 + i).padStart(4, '0')}.png`))
      const frame = all.frames.subarray(i * 32 * 48 * 3, (i + 1) * 32 * 48 * 3)
      assert.deepEqual(Buffer.from(frame), Buffer.from(img.data), `frame ${i}`)
    }
    await assert.rejects(readVideoFrames(join(dir, 'g_%02d.png')), /frame number 4 is missing/)
  })

  it('fails clearly when no file matches', T, async () => {
    await assert.rejects(readVideoFrames(join(dir, 'none_%03d.png')), (err: unknown) => {
      assert.ok(err instanceof VideoIOError)
      assert.equal(err.code, 'ERR_NOT_FOUND')
      assert.match(err.message, /no file matches/)
      return true
    })
  })

  it('maxSize caps each side independently, like the official 1280x720 read', T, async () => {
    const src = makeVideo(join(dir, 'wide.mp4'), { width: 96, height: 40, frames: 4 })
    const capped = await readVideoFrames(src, { maxSize: { width: 64, height: 64 } })
    assert.deepEqual(capped.shape, [4, 40, 64, 3], 'only the width is over the cap')
    const resized = await readVideoFrames(src, { resize: { width: 64, height: 40 } })
    assert.deepEqual(Buffer.from(capped.frames), Buffer.from(resized.frames))
    const under = await readVideoFrames(src, { maxSize: { width: 1280, height: 720 } })
    assert.deepEqual(under.shape, [4, 40, 96, 3], 'smaller frames are left alone')
    await assert.rejects(readVideoFrames(src, { maxSize: { width: 0, height: 8 } }), /maxSize needs positive integer/)
  })
})
