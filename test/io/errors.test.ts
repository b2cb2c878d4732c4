import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { probeVideo, readImage, readVideoFrames, writeVideo } from '../../lib/io/index.js'
import { evalDir, hasEval, makeVideo, rejectsWith, tempDir } from './helpers.js'

// Every failure must come back quickly: a hang fails the test through its timeout.
const T = { timeout: 20_000 }

function truncateToHalf(src: string, dst: string): string {
  const bytes = readFileSync(src)
  writeFileSync(dst, bytes.subarray(0, Math.floor(bytes.length / 2)))
  return dst
}

describe('I/O errors', () => {
  let dir: string
  let cleanup: () => void
  let good: string // 320x240, 40 frames, moov at the end
  let goodFast: string // the same with +faststart

  before(() => {
    ;({ dir, cleanup } = tempDir())
    good = makeVideo(join(dir, 'good.mp4'), { width: 320, height: 240, frames: 40, codecArgs: ['-c:v', 'libx264', '-preset', 'ultrafast'] })
    goodFast = join(dir, 'good_fast.mp4')
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', good, '-c', 'copy', '-movflags', '+faststart', goodFast])
  })
  after(() => cleanup())

  it('missing file: ERR_NOT_FOUND', T, async () => {
    const missing = join(dir, 'nope.mp4')
    await rejectsWith(readVideoFrames(missing), 'ERR_NOT_FOUND', /nope\.mp4 not found/)
    await rejectsWith(probeVideo(missing), 'ERR_NOT_FOUND')
    await rejectsWith(readImage(join(dir, 'nope.png')), 'ERR_NOT_FOUND')
    const sub = join(dir, 'a_directory')
    mkdirSync(sub)
    await rejectsWith(readVideoFrames(sub), 'ERR_NOT_FOUND', /not a regular file/)
  })

  it('empty file: ERR_VIDEO_CORRUPT', T, async () => {
    const empty = join(dir, 'empty.mp4')
    writeFileSync(empty, '')
    await rejectsWith(readVideoFrames(empty), 'ERR_VIDEO_CORRUPT', /empty/)
  })

  it('mp4 truncated to half (index at the end): ERR_VIDEO_CORRUPT with ffmpeg reason', T, async () => {
    const half = truncateToHalf(good, join(dir, 'half.mp4'))
    const err = await rejectsWith(readVideoFrames(half), 'ERR_VIDEO_CORRUPT', /moov atom not found/)
    assert.equal(err.path, half)
    assert.ok(err.stderr !== undefined && err.stderr.length > 0)
    await rejectsWith(probeVideo(half), 'ERR_VIDEO_CORRUPT')
  })

  it('mp4 truncated to half (index first): ERR_VIDEO_CORRUPT, or the decodable part with strict: false', T, async () => {
    const half = truncateToHalf(goodFast, join(dir, 'half_fast.mp4'))
    await rejectsWith(readVideoFrames(half), 'ERR_VIDEO_CORRUPT')
    const partial = await readVideoFrames(half, { strict: false })
    assert.ok(partial.shape[0] > 0 && partial.shape[0] < 40, `got ${partial.shape[0]} frames`)
  })

  it('a real clip truncated to half: ERR_VIDEO_CORRUPT', { ...T, skip: !hasEval && 'no ../shared/eval' }, async () => {
    const copy = join(dir, 'clip.mp4')
    copyFileSync(join(evalDir, 'videos', '8.mp4'), copy) // temp dir only, removed after the test
    const half = truncateToHalf(copy, join(dir, 'clip_half.mp4'))
    await rejectsWith(readVideoFrames(half), 'ERR_VIDEO_CORRUPT')
  })

  it('a text file: ERR_UNSUPPORTED', T, async () => {
    const txt = join(dir, 'notes.txt')
    writeFileSync(txt, 'this is not a video\n'.repeat(50))
    await rejectsWith(readVideoFrames(txt), 'ERR_UNSUPPORTED', /not a video/)
    const fake = join(dir, 'fake.mp4')
    writeFileSync(fake, 'this is not a video either\n'.repeat(50))
    await rejectsWith(readVideoFrames(fake), 'ERR_VIDEO_CORRUPT')
    await rejectsWith(readImage(txt), 'ERR_UNSUPPORTED')
  })

  it('zero frames: ERR_NO_FRAMES (empty video, audio only, start past the end)', T, async () => {
    const zero = makeVideo(join(dir, 'zero.mp4'), { frames: 0 })
    await rejectsWith(readVideoFrames(zero), 'ERR_NO_FRAMES', /no video stream/)
    const audio = join(dir, 'audio.m4a')
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=duration=0.5', audio])
    await rejectsWith(readVideoFrames(audio), 'ERR_NO_FRAMES')
    await rejectsWith(probeVideo(audio), 'ERR_NO_FRAMES')
    await rejectsWith(readVideoFrames(good, { start: 40 }), 'ERR_NO_FRAMES', /frame 40 \(the video has 40\)/)
  })

  it('ffmpeg missing: ERR_FFMPEG_MISSING', T, async () => {
    const saved = { ffmpeg: process.env.FFMPEG_PATH, ffprobe: process.env.FFPROBE_PATH, path: process.env.PATH }
    try {
      process.env.FFPROBE_PATH = join(dir, 'no-ffprobe')
      await rejectsWith(readVideoFrames(good), 'ERR_FFMPEG_MISSING', /FFPROBE_PATH/)
      delete process.env.FFPROBE_PATH
      process.env.FFMPEG_PATH = join(dir, 'no-ffmpeg')
      await rejectsWith(writeVideo(join(dir, 'w.mp4'), { frames: new Uint8Array(64 * 64 * 3), shape: [1, 64, 64, 3] }), 'ERR_FFMPEG_MISSING')
      delete process.env.FFMPEG_PATH
      process.env.PATH = dir
      await rejectsWith(readImage(good), 'ERR_FFMPEG_MISSING', /not found on PATH/)
    } finally {
      for (const [k, v] of [
        ['FFMPEG_PATH', saved.ffmpeg],
        ['FFPROBE_PATH', saved.ffprobe],
        ['PATH', saved.path],
      ] as const) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
    }
    // back to normal
    assert.equal((await readVideoFrames(good, { count: 1 })).shape[0], 1)
  })
})
