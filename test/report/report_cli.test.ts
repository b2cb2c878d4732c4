// `videovae eval --report`: the page embeds exactly the --json result, loads nothing from outside,
// covers directories (index, failed pairs) and image pairs, and is never left half-written.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { PAIR_FRAME_BUDGET } from '../../lib/report/index.js'
import { cli, json, listing, makeVideo, tempDir } from '../cli/helpers.js'
import { degrade, reportData } from './helpers.js'

describe('eval --report', () => {
  const dir = tempDir()
  const a = makeVideo(path.join(dir, 'a.mp4'), { width: 48, height: 32, frames: 6 })
  const b = degrade(a, path.join(dir, 'b.mp4'))

  it('embeds the --json result as is, and nothing loads from outside the file', () => {
    const report = path.join(dir, 'one.html')
    const r = cli(['eval', a, b, '--json', '--report', report])
    assert.equal(r.code, 0, r.stderr)
    const out = json<{ pairs: { perFrame: { psnr: number[]; ssim: number[] } }[]; report: string }>(r)
    assert.equal(out.report, report)
    assert.equal(out.pairs[0]!.perFrame.psnr.length, 6)
    assert.ok(
      out.pairs[0]!.perFrame.psnr.every((v) => v > 20 && v < 50),
      String(out.pairs[0]!.perFrame.psnr),
    )
    const { result, media } = reportData(report)
    assert.deepEqual(result, out)
    assert.equal(media.index, false)
    assert.equal(media.pairs.length, 1)
    assert.deepEqual(media.pairs[0]!.frames, [0, 1, 2, 3, 4, 5])
    assert.equal(media.pairs[0]!.result, '/pairs/0')
    assert.match(media.transcript, /^PSNR \d+\.\d{4} dB {2}SSIM 0\.\d{4} {2}\(6 frames\)\n$/)
    const html = fs.readFileSync(report, 'utf8')
    assert.doesNotMatch(html, /<link|<img|<iframe|src=["']?(https?:|\/\/)|url\(|@import/i)
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/)
  })

  it('directories: an index of pairs, failed pairs listed, image pairs with one frame', () => {
    const ref = path.join(dir, 'ref')
    const rec = path.join(dir, 'rec')
    fs.mkdirSync(ref)
    fs.mkdirSync(rec)
    fs.copyFileSync(a, path.join(ref, '1.mp4'))
    fs.copyFileSync(b, path.join(rec, '1_rec.mp4'))
    execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', a, '-frames:v', '1', path.join(ref, '2.png')])
    execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', b, '-frames:v', '1', path.join(rec, '2_rec.png')])
    fs.copyFileSync(a, path.join(ref, '3.mp4'))
    makeVideo(path.join(rec, '3_rec.mp4'), { width: 48, height: 32, frames: 3 }) // too short: fails
    const report = path.join(dir, 'dirs.html')
    const r = cli(['eval', ref, rec, '--json', '--report', report])
    assert.equal(r.code, 3, r.stderr)
    const { result, media } = reportData(report)
    assert.deepEqual(result, json(r))
    assert.equal(media.index, true)
    assert.deepEqual(
      media.pairs.map((p) => [p.name, (p.frames as number[]).length, p.result]),
      [
        ['1.mp4 ~ 1_rec.mp4', 6, '/pairs/0'],
        ['2.png ~ 2_rec.png', 1, '/pairs/1'],
      ],
    )
    assert.deepEqual(
      (result.failed as { code: string }[]).map((f) => f.code),
      ['ERR_MISMATCH'],
    )
    assert.match(
      media.transcript,
      /1\.mp4 ~ 1_rec\.mp4: PSNR .*\n2\.png ~ 2_rec\.png: PSNR .*\nmean over 7 frames of 2 pair\(s\).*\n1 of 3 pair\(s\) failed\n$/,
    )
  })

  it('a clip longer than the page budget: every 2nd frame in the player, every frame on the curves', () => {
    const long = makeVideo(path.join(dir, 'long.mp4'), { width: 32, height: 16, frames: PAIR_FRAME_BUDGET + 60, fps: 25 })
    const report = path.join(dir, 'long.html')
    const r = cli(['eval', long, long, '--json', '--report', report])
    assert.equal(r.code, 0, r.stderr)
    const { result, media } = reportData(report)
    const pair = media.pairs[0]!
    assert.equal((result.pairs as { perFrame: { psnr: number[] } }[])[0]!.perFrame.psnr.length, PAIR_FRAME_BUDGET + 60)
    assert.equal(pair.stride, 2)
    assert.deepEqual(
      pair.frames,
      Array.from({ length: (PAIR_FRAME_BUDGET + 60) / 2 }, (_, i) => i * 2),
    )
    assert.equal((pair.sprites as string[]).length, (PAIR_FRAME_BUDGET + 60) / 2)
    assert.equal(pair.fps, 25)
  })

  it('a report that cannot be made fails the run (ERR_REPORT); it is not counted as a failed pair', () => {
    const ref = path.join(dir, 'ref2')
    const rec = path.join(dir, 'rec2')
    fs.mkdirSync(ref)
    fs.mkdirSync(rec)
    for (const n of ['1', '2']) {
      fs.copyFileSync(a, path.join(ref, `${n}.mp4`))
      fs.copyFileSync(b, path.join(rec, `${n}_rec.mp4`))
    }
    // An ffmpeg that fails only as the report's JPEG encoder (image2pipe of mjpeg).
    const fake = path.join(dir, 'ffmpeg-no-mjpeg')
    const real = execFileSync('sh', ['-c', 'command -v ffmpeg'], { encoding: 'utf8' }).trim()
    fs.writeFileSync(fake, `#!/bin/sh\ncase "$*" in *mjpeg*image2pipe*) echo "mjpeg encoder broken" >&2; exit 1;; esac\nexec ${real} "$@"\n`, { mode: 0o755 })
    const out = path.join(dir, 'broken')
    fs.mkdirSync(out)
    const r = cli(['eval', ref, rec, '--json', '--report', path.join(out, 'r.html')], { env: { FFMPEG_PATH: fake } })
    assert.equal(r.code, 1, r.stderr)
    const { error } = json<{ error: { code: string; message: string } }>(r)
    assert.equal(error.code, 'ERR_REPORT')
    assert.match(error.message, /^cannot make the report .*r\.html: .*1\.mp4 .*mjpeg encoder broken/)
    assert.deepEqual(listing(out), [])
  })

  it('bad --report paths fail before any work; a failed run leaves no page and no temporary', () => {
    const clash = cli(['eval', a, b, '--report', b])
    assert.equal(clash.code, 2)
    assert.match(clash.stderr, /--report .*b\.mp4 would overwrite .*b\.mp4 \(ERR_USAGE\)/)
    const missing = cli(['eval', a, b, '--report', path.join(dir, 'no', 'such', 'dir', 'r.html')])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /does not exist \(ERR_OUTPUT\)/)

    const out = path.join(dir, 'failed')
    fs.mkdirSync(out)
    const short = makeVideo(path.join(dir, 'short.mp4'), { width: 48, height: 32, frames: 3 })
    const failed = cli(['eval', a, short, '--report', path.join(out, 'r.html')])
    assert.equal(failed.code, 1)
    assert.match(failed.stderr, /frame counts differ/)
    assert.deepEqual(listing(out), [])
  })
})
