// Hostile media through the command (issue 27): playlists and concat lists disguised as .mp4 are
// refused unless --trusted-input; a tiny file of huge frames fails with ERR_LIMIT from the probe,
// before ffmpeg decodes a frame; batch records both in failures.jsonl and goes on.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'

import { byteSizeArg } from '../../lib/cli/options.js'
import { Tensor, writeSafetensors } from '../../lib/index.js'
import { cli, json, makeVideo, tempDir } from './helpers.js'

const T = { timeout: 120_000 }

/** 4 frames of 4096x4096 solid colour: ~50 KB of H.264 whose untiled encode is estimated at ~130 GB. */
function makeHuge(file: string): string {
  execFileSync('ffmpeg', [
    '-nostdin',
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'color=c=red:s=4096x4096:r=4',
    '-frames:v',
    '4',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-threads',
    '1',
    file,
  ])
  return file
}

/** An ffmpeg that records its arguments and fails: any decode through it shows in the log. */
function spyFfmpeg(dir: string): { env: NodeJS.ProcessEnv; calls: () => string } {
  const log = path.join(dir, 'ffmpeg-calls.log')
  const spy = path.join(dir, 'ffmpeg-spy')
  fs.writeFileSync(spy, `#!/bin/sh\necho "$@" >> '${log}'\nexit 3\n`, { mode: 0o755 })
  return { env: { FFMPEG_PATH: spy }, calls: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '') }
}

function jsonl<T>(file: string): T[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T)
}

describe('videovae and hostile media', () => {
  const dir = tempDir()
  const clip = makeVideo(path.join(dir, 'clip.mp4'), { width: 32, height: 32, frames: 8 })
  const hls = path.join(dir, 'upload.mp4')
  fs.writeFileSync(hls, `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1,\n${clip}\n#EXT-X-ENDLIST\n`)
  const huge = makeHuge(path.join(dir, 'huge.mp4'))

  test('encode: an HLS playlist named .mp4 is refused (exit 1, nothing written); --trusted-input reads it', T, () => {
    const out = path.join(dir, 'hls.safetensors')
    const r = cli(['encode', hls, '-o', out])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /format 'hls'.*--trusted-input.*\(ERR_FORMAT_NOT_ALLOWED\)/)
    assert.equal(fs.existsSync(out), false)
    const ok = json<{ outputs: { frames: number }[] }>(cli(['encode', hls, '-o', out, '--trusted-input', '--json']))
    assert.equal(ok.outputs[0]!.frames, 8)
  })

  test('encode: 4 frames of 4096x4096 fail fast with ERR_LIMIT and a tile size, before ffmpeg decodes anything', T, () => {
    const spy = spyFfmpeg(dir)
    const out = path.join(dir, 'huge.safetensors')
    const r = cli(['encode', huge, '-o', out], { env: spy.env })
    assert.equal(r.code, 1, r.stderr)
    assert.match(
      r.stderr,
      /huge\.mp4 \(4x4096x4096, chunks of 16 frames\) needs an estimated [\d.]+ GB, above the memory limit of [\d.]+ GB; run it in tiles \(--tile \d+\).*--memory-limit 132GB.*\(ERR_LIMIT\)/,
    )
    assert.equal(spy.calls(), '', 'ffmpeg was started')
    assert.equal(fs.existsSync(out), false)
    // reconstruct checks the same way, here under a limit that refuses even the small clip.
    const rec = cli(['reconstruct', clip, '-o', path.join(dir, 'clip_out.mp4'), '--memory-limit', '100MB'], { env: spy.env })
    assert.equal(rec.code, 1)
    assert.match(rec.stderr, /clip\.mp4 \(8x32x32.*above the memory limit of 100 MB.*\(ERR_LIMIT\)/)
    assert.equal(spy.calls(), '')
  })

  test('decode: a small latent of huge frames fails with ERR_LIMIT and a tile size, nothing written', T, async () => {
    const file = path.join(dir, 'big.latent.safetensors')
    const latent = Tensor.from(new Float32Array(16 * 256 * 256), [1, 16, 1, 256, 256])
    await writeSafetensors(file, { latent })
    latent.dispose()
    const out = path.join(dir, 'big_out.mp4')
    const r = cli(['decode', file, '-o', out])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /\(4x2048x2048\) needs an estimated .* run it in tiles \(--tile \d+\).*\(ERR_LIMIT\)/)
    assert.equal(fs.existsSync(out), false)
  })

  test('--memory-limit sizes', () => {
    assert.equal(byteSizeArg('16GB'), 16 * 2 ** 30)
    assert.equal(byteSizeArg('512mib'), 512 * 2 ** 20)
    assert.equal(byteSizeArg('1.5G'), 1.5 * 2 ** 30)
    assert.equal(byteSizeArg('0'), false)
    assert.equal(byteSizeArg('none'), false)
    for (const bad of ['16', '-1GB', 'lots', '']) assert.throws(() => byteSizeArg(bad), /8GB or 512MB/)
  })

  test('batch: the hostile items fail in failures.jsonl, the rest is encoded; --trusted-input opts in', T, () => {
    const manifest = path.join(dir, 'items.jsonl')
    const lines = [
      { id: 'good', path: clip },
      { id: 'hls', path: hls },
      { id: 'huge', path: huge },
    ]
    fs.writeFileSync(manifest, lines.map((l) => JSON.stringify(l)).join('\n') + '\n')
    const out = path.join(dir, 'latents')
    const r = cli(['batch', manifest, '-o', out, '--json'])
    assert.equal(r.code, 3, r.stderr)
    const failures = jsonl<{ id: string; code: string }>(path.join(out, 'failures.jsonl'))
    assert.deepEqual(failures.map((f) => [f.id, f.code]).sort(), [
      ['hls', 'ERR_FORMAT_NOT_ALLOWED'],
      ['huge', 'ERR_LIMIT'],
    ])
    assert.deepEqual(
      jsonl<{ id: string }>(path.join(out, 'index.jsonl')).map((e) => e.id),
      ['good'],
    )
    // Trusting the playlist commits it on the rerun; the huge item stays refused.
    const again = cli(['batch', manifest, '-o', out, '--trusted-input', '--json'])
    assert.equal(again.code, 3, again.stderr)
    assert.deepEqual(
      jsonl<{ id: string }>(path.join(out, 'failures.jsonl')).map((f) => f.id),
      ['huge'],
    )
    assert.deepEqual(
      jsonl<{ id: string }>(path.join(out, 'index.jsonl'))
        .map((e) => e.id)
        .sort(),
      ['good', 'hls'],
    )
  })
})
