import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { planRead, probeVideo, readVideo, readVideoFrames } from '../../lib/io/index.js'
import { cropFrames, frameOf, makeVideo, tempDir } from './helpers.js'

const T = { timeout: 60_000 }

describe('readVideo', () => {
  let dir: string
  let cleanup: () => void
  let src: string // 100x60, 30 frames at 10 fps, lossless
  let full: Uint8Array
  let long: string // 320x240, 300 frames: 69 MB of RGB

  before(async () => {
    ;({ dir, cleanup } = tempDir())
    src = makeVideo(join(dir, 'src.mp4'))
    full = (await readVideoFrames(src)).frames
    long = makeVideo(join(dir, 'long.mp4'), {
      width: 320,
      height: 240,
      frames: 300,
      fps: 30,
      codecArgs: ['-c:v', 'libx264', '-preset', 'ultrafast'],
    })
  })
  after(() => cleanup())

  it('probes size, rate and frame count', T, async () => {
    const info = await probeVideo(src)
    assert.equal(info.width, 100)
    assert.equal(info.height, 60)
    assert.equal(info.fps, 10)
    assert.equal(info.fpsFraction, '10/1')
    assert.equal(info.frameCount, 30)
    assert.equal(info.codec, 'h264')
    assert.equal(info.pixFmt, 'yuv444p')
    assert.equal(info.rotation, 0)
    assert.ok(info.durationSeconds !== null && Math.abs(info.durationSeconds - 3) < 0.05)
  })

  it('reads every frame as [T,H,W,3] RGB', T, async () => {
    const all = await readVideoFrames(src)
    assert.deepEqual(all.shape, [30, 60, 100, 3])
    assert.equal(all.frames.length, 30 * 60 * 100 * 3)
    assert.equal(all.fps, 10)
    // testsrc2 frames differ from one another
    assert.notDeepEqual(frameOf(all.frames, 0, 100, 60), frameOf(all.frames, 1, 100, 60))
  })

  it('yields chunks of chunkFrames with running startFrame', T, async () => {
    const seen: Array<[number, number]> = []
    const parts: Uint8Array[] = []
    for await (const c of readVideo(src, { chunkFrames: 7 })) {
      assert.deepEqual(c.shape.slice(1), [60, 100, 3])
      assert.equal(c.frames.length, c.shape[0] * 60 * 100 * 3)
      assert.equal(c.frames.byteLength, c.frames.buffer.byteLength, 'each chunk owns its buffer')
      seen.push([c.startFrame, c.shape[0]])
      parts.push(c.frames)
    }
    assert.deepEqual(seen, [
      [0, 7],
      [7, 7],
      [14, 7],
      [21, 7],
      [28, 2],
    ])
    assert.deepEqual(Buffer.concat(parts), Buffer.from(full))
    const def: number[] = []
    for await (const c of readVideo(src)) def.push(c.shape[0])
    assert.deepEqual(def, [16, 14])
  })

  it('start/count select exactly frames [start, start+count)', T, async () => {
    const r = await readVideoFrames(src, { start: 5, count: 4, chunkFrames: 3 })
    assert.deepEqual(r.shape, [4, 60, 100, 3])
    assert.deepEqual(Buffer.from(r.frames), Buffer.from(full.subarray(5 * 18000, 9 * 18000)))
    const tail = await readVideoFrames(src, { start: 27, count: 10 })
    assert.equal(tail.shape[0], 3)
    const firsts: number[] = []
    for await (const c of readVideo(src, { start: 10, chunkFrames: 8 })) firsts.push(c.startFrame)
    assert.deepEqual(firsts, [0, 8, 16], 'startFrame counts from start')
  })

  it('fps resamples (10 -> 5 drops every other frame, 10 -> 20 repeats)', T, async () => {
    const half = await readVideoFrames(src, { fps: 5 })
    assert.deepEqual(half.shape, [15, 60, 100, 3])
    assert.equal(half.fps, 5)
    for (let k = 0; k < 15; k++) {
      assert.deepEqual(frameOf(half.frames, k, 100, 60), frameOf(full, 2 * k, 100, 60))
    }
    const dbl = await readVideoFrames(src, { fps: '20/1' })
    assert.equal(dbl.shape[0], 60)
    assert.equal(dbl.fps, 20)
    // start counts in the resampled sequence
    const st = await readVideoFrames(src, { fps: 5, start: 3, count: 2 })
    assert.deepEqual(Buffer.from(st.frames), Buffer.concat([frameOf(full, 6, 100, 60), frameOf(full, 8, 100, 60)]))
  })

  it('crop is exact on the RGB frame', T, async () => {
    const r = await readVideoFrames(src, { crop: { x: 3, y: 5, width: 41, height: 31 }, count: 4 })
    assert.deepEqual(r.shape, [4, 31, 41, 3])
    assert.deepEqual(Buffer.from(r.frames), Buffer.from(cropFrames(full, 4, 100, 60, 3, 5, 41, 31)))
  })

  it("fit 'crop' centre-crops to multiples of 8", T, async () => {
    const r = await readVideoFrames(src, { fit: 'crop', count: 2 })
    assert.deepEqual(r.shape, [2, 56, 96, 3])
    assert.deepEqual(Buffer.from(r.frames), Buffer.from(cropFrames(full, 2, 100, 60, 2, 2, 96, 56)))
  })

  it("fit 'pad' pads right/bottom by repeating edge pixels", T, async () => {
    const r = await readVideoFrames(src, { fit: 'pad', count: 2 })
    assert.deepEqual(r.shape, [2, 64, 104, 3])
    assert.deepEqual(Buffer.from(cropFrames(r.frames, 2, 104, 64, 0, 0, 100, 60)), Buffer.from(full.subarray(0, 2 * 18000)))
    const px = (buf: Uint8Array, f: number, w: number, h: number, x: number, y: number): number[] => {
      const i = ((f * h + y) * w + x) * 3
      return [buf[i] as number, buf[i + 1] as number, buf[i + 2] as number]
    }
    for (const f of [0, 1]) {
      assert.deepEqual(px(r.frames, f, 104, 64, 103, 10), px(full, f, 100, 60, 99, 10))
      assert.deepEqual(px(r.frames, f, 104, 64, 20, 63), px(full, f, 100, 60, 20, 59))
      assert.deepEqual(px(r.frames, f, 104, 64, 103, 63), px(full, f, 100, 60, 99, 59))
    }
  })

  it('resize and fit resize give the planned sizes', T, async () => {
    const a = await readVideoFrames(src, { resize: { width: 50 }, count: 1 })
    assert.deepEqual(a.shape, [1, 30, 50, 3])
    const b = await readVideoFrames(src, { resize: { width: 64, height: 48 }, interpolation: 'area', count: 1 })
    assert.deepEqual(b.shape, [1, 48, 64, 3])
    const c = await readVideoFrames(src, { fit: 'resize', count: 1 })
    assert.deepEqual(c.shape, [1, 64, 104, 3])
    // crop then resize then fit
    const d = await readVideoFrames(src, { crop: { x: 0, y: 0, width: 90, height: 50 }, resize: { height: 45 }, fit: 'pad', count: 1 })
    assert.deepEqual(d.shape, [1, 48, 88, 3])
    const plan = planRead(await probeVideo(src), { crop: { x: 0, y: 0, width: 90, height: 50 }, resize: { height: 45 }, fit: 'pad' })
    assert.equal(plan.decodedWidth, 81)
    assert.equal(plan.decodedHeight, 45)
  })

  it('rejects bad options with ERR_ARGUMENT', T, async () => {
    const bad = [
      { chunkFrames: 0 },
      { start: -1 },
      { start: 1.5 },
      { count: 0 },
      { fps: -2 },
      { crop: { x: 90, y: 0, width: 20, height: 10 } },
      { resize: {} },
      { fit: 'stretch' as 'crop' },
    ]
    for (const opts of bad) {
      await assert.rejects(readVideoFrames(src, opts), { code: 'ERR_ARGUMENT' }, JSON.stringify(opts))
    }
  })

  it('applies the display rotation like ffmpeg does', T, async () => {
    const plain = makeVideo(join(dir, 'unrotated.mp4'), { frames: 2 })
    const rotated = join(dir, 'rot.mp4')
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', plain, '-c', 'copy', '-metadata:s:v', 'rotate=90', rotated])
    const info = await probeVideo(rotated)
    assert.equal(info.rotation % 180, 90)
    assert.deepEqual([info.width, info.height], [60, 100])
    const r = await readVideoFrames(rotated)
    assert.deepEqual(r.shape, [2, 100, 60, 3])
  })

  it('ignores cover art (attached pictures)', T, async () => {
    const cover = join(dir, 'cover.png')
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=32x32', '-frames:v', '1', cover])
    const withCover = join(dir, 'with_cover.mp4')
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-i',
      cover,
      '-i',
      src,
      '-map',
      '0',
      '-map',
      '1',
      '-c:v:0',
      'png',
      '-c:v:1',
      'copy',
      '-disposition:v:0',
      'attached_pic',
      withCover,
    ])
    const info = await probeVideo(withCover)
    assert.deepEqual([info.width, info.height, info.frameCount], [100, 60, 30])
    const r = await readVideoFrames(withCover, { count: 3 })
    assert.deepEqual(Buffer.from(r.frames), Buffer.from(full.subarray(0, 3 * 18000)))
  })

  it('stops ffmpeg when the consumer leaves early', T, async () => {
    const t0 = Date.now()
    let n = 0
    for await (const c of readVideo(long, { chunkFrames: 4 })) {
      n += c.shape[0]
      if (n >= 8) break
    }
    assert.equal(n, 8)
    assert.ok(Date.now() - t0 < 10_000)
  })

  it('applies backpressure: a slow consumer keeps memory near one chunk', T, async () => {
    // Unthrottled, ffmpeg decodes this clip in well under a second: while the consumer sleeps on
    // the first chunks, buffered data must stay at a few chunks.
    const before = process.memoryUsage().arrayBuffers
    let peak = 0
    let n = 0
    for await (const c of readVideo(long, { chunkFrames: 2 })) {
      n += c.shape[0]
      if (n <= 6) {
        await new Promise((r) => setTimeout(r, 400))
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - before)
      }
    }
    assert.equal(n, 300)
    assert.ok(peak < 16 * 1024 * 1024, `extra array-buffer memory while paused ${(peak / 1e6).toFixed(1)} MB`)
  })

  it('can be aborted', T, async () => {
    const ac = new AbortController()
    let n = 0
    await assert.rejects(
      (async () => {
        for await (const c of readVideo(long, { chunkFrames: 2, signal: ac.signal })) {
          n += c.shape[0]
          if (n === 4) ac.abort()
        }
      })(),
      { code: 'ERR_ABORTED' },
    )
  })
})
