/**
 * Hostile inputs (issue 27): files that would make ffmpeg read other files than the one named
 * (an HLS playlist or an ffconcat list saved as .mp4, an SDP file) are refused with
 * ERR_FORMAT_NOT_ALLOWED unless the caller declares them trusted; ordinary formats still read.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'

import { probeVideo, readImage, readVideoFrames } from '../../lib/io/index.js'
import { makeVideo, rejectsWith, tempDir } from './helpers.js'

const T = { timeout: 30_000 }

describe('untrusted input: format and protocol allowlists', () => {
  let dir: string
  let cleanup: () => void
  let a: string // 8 frames 64x48
  let b: string // 8 other frames 64x48

  before(() => {
    ;({ dir, cleanup } = tempDir('videovae-untrusted-'))
    a = makeVideo(join(dir, 'a.mp4'), { width: 64, height: 48, frames: 8 })
    b = makeVideo(join(dir, 'b.mp4'), { width: 64, height: 48, frames: 8, source: 'testsrc' })
  })
  after(() => cleanup())

  it('an HLS playlist named .mp4 that points at another local file by absolute path: refused, read only when trusted', T, async () => {
    const hls = join(dir, 'upload.mp4')
    writeFileSync(hls, `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1,\n${a}\n#EXT-X-ENDLIST\n`)
    await rejectsWith(readVideoFrames(hls), 'ERR_FORMAT_NOT_ALLOWED', /format 'hls'.*--trusted-input/)
    await rejectsWith(probeVideo(hls), 'ERR_FORMAT_NOT_ALLOWED')
    await rejectsWith(readImage(hls), 'ERR_FORMAT_NOT_ALLOWED')
    // What the refusal prevents: with trust, ffmpeg follows the playlist to a.mp4.
    const followed = await readVideoFrames(hls, { trusted: true })
    assert.deepEqual(followed.shape, [8, 48, 64, 3])
  })

  it('an ffconcat list named .mp4 that pulls a sibling text file: refused (text rendering bypass)', T, async () => {
    writeFileSync(join(dir, 'secret.txt'), 'db_password=hunter2\n'.repeat(200))
    const list = join(dir, 'list.mp4')
    writeFileSync(list, 'ffconcat version 1.0\nfile secret.txt\n')
    const err = await rejectsWith(readVideoFrames(list), 'ERR_FORMAT_NOT_ALLOWED', /format 'concat'/)
    assert.equal(err.path, list)
    await rejectsWith(probeVideo(list), 'ERR_FORMAT_NOT_ALLOWED')
    // The text file itself is still "a text file", trusted or not.
    await rejectsWith(readVideoFrames(join(dir, 'secret.txt')), 'ERR_UNSUPPORTED', /text file/)
    await rejectsWith(readVideoFrames(join(dir, 'secret.txt'), { trusted: true }), 'ERR_UNSUPPORTED', /text file/)
  })

  it('an SDP file (as .sdp and as .mp4): refused at once, never a network read', T, async () => {
    const sdp = 'v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=video 5004 RTP/AVP 96\na=rtpmap:96 H264/90000\n'
    for (const name of ['stream.sdp', 'stream_sdp.mp4']) {
      const file = join(dir, name)
      writeFileSync(file, sdp)
      await rejectsWith(readVideoFrames(file), 'ERR_FORMAT_NOT_ALLOWED', /format 'sdp'/)
    }
  })

  it('the opt-in reads a legitimate trusted concat of sibling clips, frame for frame', T, async () => {
    const list = join(dir, 'both.ffconcat')
    writeFileSync(list, 'ffconcat version 1.0\nfile a.mp4\nfile b.mp4\n')
    await rejectsWith(readVideoFrames(list), 'ERR_FORMAT_NOT_ALLOWED')
    const both = await readVideoFrames(list, { trusted: true })
    const [fa, fb] = [await readVideoFrames(a), await readVideoFrames(b)]
    assert.deepEqual(both.shape, [16, 48, 64, 3])
    assert.deepEqual(both.frames.subarray(0, fa.frames.length), fa.frames)
    assert.deepEqual(both.frames.subarray(fa.frames.length), fb.frames)
  })

  it('ordinary containers and images still read untrusted', { timeout: 90_000 }, async () => {
    const made: [string, string[]][] = [
      ['c.mkv', ['-c:v', 'libx264', '-preset', 'ultrafast']],
      ['c.webm', ['-c:v', 'libvpx', '-b:v', '200k']],
      ['c.avi', ['-c:v', 'mjpeg']],
      ['c.ts', ['-c:v', 'mpeg2video']],
      ['c.h264', ['-c:v', 'libx264', '-preset', 'ultrafast']],
    ]
    for (const [name, codec] of made) {
      const file = makeVideo(join(dir, name), { width: 64, height: 48, frames: 4, codecArgs: codec })
      assert.equal((await readVideoFrames(file)).shape[0], 4, name)
    }
    for (const name of ['i.png', 'i.jpg', 'i.webp']) {
      const file = join(dir, name)
      execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', a, '-frames:v', '1', file])
      const img = await readImage(file)
      assert.deepEqual([img.width, img.height], [64, 48], name)
    }
    for (let i = 1; i <= 2; i++) {
      execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', a, '-frames:v', '1', join(dir, `s_${String(i).padStart(3, '0')}.png`)])
    }
    assert.equal((await readVideoFrames(join(dir, 's_%03d.png'))).shape[0], 2)
  })

  it('ffmpeg missing: the message names how to install it and the env var', T, async () => {
    const saved = process.env.PATH
    try {
      process.env.PATH = dir
      await rejectsWith(probeVideo(a), 'ERR_FFMPEG_MISSING', /apt install ffmpeg.*brew install ffmpeg.*FFPROBE_PATH/)
    } finally {
      process.env.PATH = saved
    }
  })
})
