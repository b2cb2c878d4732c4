// encode -> decode -> reconstruct with the 16z ch32 parity bundle on a small synthetic clip.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { readImage } from '../../lib/io/image.js'
import { readVideoFrames } from '../../lib/io/read_clip.js'
import { psnr } from '../../lib/metrics/index.js'
import { readSafetensors } from '../../lib/safetensors.js'
import { Tensor } from '../../lib/tensor.js'
import { VideoVAE } from '../../lib/vae.js'
import { caseBundle, caseDir, cli, json, listing, makeVideo, needsParity, needsPython, probe, PYTHON, tempDir } from './helpers.js'

const skip = needsParity || needsPython

describe('encode / decode / reconstruct', { skip }, () => {
  const dir = tempDir()
  const bundle = skip ? '' : caseBundle('16z-ch32-video')
  const common = ['--bundle', bundle, '--threads', '2']
  const video = makeVideo(path.join(dir, 'clip.mp4'), { width: 64, height: 64, frames: 8, fps: 8 })
  const latentFile = path.join(dir, 'clip.safetensors')

  it('encode writes the latent with its metadata', async () => {
    const r = cli(['encode', video, '-o', latentFile, ...common, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = json<{ outputs: { output: string; shape: number[] }[]; failed: unknown[] }>(r)
    assert.deepEqual(
      out.outputs.map((o) => o.shape),
      [[1, 16, 2, 8, 8]],
    )
    assert.deepEqual(out.failed, [])

    const { tensors, metadata } = await readSafetensors(latentFile)
    assert.deepEqual(Object.keys(tensors), ['latent'])
    assert.deepEqual(tensors.latent!.shape, [1, 16, 2, 8, 8])
    assert.equal(tensors.latent!.dtype, 'float32')
    const manifestSha = createHash('sha256')
      .update(fs.readFileSync(path.join(bundle, 'manifest.json')))
      .digest('hex')
    assert.deepEqual(
      { ...metadata },
      {
        format: 'videovae-latent',
        format_version: '1',
        bundle_variant: '16z',
        bundle_config: 'config_16z',
        bundle_sha256: manifestSha,
        source: 'clip.mp4',
        fps: '8/1',
        frames: '8',
        width: '64',
        height: '64',
        encoded_width: '64',
        encoded_height: '64',
        padding: '{"frames":0,"right":0,"bottom":0}',
        image: 'false',
        posterior: 'false',
        chunk_frames: '16',
      },
    )
  })

  it('the latent file reads in Python (safetensors)', () => {
    const code = [
      'import json, sys',
      'from safetensors import safe_open',
      "f = safe_open(sys.argv[1], 'pt')",
      "print(json.dumps({'keys': list(f.keys()), 'shape': list(f.get_tensor('latent').shape), 'meta': f.metadata()}))",
    ].join('\n')
    const out = JSON.parse(execFileSync(PYTHON, ['-c', code, latentFile], { encoding: 'utf8' })) as {
      keys: string[]
      shape: number[]
      meta: Record<string, string>
    }
    assert.deepEqual(out.keys, ['latent'])
    assert.deepEqual(out.shape, [1, 16, 2, 8, 8])
    assert.equal(out.meta.frames, '8')
    assert.equal(out.meta.bundle_variant, '16z')
  })

  it('an image-sequence input (--sequence-fps) encodes to the same latent as the video it came from', async () => {
    const frames = path.join(dir, 'frames')
    fs.mkdirSync(frames)
    execFileSync('ffmpeg', ['-v', 'error', '-i', video, '-start_number', '3', path.join(frames, 'f_%03d.png')])
    const seqLatent = path.join(dir, 'seq.safetensors')
    const r = cli(['encode', path.join(frames, 'f_%03d.png'), '--sequence-fps', '8', '-o', seqLatent, ...common, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const fromVideo = await readSafetensors(latentFile)
    const fromSequence = await readSafetensors(seqLatent)
    assert.equal(fromSequence.metadata.fps, '8/1')
    assert.equal(fromSequence.metadata.frames, '8')
    assert.deepEqual(await fromSequence.tensors.latent!.data(), await fromVideo.tensors.latent!.data())

    const missing = cli(['encode', path.join(frames, 'g_%03d.png'), '-o', path.join(dir, 'none.safetensors'), ...common])
    assert.notEqual(missing.code, 0)
    assert.match(missing.stderr, /no file matches the frame-number pattern/)
  })

  it('--max-size caps the read size like the official 1280x720 reader', () => {
    const wide = makeVideo(path.join(dir, 'wide.mp4'), { width: 96, height: 64, frames: 4, fps: 8 })
    const r = cli(['encode', wide, '--max-size', '64x64', '-o', path.join(dir, 'wide.safetensors'), ...common, '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(json<{ outputs: { shape: number[] }[] }>(r).outputs[0]!.shape, [1, 16, 1, 8, 8])
    const bad = cli(['encode', wide, '--max-size', '64', '-o', path.join(dir, 'bad.safetensors'), ...common])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /WxH/)
  })

  it('decode writes an mp4 with the frame count, size and fps of the source', () => {
    const mp4 = path.join(dir, 'decoded.mp4')
    const r = cli(['decode', latentFile, '-o', mp4, ...common, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = json<{ frames: number; width: number; height: number; fps: string }>(r)
    assert.deepEqual([out.frames, out.width, out.height, out.fps], [8, 64, 64, '8/1'])
    assert.deepEqual(probe(mp4), { frames: 8, width: 64, height: 64, fps: '8/1' })
  })

  it('encode --posterior stores mean and logvar; several inputs go to a directory, failures give exit 3', async () => {
    const still = path.join(dir, 'still.png')
    execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=64x48', '-vf', 'scale=61:45', '-frames:v', '1', still])
    const outDir = path.join(dir, 'latents')
    const r = cli(['encode', still, path.join(dir, 'missing.mp4'), '-o', outDir, '--posterior', ...common, '--json'])
    assert.equal(r.code, 3, r.stderr)
    const out = json<{ outputs: { output: string; shape: number[]; image: boolean }[]; failed: { input: string; code: string }[] }>(r)
    assert.deepEqual(
      out.outputs.map((o) => [path.basename(o.output), o.shape, o.image]),
      [['still.safetensors', [1, 16, 1, 6, 8], true]],
    )
    assert.deepEqual(
      out.failed.map((f) => [path.basename(f.input), f.code]),
      [['missing.mp4', 'ERR_NOT_FOUND']],
    )
    assert.match(r.stderr, /^videovae: no such file: .*missing\.mp4 \(ERR_NOT_FOUND\)$/m)
    assert.deepEqual(listing(outDir), ['still.safetensors'])

    const { tensors, metadata } = await readSafetensors(path.join(outDir, 'still.safetensors'))
    assert.deepEqual(Object.keys(tensors).sort(), ['latent', 'logvar', 'mean'])
    assert.equal(metadata.image, 'true')
    assert.equal(metadata.posterior, 'true')
    assert.deepEqual([metadata.width, metadata.height, metadata.encoded_width, metadata.encoded_height], ['61', '45', '64', '48'])
    assert.equal(metadata.padding, '{"frames":0,"right":3,"bottom":3}')

    // Decoding crops the --fit pad padding off again: a 61x45 image.
    const png = path.join(dir, 'still_decoded.png')
    const d = cli(['decode', path.join(outDir, 'still.safetensors'), '-o', png, ...common])
    assert.equal(d.code, 0, d.stderr)
    assert.match(d.stdout, /1 frame\(s\) 61x45/)
    assert.deepEqual([probe(png).width, probe(png).height], [61, 45])
  })

  it('chunked streaming (encode + decode, reconstruct) equals vae.reconstruct({ chunkFrames }) exactly', async () => {
    const clip = makeVideo(path.join(dir, 'ten.mp4'), { width: 48, height: 40, frames: 10, fps: 10 })
    const latent = path.join(dir, 'ten.safetensors')
    const e = cli(['encode', clip, '-o', latent, '--chunk-frames', '8', ...common])
    assert.equal(e.code, 0, e.stderr)
    assert.match(e.stdout, /latent \[1, 16, 3, 5, 6\] from 10 frame\(s\) 48x40/)
    const d = cli(['decode', latent, '-o', path.join(dir, 'dec_%02d.png'), ...common])
    assert.equal(d.code, 0, d.stderr)
    const sbs = path.join(dir, 'sbs.mp4')
    const r = cli(['reconstruct', clip, '-o', path.join(dir, 'rec_%02d.png'), '--side-by-side', sbs, '--chunk-frames', '8', ...common, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const summary = json<{ frames: number; chunkFrames: number; psnr: number; ssim: number; perFrame: { psnr: number[] } }>(r)
    assert.deepEqual([summary.frames, summary.chunkFrames, summary.perFrame.psnr.length], [10, 8, 10])
    assert.deepEqual(probe(sbs), { frames: 10, width: 96, height: 40, fps: '10/1' })

    const vae = await VideoVAE.load(bundle, { threads: 2 })
    const input = await readVideoFrames(clip)
    const video = Tensor.from(input.frames, [1, ...input.shape], { dtype: 'uint8' })
    const expected = (await (await vae.reconstruct(video, { chunkFrames: 8, output: 'uint8' })).data()) as Uint8Array
    vae.dispose()
    const size = 48 * 40 * 3
    const psnrs: number[] = []
    for (let f = 0; f < 10; f++) {
      const want = expected.subarray(f * size, (f + 1) * size)
      const name = String(f).padStart(2, '0')
      assert.deepEqual((await readImage(path.join(dir, `dec_${name}.png`))).data, want, `decoded frame ${f}`)
      assert.deepEqual((await readImage(path.join(dir, `rec_${name}.png`))).data, want, `reconstructed frame ${f}`)
      psnrs.push(psnr(input.frames.subarray(f * size, (f + 1) * size), want))
    }
    assert.deepEqual(summary.perFrame.psnr, psnrs)
    assert.match(cli(['reconstruct', clip, '-o', path.join(dir, 'rec.mp4'), '--chunk-frames', '8', ...common]).stdout, /PSNR \d+\.\d\d dB {2}SSIM -?\d\.\d{4}/)
    assert.deepEqual(probe(path.join(dir, 'rec.mp4')), { frames: 10, width: 48, height: 40, fps: '10/1' })
  })

  it('text bundles: --text-embedding is required, stored in the latent and reused by decode', async () => {
    const textBundle = caseBundle('4z_cap-ch32-video')
    const small = makeVideo(path.join(dir, 'text.mp4'), { width: 32, height: 32, frames: 4, fps: 8 })
    const latent = path.join(dir, 'text.safetensors')
    const missing = cli(['encode', small, '-o', latent, '--bundle', textBundle, '--threads', '2'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /caption-conditioned: pass --text-embedding FILE\.safetensors .*\(ERR_TEXT\)/)
    // The case's tensors.safetensors holds text_emb [1,100,1024] and text_mask [1,100].
    const embeddings = path.join(caseDir('4z_cap-ch32-video'), 'tensors.safetensors')
    const r = cli(['encode', small, '-o', latent, '--bundle', textBundle, '--threads', '2', '--text-embedding', embeddings])
    assert.equal(r.code, 0, r.stderr)
    const { tensors, metadata } = await readSafetensors(latent)
    assert.deepEqual(Object.keys(tensors).sort(), ['latent', 'text_emb', 'text_mask'])
    assert.deepEqual(tensors.latent!.shape, [1, 4, 1, 4, 4])
    assert.equal(metadata.bundle_variant, '4z-text')
    const frames = path.join(dir, 'text_%02d.png')
    const d = cli(['decode', latent, '-o', frames, '--bundle', textBundle, '--threads', '2'])
    assert.equal(d.code, 0, d.stderr)
    assert.deepEqual(
      listing(dir).filter((f) => f.startsWith('text_')),
      ['text_00.png', 'text_01.png', 'text_02.png', 'text_03.png'],
    )
    // A non-text bundle refuses text.
    const refused = cli(['encode', small, '-o', latent, ...common, '--text-embedding', embeddings])
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /takes no caption: drop --text-embedding/)
  })
})
