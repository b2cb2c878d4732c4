import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { probeVideo, readImage, readVideo, readVideoFrames, writeVideo, type FrameBatch, type VideoFrames } from '../../lib/io/index.js'
import { psnr } from '../../lib/metrics/index.js'
import { frameOf, makeVideo, repoRoot, tempDir } from './helpers.js'

const T = { timeout: 60_000 }
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex')

describe('writeVideo', () => {
  let root: string
  let cleanup: () => void
  // 96x64, 20 frames at 10 fps of smooth colour gradients (testsrc2's one-pixel colour detail
  // does not survive yuv420p: ~34 dB even losslessly coded), decoded from yuv420p.
  let clip: VideoFrames
  let n = 0
  /** A fresh empty directory per test, to check what is left in it. */
  const fresh = (): string => {
    const d = join(root, `case${n++}`)
    mkdirSync(d)
    return d
  }

  before(async () => {
    ;({ dir: root, cleanup } = tempDir())
    const src = makeVideo(join(root, 'src.mp4'), {
      source: 'gradients',
      width: 96,
      height: 64,
      frames: 20,
      codecArgs: ['-c:v', 'libx264', '-crf', '0', '-pix_fmt', 'yuv420p'],
    })
    clip = await readVideoFrames(src)
  })
  after(() => cleanup())

  it('writes an mp4 (libx264 crf 15) that reads back with PSNR > 40', T, async () => {
    const dir = fresh()
    const out = join(dir, 'out.mp4')
    const res = await writeVideo(out, clip)
    assert.deepEqual(res, { path: out, files: [out], frames: 20, width: 96, height: 64 })
    assert.deepEqual(readdirSync(dir), ['out.mp4'], 'no temporary left')
    const info = await probeVideo(out)
    assert.equal(info.codec, 'h264')
    assert.equal(info.pixFmt, 'yuv420p')
    assert.equal(info.fps, 10, 'fps defaults to the batch fps')
    const back = await readVideoFrames(out)
    assert.deepEqual(back.shape, clip.shape)
    for (let f = 0; f < 20; f++) {
      const p = psnr(frameOf(clip.frames, f, 96, 64), frameOf(back.frames, f, 96, 64))
      assert.ok(p > 40, `frame ${f}: PSNR ${p.toFixed(2)} dB`)
    }
  })

  it('streams an async iterable of chunks (readVideo piped into writeVideo)', T, async () => {
    const dir = fresh()
    const out = join(dir, 'piped.mkv')
    const res = await writeVideo(out, readVideo(join(root, 'src.mp4'), { chunkFrames: 3 }), { fps: '30000/1001', crf: 18, preset: 'ultrafast' })
    assert.equal(res.frames, 20)
    const info = await probeVideo(out)
    assert.equal(info.fpsFraction, '30000/1001')
    assert.equal((await readVideoFrames(out)).shape[0], 20)
  })

  it('accepts a sync iterable of batches and other encoders', T, async () => {
    const dir = fresh()
    const out = join(dir, 'lossless.mkv')
    const batches: FrameBatch[] = [0, 1, 2, 3].map((i) => ({
      frames: clip.frames.subarray(i * 5 * 96 * 64 * 3, (i + 1) * 5 * 96 * 64 * 3),
      shape: [5, 64, 96, 3],
    }))
    await writeVideo(out, batches, { codec: 'ffv1', pixFmt: 'bgr0' })
    const back = await readVideoFrames(out)
    assert.deepEqual(Buffer.from(back.frames), Buffer.from(clip.frames), 'ffv1 RGB is lossless')
  })

  it('writes lossless PNG sequences (numbered from startNumber, default 0)', T, async () => {
    const dir = fresh()
    const res = await writeVideo(join(dir, 'frame_%04d.png'), clip)
    assert.equal(res.files.length, 20)
    const names = readdirSync(dir).sort()
    assert.equal(names.length, 20, `only the frames are left: ${names.join(',')}`)
    assert.equal(names[0], 'frame_0000.png')
    assert.equal(names[19], 'frame_0019.png')
    for (const f of [0, 7, 19]) {
      const img = await readImage(join(dir, `frame_${String(f).padStart(4, '0')}.png`))
      assert.equal(img.width, 96)
      assert.equal(img.height, 64)
      assert.deepEqual(Buffer.from(img.data), Buffer.from(frameOf(clip.frames, f, 96, 64)))
    }
    const dir2 = fresh()
    await writeVideo(join(dir2, 'img%d.png'), { frames: frameOf(clip.frames, 0, 96, 64), shape: [1, 64, 96, 3] }, { startNumber: 5 })
    assert.deepEqual(readdirSync(dir2), ['img5.png'])
  })

  it('writes JPEG sequences with the quality option', T, async () => {
    const dir = fresh()
    await writeVideo(join(dir, 'q95_%02d.jpg'), clip, { quality: 95 })
    await writeVideo(join(dir, 'q20_%02d.jpg'), clip, { quality: 20 })
    const ref = frameOf(clip.frames, 3, 96, 64)
    const hi = psnr(ref, (await readImage(join(dir, 'q95_03.jpg'))).data)
    const lo = psnr(ref, (await readImage(join(dir, 'q20_03.jpg'))).data)
    assert.ok(hi > 30, `q95 ${hi.toFixed(2)} dB`)
    assert.ok(hi > lo + 2, `q95 ${hi.toFixed(2)} dB vs q20 ${lo.toFixed(2)} dB`)
  })

  it('a source that fails leaves no file, and an existing file untouched', T, async () => {
    const dir = fresh()
    const out = join(dir, 'out.mp4')
    async function* failing(): AsyncGenerator<FrameBatch> {
      yield { frames: clip.frames.subarray(0, 5 * 96 * 64 * 3), shape: [5, 64, 96, 3] }
      throw new Error('source broke')
    }
    await assert.rejects(writeVideo(out, failing()), /source broke/)
    assert.deepEqual(readdirSync(dir), [])

    await writeVideo(out, clip)
    const good = sha(out)
    await assert.rejects(writeVideo(out, failing()), /source broke/)
    assert.equal(sha(out), good, 'the old file is intact')
    assert.deepEqual(readdirSync(dir), ['out.mp4'])
    assert.equal((await readVideoFrames(out)).shape[0], 20)

    // the same for sequences
    await assert.rejects(writeVideo(join(dir, 'f_%03d.png'), failing()), /source broke/)
    assert.deepEqual(readdirSync(dir), ['out.mp4'])
  })

  it('an ffmpeg failure leaves no file (unknown encoder, odd size for yuv420p)', T, async () => {
    const dir = fresh()
    await assert.rejects(writeVideo(join(dir, 'x.mp4'), clip, { codec: 'no_such_encoder' }), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'ERR_UNSUPPORTED')
      assert.match(err.message, /no_such_encoder/)
      return true
    })
    const odd = { frames: new Uint8Array(2 * 63 * 95 * 3), shape: [2, 63, 95, 3] as const }
    await assert.rejects(writeVideo(join(dir, 'odd.mp4'), odd), { code: 'ERR_UNSUPPORTED' })
    await writeVideo(join(dir, 'odd444.mp4'), odd, { pixFmt: 'yuv444p' })
    assert.deepEqual(readdirSync(dir), ['odd444.mp4'])
  })

  it('validates frames and shapes', T, async () => {
    const dir = fresh()
    const out = join(dir, 'v.mp4')
    await assert.rejects(writeVideo(out, { frames: new Uint8Array(10), shape: [1, 2, 2, 3] }), { code: 'ERR_ARGUMENT' })
    await assert.rejects(writeVideo(out, { frames: new Uint8Array(16), shape: [1, 2, 2, 4] }), { code: 'ERR_ARGUMENT' })
    await assert.rejects(
      writeVideo(out, [
        { frames: new Uint8Array(64 * 64 * 3), shape: [1, 64, 64, 3] },
        { frames: new Uint8Array(32 * 32 * 3), shape: [1, 32, 32, 3] },
      ]),
      { code: 'ERR_ARGUMENT' },
    )
    await assert.rejects(writeVideo(join(dir, 'single.png'), clip), { code: 'ERR_ARGUMENT' })
    await assert.rejects(writeVideo(out, clip, { fps: 0 }), { code: 'ERR_ARGUMENT' })
    await assert.rejects(writeVideo(out, [], {}), { code: 'ERR_NO_FRAMES' })
    await assert.rejects(writeVideo(out, { frames: new Uint8Array(0), shape: [0, 64, 64, 3] }), { code: 'ERR_NO_FRAMES' })
    assert.deepEqual(readdirSync(dir), [])
  })

  it('unwritable destinations fail with ERR_WRITE', T, async () => {
    const dir = fresh()
    await assert.rejects(writeVideo(join(dir, 'missing', 'out.mp4'), clip), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'ERR_WRITE')
      assert.match(err.message, /missing/)
      return true
    })
    writeFileSync(join(dir, 'file'), 'not a directory')
    await assert.rejects(writeVideo(join(dir, 'file', 'out.mp4'), clip), { code: 'ERR_WRITE' })
    await assert.rejects(writeVideo(join(dir, 'file', 'f_%03d.png'), clip), { code: 'ERR_WRITE' })
    assert.deepEqual(readdirSync(dir), ['file'])
  })

  it('overwrite: false refuses an existing file', T, async () => {
    const dir = fresh()
    const out = join(dir, 'v.mp4')
    writeFileSync(out, 'keep me')
    await assert.rejects(writeVideo(out, clip, { overwrite: false }), { code: 'ERR_WRITE' })
    assert.equal(readFileSync(out, 'utf8'), 'keep me')
    assert.deepEqual(readdirSync(dir), ['v.mp4'])
  })

  it('a process exiting mid-write leaves no temporary behind', T, async () => {
    const dir = fresh()
    const script = join(repoRoot(), 'test', 'io', 'fixtures', 'exit_mid_write.ts')
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, dir], { encoding: 'utf8', cwd: repoRoot() })
    assert.equal(r.status, 0, r.stderr)
    const during = JSON.parse(r.stdout) as string[]
    assert.equal(during.length, 2, `temporaries were there during the writes: ${r.stdout}`)
    await new Promise((res) => setTimeout(res, 200))
    assert.deepEqual(readdirSync(dir), [])
  })

  it('abort kills ffmpeg and removes the temporary', T, async () => {
    const dir = fresh()
    const ac = new AbortController()
    let sent = 0
    async function* slow(): AsyncGenerator<FrameBatch> {
      for (;;) {
        yield { frames: clip.frames, shape: clip.shape }
        sent++
        if (sent === 2) ac.abort()
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    await assert.rejects(writeVideo(join(dir, 'v.mp4'), slow(), { signal: ac.signal }), { code: 'ERR_ABORTED' })
    assert.deepEqual(readdirSync(dir), [])
    // a source stuck forever is not waited on
    const ac2 = new AbortController()
    async function* stuck(): AsyncGenerator<FrameBatch> {
      yield { frames: clip.frames, shape: clip.shape }
      await new Promise(() => undefined)
    }
    setTimeout(() => ac2.abort(), 300)
    await assert.rejects(writeVideo(join(dir, 'v.mp4'), stuck(), { signal: ac2.signal }), { code: 'ERR_ABORTED' })
    assert.deepEqual(readdirSync(dir), [])
  })
})
