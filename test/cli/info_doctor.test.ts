// `videovae info` (manifest, latent shape, memory estimate) and `videovae doctor`.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { defaultBundleDir } from '../../lib/index.js'
import { cli, json } from './helpers.js'

// The embedded default model (a 16z bundle): runs without ../shared.
describe('videovae info', () => {
  const bundle = defaultBundleDir()

  it('--size prints the latent shape and a memory estimate', () => {
    const r = cli(['info', '--bundle', bundle, '--size', '16x256x256'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /variant {4}16z \(config_16z\), latent channels 16/)
    assert.match(r.stdout, /input {6}16x256x256 -> latent \[1, 16, 4, 32, 32\], chunks of 16 frame\(s\)/)
    assert.match(r.stdout, /memory {5}~\d+(\.\d)? [MG]B peak/)
  })

  it('--json: manifest, latent shape and the estimate terms', () => {
    const r = cli(['info', '--bundle', bundle, '--size', '10x100x60', '--verify', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = json<{
      bundle: { variant: string; latentChannels: number; sha256: string }
      verified: boolean
      latentShape: number[]
      memoryEstimate: { bytes: Record<string, number>; method: string }
    }>(r)
    assert.equal(out.bundle.variant, '16z')
    assert.equal(out.verified, true)
    assert.match(out.bundle.sha256, /^[0-9a-f]{64}$/)
    // T 10 -> padded to 12 -> 3; H 100 and W 60 padded to 104 and 64.
    assert.deepEqual(out.latentShape, [1, 16, 3, 13, 8])
    const m = out.memoryEstimate.bytes
    assert.deepEqual(Object.keys(m).sort(), ['activations', 'attention', 'frameBuffers', 'runtime', 'total', 'weights'])
    assert.ok(Math.abs(m.total! - (m.weights! + m.runtime! + m.frameBuffers! + m.activations! + m.attention!)) < 1)
    // Chunking lowers the activation term; the default is chunks of 16 frames.
    type Info = { chunkFrames: number; memoryEstimate: { bytes: Record<string, number> } }
    const chunked = json<Info>(cli(['info', '--bundle', bundle, '--size', '64x256x256', '--chunk-frames', '4', '--json']))
    const byDefault = json<Info>(cli(['info', '--bundle', bundle, '--size', '64x256x256', '--json']))
    const whole = json<Info>(cli(['info', '--bundle', bundle, '--size', '64x256x256', '--chunk-frames', '0', '--json']))
    assert.deepEqual([chunked.chunkFrames, byDefault.chunkFrames, whole.chunkFrames], [4, 16, 0])
    assert.equal(chunked.memoryEstimate.bytes.activations! * 4, byDefault.memoryEstimate.bytes.activations)
    assert.equal(chunked.memoryEstimate.bytes.activations! * 16, whole.memoryEstimate.bytes.activations)
  })

  it('--image keeps every frame', () => {
    const out = json<{ latentShape: number[] }>(cli(['info', '--bundle', bundle, '--size', '3x64x48', '--image', '--json']))
    assert.deepEqual(out.latentShape, [1, 16, 3, 8, 6])
  })
})

describe('videovae doctor', () => {
  it('--json has every field', () => {
    const r = cli(['doctor', '--json'])
    assert.ok(r.code === 0 || r.code === 1, r.stderr)
    const d = json<Record<string, any>>(r) // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const key of [
      'videovae',
      'node',
      'packageRoot',
      'addon',
      'libtorch',
      'cuda',
      'threads',
      'ffmpeg',
      'ffprobe',
      'venv',
      'defaultModel',
      'problems',
      'ok',
    ]) {
      assert.ok(key in d, `missing ${key}`)
    }
    assert.equal(d.node.version, process.version)
    assert.equal(d.ok, d.problems.length === 0)
    assert.equal(r.code, d.ok ? 0 : 1)
    // On the development machine the addon and libtorch load.
    assert.equal(d.addon.loaded, true, JSON.stringify(d.addon))
    assert.match(d.addon.path, /videovae\.node$/)
    assert.match(d.addon.buildSystem, /node-gyp|cmake-js/)
    assert.match(d.libtorch.version, /^\d+\.\d+/)
    assert.match(d.libtorch.flavour, /^(cpu|cu\d+|cuda|rocm.*)$/)
    assert.equal(typeof d.cuda.available, 'boolean')
    assert.equal(d.cuda.devices.length, d.cuda.deviceCount)
    assert.ok(Number.isInteger(d.threads.intraOp) && d.threads.intraOp >= 1)
    // A clone loads build/Release, compiled here: its libtorch is the one of its rpath.
    assert.equal(d.libtorch.foundBy, 'rpath')
    assert.match(d.sentencepiece.library, /libsentencepiece\.so/)
    assert.match(d.ffmpeg.path, /ffmpeg$/)
    assert.match(d.ffmpeg.source, /^(PATH|FFMPEG_PATH)$/)
    assert.match(d.ffmpeg.version, /\d/)
    assert.equal(typeof d.venv.present, 'boolean')
    assert.equal(typeof d.defaultModel.present, 'boolean')
  })

  it('prints a readable report', () => {
    const r = cli(['doctor'])
    assert.match(r.stdout, /^libtorch {6}\d/m)
    assert.match(r.stdout, /^ffmpeg {8}\//m)
  })
})
