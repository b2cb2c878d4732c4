// The report's media: proxies and heat maps of a frame pair, the JPEG stream's splitting, and the
// recorder's bounded frame budget (which frames stay, and that their images are theirs).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { readImage } from '../../lib/io/image.js'
import { DIFF_GAIN, frameViews, heatGrid, PairRecorder, proxySize } from '../../lib/report/index.js'
import { JpegStream, splitJpegs } from '../../lib/report/jpeg_stream.js'
import { VideoIOError } from '../../lib/io/ffmpeg.js'
import { tempDir } from '../cli/helpers.js'

function flat(width: number, height: number, rgb: [number, number, number]): Uint8Array {
  const a = new Uint8Array(width * height * 3)
  for (let i = 0; i < a.length; i += 3) a.set(rgb, i)
  return a
}

describe('report media', () => {
  const dir = tempDir()

  it('proxy sizes: at most 320 px a side, 16-px multiples wide, never enlarged past 16', () => {
    assert.deepEqual(proxySize(1280, 720), { width: 320, height: 180 })
    assert.deepEqual(proxySize(256, 256), { width: 256, height: 256 })
    assert.deepEqual(proxySize(720, 1280), { width: 176, height: 313 })
    assert.deepEqual(proxySize(40, 30), { width: 32, height: 24 })
    assert.deepEqual(proxySize(5, 3), { width: 16, height: 10 })
    assert.deepEqual(heatGrid(1280, 720), { cols: 48, rows: 27, cell: 27 })
    assert.deepEqual(heatGrid(64, 48), { cols: 8, rows: 6, cell: 8 })
  })

  it('views: box-filtered reference and test, |difference| x gain, per-block PSNR', () => {
    const w = 64
    const h = 48
    const ref = flat(w, h, [100, 150, 200])
    const test = flat(w, h, [104, 150, 190])
    // One 8x8 block of test differs more: its heat cell must be the worst.
    for (let y = 8; y < 16; y++) for (let x = 16; x < 24; x++) test.set([0, 0, 0], (y * w + x) * 3)
    const v = frameViews(ref, test, w, h)
    const p = proxySize(w, h)
    assert.equal(v.sprite.length, p.height * p.width * 3 * 3)
    const px = (view: number, x: number, y: number): number[] => {
      const o = (y * p.width * 3 + view * p.width + x) * 3
      return [...v.sprite.subarray(o, o + 3)]
    }
    assert.deepEqual(px(0, 40, 40), [100, 150, 200])
    assert.deepEqual(px(1, 40, 40), [104, 150, 190])
    assert.deepEqual(px(2, 40, 40), [4 * DIFF_GAIN, 0, 10 * DIFF_GAIN])
    assert.deepEqual(px(2, 20, 10), [255, 255, 255]) // |100-0| x 4 and more: clipped
    const g = heatGrid(w, h)
    // 16 + 0 + 100 over 3 channels: 10 log10(255^2 / (116/3)) = 32.26 dB -> byte 129
    assert.equal(v.heat[0 * g.cols + 0], Math.round(10 * Math.log10((255 * 255 * 3) / 116) * 4))
    assert.equal(Math.min(...v.heat), v.heat[1 * g.cols + 2])
    assert.equal(
      frameViews(ref, ref, w, h).heat.every((b) => b === 255),
      true,
    )
  })

  it('views of frames narrower than 16 px fill every proxy pixel (nearest source pixel)', () => {
    const ref = new Uint8Array(5 * 3 * 3)
    for (let i = 0; i < 15; i++) ref.set([i * 10, 255 - i * 10, 7], i * 3)
    const v = frameViews(ref, ref, 5, 3)
    const p = proxySize(5, 3)
    // Each proxy pixel shows one of the source pixels around it (none is left black).
    for (let y = 0; y < p.height; y++) {
      for (let x = 0; x < p.width; x++) {
        const sx = Math.floor((x * 5) / p.width)
        const sy = Math.floor((y * 3) / p.height)
        const o = (y * p.width * 3 + x) * 3
        const got = [...v.sprite.subarray(o, o + 3)].join()
        const near = [0, 1].flatMap((dy) => [0, 1].map((dx) => Math.min(2, sy + dy) * 5 + Math.min(4, sx + dx)))
        assert.ok(
          near.some((i) => [...ref.subarray(i * 3, i * 3 + 3)].join() === got),
          `${x},${y}: ${got}`,
        )
      }
    }
  })

  it('splitJpegs: whole images only, however the stream is cut, even with 0xFFD9 inside a segment', () => {
    const a = path.join(dir, 'a.jpg')
    execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=48x32', '-frames:v', '1', a])
    const jpeg = fs.readFileSync(a)
    // A comment segment holding FF D9 right after SOI: a naive search for EOI would cut here.
    const comment = Buffer.from([0xff, 0xfe, 0x00, 0x06, 0xff, 0xd9, 0xff, 0xd9])
    const tricky = Buffer.concat([jpeg.subarray(0, 2), comment, jpeg.subarray(2)])
    const stream = Buffer.concat([jpeg, tricky, jpeg])
    for (const cut of [1, 3, 500, jpeg.length, jpeg.length + 7, stream.length - 1]) {
      const first = splitJpegs(stream.subarray(0, cut))
      const second = splitJpegs(Buffer.concat([first.rest, stream.subarray(cut)]))
      const images = [...first.images, ...second.images]
      assert.deepEqual(
        images.map((b) => b.length),
        [jpeg.length, tricky.length, jpeg.length],
        `cut at ${cut}`,
      )
      assert.equal(second.rest.length, 0)
    }
    assert.throws(() => splitJpegs(Buffer.from('not a jpeg at all')), { code: 'ERR_FFMPEG' })
  })

  it('an encoder whose ffmpeg failed rejects with a coded error instead of waiting for it', { timeout: 20_000 }, async () => {
    const broken = new JpegStream(0, 16, 'broken.html') // ffmpeg refuses a 0-pixel-wide input
    const run = async (): Promise<void> => {
      for (let i = 0; i < 1000; i++) await broken.push(new Uint8Array(64 * 1024))
      await broken.finish()
    }
    await assert.rejects(run(), (err: unknown) => err instanceof VideoIOError && /broken\.html/.test(err.message) && err.code !== 'ERR_FFMPEG_MISSING')
  })

  it('the recorder keeps at most its budget, every 2^k-th frame, each with its own image', async () => {
    const w = 32
    const h = 16
    const rec = new PairRecorder('test pair', 4)
    rec.fps = 12
    for (let f = 0; f < 19; f++) {
      const ref = flat(w, h, [f * 10, 0, 0])
      await rec.add(f, ref, flat(w, h, [f * 10, 40, 0]), w, h)
    }
    const media = await rec.finish()
    assert.ok(media !== undefined)
    assert.deepEqual(media.frames, [0, 8, 16])
    assert.equal(media.stride, 8)
    assert.equal(media.fps, 12)
    assert.equal(media.sprites.length, 3)
    assert.equal(media.heatCells.length, 3)
    // Decode each kept sprite: its reference view's red is 10 x its frame index.
    for (const [k, frame] of media.frames.entries()) {
      const file = path.join(dir, `sprite-${k}.jpg`)
      fs.writeFileSync(file, Buffer.from(media.sprites[k]!, 'base64'))
      const img = await readImage(file)
      assert.deepEqual([img.width, img.height], [w * 3, h])
      const centre = (8 * img.width + 16) * 3
      assert.ok(Math.abs(img.data[centre]! - frame * 10) <= 3, `frame ${frame}: red ${img.data[centre]}`)
      const green = img.data[(8 * img.width + w + 16) * 3 + 1]!
      assert.ok(Math.abs(green - 40) <= 3, `frame ${frame}: test view green ${green}`)
    }
    assert.equal(await new PairRecorder('empty', 4).finish(), undefined)
    const sized = new PairRecorder('resized pair', 4)
    await sized.add(0, flat(w, h, [0, 0, 0]), flat(w, h, [0, 0, 0]), w, h)
    // The recorder's failures never fail the frames being scored: finish() reports them.
    await sized.add(1, flat(16, 16, [0, 0, 0]), flat(16, 16, [0, 0, 0]), 16, 16)
    await assert.rejects(sized.finish(), { code: 'ERR_MISMATCH', message: /resized pair: the frame size changed from 32x16 to 16x16/ })
  })
})
