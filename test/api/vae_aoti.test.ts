// VideoVAE on an AOTInductor bundle ("engine": "aoti"): the same results as the TorchScript
// bundle of the same tiny model through the whole pipeline (chunks, tiles, the image path), and
// each refusal of a bundle this process cannot run, by editing a copy of the manifest.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'

import { libtorchInfo, setNumThreads, Tensor, VideoVAE } from '../../lib/index.js'
import { aotiFixtures, needsPython } from '../native/helpers/aoti_fixtures.js'
import { code, maxAbsDiff } from '../native/helpers/checks.js'
import { tempDir } from '../native/helpers/fixtures.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a manifest the test edits freely
type Manifest = Record<string, any>

/** A copy of the AOTI bundle with its manifest edited by `edit` (loaded with verify: false). */
function editedBundle(edit: (m: Manifest) => void): string {
  const dir = path.join(tempDir(), 'bundle')
  fs.cpSync(aotiFixtures().bundleAoti, dir, { recursive: true })
  const file = path.join(dir, 'manifest.json')
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest
  edit(m)
  fs.writeFileSync(file, JSON.stringify(m))
  return dir
}

describe('VideoVAE on an AOTInductor bundle', { skip: needsPython }, () => {
  let aoti: VideoVAE
  let ts: VideoVAE
  // uint8 frames [B=2, T=8, H=32, W=40, 3] with some structure.
  const video = Tensor.from(
    new Uint8Array(2 * 8 * 32 * 40 * 3).map((_, i) => (i * 37 + (i >> 7) * 11) % 256),
    [2, 8, 32, 40, 3],
    { dtype: 'uint8' },
  )

  before(async () => {
    setNumThreads(2)
    aoti = await VideoVAE.load(aotiFixtures().bundleAoti)
    ts = await VideoVAE.load(aotiFixtures().bundleTs)
  })
  after(() => {
    aoti?.dispose()
    ts?.dispose()
  })

  test('the manifest reads as an aoti bundle', () => {
    assert.equal(aoti.info.engine, 'aoti')
    assert.equal(aoti.info.aoti?.device, 'cpu')
    assert.equal(ts.info.engine, 'torchscript')
    assert.equal(ts.info.aoti, null)
    assert.ok(aoti.stages.every((s) => s.engine === 'aoti'))
  })

  for (const [name, options] of [
    ['whole clip', {}],
    ['chunks of 8 frames, 16-pixel tiles', { chunkFrames: 8, tile: { size: 16, overlap: 8 } }],
    ['the image path', { image: true }],
  ] as const) {
    test(`encode and decode match the TorchScript bundle: ${name}`, async () => {
      const a = await aoti.encode(video, { ...options, posterior: true })
      const b = await ts.encode(video, { ...options, posterior: true })
      assert.ok((await maxAbsDiff(a.mean, b.mean)) < 1e-5, 'mean')
      assert.ok((await maxAbsDiff(a.logvar, b.logvar)) < 1e-5, 'logvar')
      const ra = await aoti.decode(a.latent, options)
      const rb = await ts.decode(a.latent, options)
      assert.ok((await maxAbsDiff(ra, rb)) < 1e-5, 'decode')
      const again = await aoti.decode(a.latent, options)
      assert.equal(await maxAbsDiff(again, ra), 0, 'deterministic run to run')
    })
  }

  test('size 1 on the dynamic dims (B=1; 4 frames: latent T=1; one image) matches the TorchScript bundle', async () => {
    // Inductor compiles dynamic dims for sizes >= 2 and its generated checks refuse 1: they stay off.
    const frames = (t: number) =>
      Tensor.from(
        new Uint8Array(t * 32 * 40 * 3).map((_, i) => (i * 29 + (i >> 6) * 7) % 256),
        [1, t, 32, 40, 3],
        { dtype: 'uint8' },
      )
    for (const [clip, options] of [
      [frames(4), {}],
      [frames(1), { image: true }],
    ] as const) {
      const a = await aoti.encode(clip, { ...options, posterior: true })
      const b = await ts.encode(clip, { ...options, posterior: true })
      assert.equal(a.mean.shape[0], 1)
      assert.equal(a.mean.shape[2], 1)
      assert.ok((await maxAbsDiff(a.mean, b.mean)) < 1e-5, 'mean')
      assert.ok((await maxAbsDiff(a.logvar, b.logvar)) < 1e-5, 'logvar')
      assert.ok((await maxAbsDiff(await aoti.decode(a.latent, options), await ts.decode(a.latent, options))) < 1e-5, 'decode')
    }
  })

  test('each stage checks its inputs against the manifest shapes before it runs', async () => {
    const zeros = (dims: number[], dtype: 'float32' | 'float64' = 'float32') =>
      Tensor.from(dtype === 'float32' ? new Float32Array(dims.reduce((a, b) => a * b)) : new Float64Array(dims.reduce((a, b) => a * b)), dims, { dtype })
    const [spatialEncoder, temporalEncoder] = aoti.stages
    // temporal_encoder x: [k, 4, 4k, k, k]
    await assert.rejects(temporalEncoder!.forward(zeros([1, 4, 6, 2, 2])), code('ERR_SHAPE', /dim 2 does not fit; the package takes \[k, 4, 4k, k, k\]/))
    await assert.rejects(temporalEncoder!.forward(zeros([1, 5, 4, 2, 2])), code('ERR_SHAPE', /dim 1 does not fit/))
    await assert.rejects(temporalEncoder!.forward(zeros([4, 4, 2, 2])), code('ERR_SHAPE', /rank 4/))
    await assert.rejects(temporalEncoder!.forward(zeros([1, 4, 4, 2, 2], 'float64')), code('ERR_DTYPE', /Double, the package takes Float/))
    await assert.rejects(temporalEncoder!.forward(zeros([1, 4, 4, 2, 2]), zeros([1])), code('ERR_ARGUMENT'))
    // spatial_encoder x: [k, 3, k, 8k, 8k]
    await assert.rejects(spatialEncoder!.forward(zeros([1, 3, 1, 8, 12])), code('ERR_SHAPE', /dim 4 does not fit/))
    const out = (await spatialEncoder!.forward(zeros([1, 3, 1, 8, 16]))) as Tensor[]
    assert.equal(out.length, 2)
  })

  test('manifest shapes missing or malformed: ERR_BUNDLE at load', async () => {
    const missing = editedBundle((m) => {
      delete m.aoti.shapes.temporal_decoder
    })
    await assert.rejects(VideoVAE.load(missing, { verify: false }), code('ERR_BUNDLE', /no inputs for package temporal_decoder/))
    const bad = editedBundle((m) => {
      m.aoti.shapes.spatial_encoder.x[2] = '4x'
    })
    await assert.rejects(VideoVAE.load(bad, { verify: false }), code('ERR_BUNDLE', /"4x" is not a size/))
    const count = editedBundle((m) => {
      m.aoti.shapes.spatial_decoder.text_emb = ['k', 100, 1024]
    })
    await assert.rejects(VideoVAE.load(count, { verify: false }), code('ERR_BUNDLE', /2 input spec/))
  })

  test('a bundle without image-path packages refuses the image path only', async () => {
    const dir = editedBundle((m) => {
      delete m.files.spatial_encoder_image
      delete m.files.spatial_decoder_image
    })
    const vae = await VideoVAE.load(dir, { verify: false })
    await assert.rejects(vae.encode(video, { image: true }), code('ERR_UNSUPPORTED', /no image-path package/))
    const latent = await vae.encode(video)
    assert.deepEqual(latent.shape, [2, 4, 2, 4, 5])
    vae.dispose()
  })

  test('the weights side file is what the package runs with; without it the bundle is refused', async () => {
    assert.ok(aoti.info.aoti!.weightFiles.spatial_decoder?.endsWith('spatial_decoder.weights.safetensors'))
    const dir = editedBundle((m) => {
      delete m.files.spatial_decoder_weights
    })
    await assert.rejects(VideoVAE.load(dir, { verify: false }), code('ERR_MODULE', /without its weights/))
  })

  test('kernels for an instruction set this CPU lacks: ERR_CPU_ISA naming the fix', async (t) => {
    const missing = ['amx_tile', 'avx512_bf16', 'avx512', 'avx2'].find((isa) => !libtorchInfo().runtime.cpuIsa.includes(isa))
    if (!missing) return t.skip('this CPU runs every instruction set AOTInductor names')
    const dir = editedBundle((m) => {
      m.aoti.cpu_isa = missing
    })
    await assert.rejects(
      VideoVAE.load(dir, { verify: false }),
      code('ERR_CPU_ISA', /Re-export it on this machine, or export it with a lower instruction-set pin/),
    )
  })

  test('CPU flags the exporter lists (aoti.cpu_flags) that this CPU lacks: ERR_CPU_ISA naming them', async (t) => {
    if (!fs.existsSync('/proc/cpuinfo')) return t.skip('no /proc/cpuinfo here')
    const dir = editedBundle((m) => {
      m.aoti.cpu_flags = ['sse2', 'no_such_cpu_flag']
    })
    await assert.rejects(VideoVAE.load(dir, { verify: false }), code('ERR_CPU_ISA', /no_such_cpu_flag.*Re-export it on this machine/))
  })

  test('packages from another torch release: ERR_BUNDLE naming both versions', async () => {
    const dir = editedBundle((m) => {
      m.aoti.torch_version = '2.12.1+cpu'
    })
    await assert.rejects(VideoVAE.load(dir, { verify: false }), code('ERR_BUNDLE', /torch 2\.12\.1\+cpu.*Re-export/))
  })

  test('CUDA packages: ERR_DEVICE on a CPU-only libtorch or on the cpu device', async () => {
    const dir = editedBundle((m) => {
      m.aoti.device = 'cuda'
    })
    await assert.rejects(VideoVAE.load(dir, { verify: false }), code('ERR_DEVICE', /cuda/i))
  })

  test('a compute dtype other than the exported one: ERR_DTYPE', async () => {
    await assert.rejects(VideoVAE.load(aotiFixtures().bundleAoti, { dtype: 'bfloat16' }), code('ERR_DTYPE', /export a bfloat16 bundle/))
  })

  test('malformed aoti manifests: ERR_BUNDLE', async () => {
    const noRecord = editedBundle((m) => {
      delete m.aoti
    })
    await assert.rejects(VideoVAE.load(noRecord, { verify: false }), code('ERR_BUNDLE', /"aoti"/))
    const engine = editedBundle((m) => {
      m.engine = 'tensorrt'
    })
    await assert.rejects(VideoVAE.load(engine, { verify: false }), code('ERR_BUNDLE', /unknown "engine"/))
    const notPackage = editedBundle((m) => {
      m.files.spatial_encoder = { path: 'manifest.json', sha256: '' }
    })
    await assert.rejects(VideoVAE.load(notPackage, { verify: false }), code('ERR_BUNDLE', /\.pt2/))
  })
})
