// Bad input to VideoVAE: each case is a VideoVaeError with a code that names the problem,
// never a crash, and the model keeps working afterwards.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'

import { defaultBundleDir, Tensor, VideoVAE } from '../../lib/index.js'
import { libtorchInfo } from '../../lib/index.js'
import { needsParity, parityBundle, PYTHON } from '../support/parity.js'

const zeros = (shape: number[], dtype: 'float32' | 'uint8' | 'int32' = 'float32'): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1)
  const data = dtype === 'uint8' ? new Uint8Array(n) : dtype === 'int32' ? new Int32Array(n) : new Float32Array(n)
  return Tensor.from(data, shape, { dtype })
}

// The embedded default model (16 latent channels, no text): runs without ../shared.
describe('VideoVAE errors', () => {
  let vae: VideoVAE
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-err-'))
  before(async () => {
    vae = await VideoVAE.load()
  })
  after(() => {
    vae.dispose()
    fs.rmSync(tmp, { recursive: true, force: true })
  })

  test('shapes, dtypes, frame counts, value range and options', async () => {
    await assert.rejects(vae.encode(zeros([3, 8, 32, 32])), { code: 'ERR_SHAPE', message: /\[B,3,T,H,W\]/ })
    await assert.rejects(vae.encode(zeros([1, 3, 8, 32, 32], 'int32')), { code: 'ERR_DTYPE' })
    await assert.rejects(vae.encode(zeros([1, 3, 3, 32, 32])), { code: 'ERR_SHAPE', message: /at least 4 frames/ })
    await assert.rejects(vae.encode(zeros([1, 3, 4, 30, 32])), { code: 'ERR_SHAPE', message: /multiples of 8/ })
    await assert.rejects(vae.encode(zeros([4, 30, 32, 3], 'uint8')), { code: 'ERR_SHAPE' })
    await assert.rejects(vae.encode(zeros([4, 32, 32, 4], 'uint8')), { code: 'ERR_SHAPE', message: /RGB/ })
    const bright = Tensor.from(new Float32Array(3 * 4 * 32 * 32).fill(0.5).fill(255, 0, 10), [1, 3, 4, 32, 32])
    await assert.rejects(vae.encode(bright), { code: 'ERR_RANGE', message: /\[-1, 1\]/ })
    await assert.rejects(vae.encode(zeros([1, 3, 8, 32, 32]), { chunkFrames: 6 }), { code: 'ERR_ARGUMENT', message: /chunkFrames/ })
    await assert.rejects(vae.encode(zeros([1, 3, 8, 32, 32]), { tile: { size: 20 } }), { code: 'ERR_ARGUMENT', message: /tile/ })
    await assert.rejects(vae.encode(zeros([1, 3, 8, 32, 32]), { tile: { size: 32, overlap: 32 } }), { code: 'ERR_ARGUMENT' })
    await assert.rejects(vae.decode(zeros([1, 4, 2, 4, 4])), { code: 'ERR_SHAPE', message: /16/ })
    await assert.rejects(vae.decode(zeros([1, 16, 2, 4, 4]), { frames: 0 }), { code: 'ERR_ARGUMENT' })
    // Still healthy afterwards.
    const ok = await vae.encode(zeros([1, 3, 4, 32, 32]))
    assert.deepEqual(ok.shape, [1, 16, 1, 4, 4])
  })

  test('disposed inputs and models', async () => {
    const t = zeros([1, 3, 4, 32, 32])
    t.dispose()
    await assert.rejects(vae.encode(t), { code: 'ERR_DISPOSED' })
    const other = await VideoVAE.load()
    other.dispose()
    other.dispose() // idempotent
    await assert.rejects(other.encode(zeros([1, 3, 4, 32, 32])), { code: 'ERR_DISPOSED' })
    assert.throws(() => other.stages, { code: 'ERR_DISPOSED' })
  })

  test('bundles: missing, malformed, tampered', async () => {
    await assert.rejects(VideoVAE.load(path.join(tmp, 'nope')), { code: 'ERR_BUNDLE', message: /manifest\.json/ })
    const copy = path.join(tmp, 'copy')
    fs.cpSync(defaultBundleDir(), copy, { recursive: true })
    const file = path.join(copy, 'temporal_decoder.pt')
    const bytes = fs.readFileSync(file)
    bytes[bytes.length - 100] ^= 0xff
    fs.writeFileSync(file, bytes)
    await assert.rejects(VideoVAE.load(copy), { code: 'ERR_BUNDLE', message: /temporal_decoder\.pt.*does not match/ })
    fs.writeFileSync(path.join(copy, 'manifest.json'), '{ not json')
    await assert.rejects(VideoVAE.load(copy), { code: 'ERR_BUNDLE', message: /not valid JSON/ })
    fs.writeFileSync(path.join(copy, 'manifest.json'), JSON.stringify({ format_version: 99 }))
    await assert.rejects(VideoVAE.load(copy), { code: 'ERR_BUNDLE', message: /format 99/ })
  })

  test('a bundle from a newer torch, with an op this libtorch lacks, names both versions', async () => {
    const copy = path.join(tmp, 'newer')
    fs.cpSync(defaultBundleDir(), copy, { recursive: true })
    // The first aten call in the archive's code renamed to an op no libtorch has, same length.
    execFileSync(PYTHON, [
      '-c',
      String.raw`
import re, sys, zipfile
path = sys.argv[1]
entries = [(i, zipfile.ZipFile(path).read(i.filename)) for i in zipfile.ZipFile(path).infolist()]
done = False
with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
    for info, data in entries:
        if not done and "/code/" in info.filename and info.filename.endswith(".py"):
            data, n = re.subn(rb"torch\.(\w+)\(", lambda m: b"torch." + b"q" * len(m.group(1)) + b"(", data, count=1)
            done = n == 1
        z.writestr(info, data)
assert done
`,
      path.join(copy, 'temporal_decoder.pt'),
    ])
    const manifest = JSON.parse(fs.readFileSync(path.join(copy, 'manifest.json'), 'utf8'))
    manifest.torch_version = '99.1.0+cpu'
    fs.writeFileSync(path.join(copy, 'manifest.json'), JSON.stringify(manifest))
    const loaded = libtorchInfo().runtime.torchVersion
    await assert.rejects(VideoVAE.load(copy, { verify: false }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_MODULE')
      assert.match(error.message, /temporal_decoder\.pt' is not a readable TorchScript archive: Unknown builtin op: aten::q+/)
      assert.ok(error.message.includes(`exported with torch 99.1.0+cpu, newer than the libtorch ${loaded}`), error.message)
      return true
    })
    // The same archive from a torch no newer than this one: libtorch's message alone.
    manifest.torch_version = loaded
    fs.writeFileSync(path.join(copy, 'manifest.json'), JSON.stringify(manifest))
    await assert.rejects(VideoVAE.load(copy, { verify: false }), (error: Error) => !/exported with torch/.test(error.message))
  })
})

// A text bundle comes only from the parity fixtures.
describe('VideoVAE text errors', { skip: needsParity }, () => {
  let textVae: VideoVAE
  let plainVae: VideoVAE
  before(async () => {
    textVae = await VideoVAE.load(parityBundle('4z_cap-ch32-video'))
    plainVae = await VideoVAE.load()
  })
  after(() => {
    textVae.dispose()
    plainVae.dispose()
  })

  test('text: required by text bundles, refused by the others, checked for width', async () => {
    const video = zeros([1, 3, 4, 32, 32])
    await assert.rejects(textVae.encode(video), { code: 'ERR_TEXT', message: /textEmbedding/ })
    await assert.rejects(plainVae.encode(video, { textEmbedding: zeros([1, 100, 1024]) }), { code: 'ERR_TEXT', message: /takes no text/ })
    await assert.rejects(textVae.encode(video, { textEmbedding: zeros([1, 100, 512]) }), { code: 'ERR_TEXT', message: /1024/ })
    await assert.rejects(textVae.encode(video, { textEmbedding: zeros([1, 100, 1024]), textMask: zeros([1, 99]) }), { code: 'ERR_TEXT', message: /textMask/ })
    const latent = await textVae.encode(video, { textEmbedding: zeros([1, 100, 1024]), textMask: zeros([1, 100]) })
    assert.deepEqual(latent.shape, [1, 4, 1, 4, 4])
  })
})
