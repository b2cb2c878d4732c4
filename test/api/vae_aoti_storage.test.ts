// AOTInductor bundles whose weight side files are stored as float16 or int8 + scales
// (manifest aoti.weights_storage, `videovae export --engine aoti --weights-storage`): the
// package runs with the weights as PyTorch rebuilds them (float16 -> float32; int8 * scale in
// float32), the files are smaller, and malformed storage is ERR_BUNDLE. The bundles are the tiny
// fixture bundle with its spatial decoder's side file rewritten by the exporter's own code.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { before, describe, test } from 'node:test'

import { readSafetensors, setNumThreads, Tensor, TorchModule, VideoVAE, writeSafetensors } from '../../lib/index.js'
import { aotiFixtures, needsPython } from '../native/helpers/aoti_fixtures.js'
import { code, maxAbsDiff } from '../native/helpers/checks.js'
import { tempDir } from '../native/helpers/fixtures.js'

const SIDE = 'spatial_decoder.weights.safetensors'

/** The spatial decoder package of a loaded bundle run on the fixture input. */
async function decoderOutput(bundle: string, x: Tensor): Promise<Tensor> {
  const vae = await VideoVAE.load(bundle)
  try {
    const [y] = (await vae.stages[3]!.forward(x)) as Tensor[]
    return y!
  } finally {
    vae.dispose()
  }
}

/** A copy of a storage bundle whose side file is replaced by `tensors` (loaded with verify: false). */
async function withSideFile(bundle: string, tensors: Record<string, Tensor>, edit?: (m: Record<string, Record<string, unknown>>) => void): Promise<string> {
  const dir = path.join(tempDir(), 'bundle')
  fs.cpSync(bundle, dir, { recursive: true })
  await writeSafetensors(path.join(dir, SIDE), tensors)
  if (edit) {
    const file = path.join(dir, 'manifest.json')
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>
    edit(m)
    fs.writeFileSync(file, JSON.stringify(m))
  }
  return dir
}

describe('AOTInductor bundles with float16 or int8 weight storage', { skip: needsPython }, () => {
  let io: Record<string, Tensor>
  before(async () => {
    setNumThreads(2)
    io = (await readSafetensors(aotiFixtures().decoderIo)).tensors
  })

  for (const [storage, bundle, reference] of [
    ['float16', () => aotiFixtures().bundleAotiFloat16, 'y_float16'],
    ['int8-absmax-dim0', () => aotiFixtures().bundleAotiInt8, 'y_int8'],
  ] as const) {
    test(`${storage}: the package runs with the weights PyTorch rebuilds from that storage`, async () => {
      const vae = await VideoVAE.load(bundle())
      assert.equal(vae.info.aoti!.weightsStorage, storage)
      vae.dispose()
      const y = await decoderOutput(bundle(), io.x!)
      const rebuilt = await maxAbsDiff(y, io[reference]!)
      const full = await maxAbsDiff(y, io.y!)
      assert.ok(rebuilt < 1e-5, `${rebuilt} from PyTorch eager with the ${storage} weights`)
      // The stored weights really are the rounded ones: the full-precision result differs.
      assert.ok(full > 1e-4, `only ${full} from the full-precision result`)
    })
  }

  test('the compute-dtype bundle (no weights_storage in its manifest) reads as compute', async () => {
    const vae = await VideoVAE.load(aotiFixtures().bundleAoti)
    assert.equal(vae.info.aoti!.weightsStorage, 'compute')
    vae.dispose()
  })

  test('side files: float16 about half, int8 about a quarter of float32', () => {
    const size = (bundle: string) => fs.statSync(path.join(bundle, SIDE)).size
    const full = size(aotiFixtures().bundleAoti)
    // 768 weights: 3072 bytes of float32; the safetensors header is a few hundred bytes on top.
    assert.ok(size(aotiFixtures().bundleAotiFloat16) < 0.6 * full, `float16 ${size(aotiFixtures().bundleAotiFloat16)} of ${full}`)
    assert.ok(size(aotiFixtures().bundleAotiInt8) < 0.4 * full, `int8 ${size(aotiFixtures().bundleAotiInt8)} of ${full}`)
  })

  test('int8 entries that do not fit, and unknown storage, are ERR_BUNDLE naming them', async () => {
    const { tensors } = await readSafetensors(path.join(aotiFixtures().bundleAotiInt8, SIDE))
    const q = tensors['stage.conv.weight.q']!
    const scale = tensors['stage.conv.weight.scale']!
    const load = (dir: string) => VideoVAE.load(dir, { verify: false })
    // a .q without its .scale
    await assert.rejects(
      load(await withSideFile(aotiFixtures().bundleAotiInt8, { 'stage.conv.weight.q': q })),
      code('ERR_BUNDLE', /"stage\.conv\.weight\.q" has no scale/),
    )
    // a scale per dim-0 slice of another count
    const short = Tensor.from(new Float32Array(scale.numel - 1).fill(0.01), [scale.numel - 1])
    await assert.rejects(
      load(await withSideFile(aotiFixtures().bundleAotiInt8, { 'stage.conv.weight.q': q, 'stage.conv.weight.scale': short })),
      code('ERR_BUNDLE', /'stage\.conv\.weight' has the wrong dtype or shape/),
    )
    // values that are not int8
    const floats = await q.to({ dtype: 'float32' })
    await assert.rejects(
      load(await withSideFile(aotiFixtures().bundleAotiInt8, { 'stage.conv.weight.q': floats, 'stage.conv.weight.scale': scale })),
      code('ERR_BUNDLE', /'stage\.conv\.weight' has the wrong dtype or shape/),
    )
    // int8 values of another shape (the package's byte count does not fit)
    const values = (await q.data()) as Int8Array
    const narrow = Tensor.from(values.slice(0, values.length / 2), [q.shape[0]! / 2, ...q.shape.slice(1)], { dtype: 'int8' })
    const halfScale = Tensor.from(((await scale.data()) as Float32Array).slice(0, scale.numel / 2), [scale.numel / 2])
    await assert.rejects(
      load(await withSideFile(aotiFixtures().bundleAotiInt8, { 'stage.conv.weight.q': narrow, 'stage.conv.weight.scale': halfScale })),
      code('ERR_BUNDLE', /'stage\.conv\.weight' is Float of .* bytes/),
    )
    // an int8 entry for no constant of the package
    await assert.rejects(
      load(await withSideFile(aotiFixtures().bundleAotiInt8, { ...tensors, 'stage.nothing.q': q, 'stage.nothing.scale': scale })),
      code('ERR_BUNDLE', /'stage\.nothing' is not a floating constant/),
    )
    // a storage this version does not know
    const unknown = await withSideFile(aotiFixtures().bundleAotiInt8, tensors, (m) => {
      m.aoti!.weights_storage = 'int4'
    })
    await assert.rejects(load(unknown), code('ERR_BUNDLE', /unknown "weights_storage" "int4"/))
    // the int8 file under a float16 manifest: the pairs are not constants
    const mislabelled = await withSideFile(aotiFixtures().bundleAotiInt8, tensors, (m) => {
      m.aoti!.weights_storage = 'float16'
    })
    await assert.rejects(load(mislabelled), code('ERR_BUNDLE', /is not a constant/))
  })

  test('TorchModule.load of a package: int8 weights as quantizedWeights, float16 ones as constants', async () => {
    const int8 = (await readSafetensors(path.join(aotiFixtures().bundleAotiInt8, SIDE))).tensors
    const net = await TorchModule.load(aotiFixtures().decoder, {
      constants: {},
      quantizedWeights: [{ name: 'stage.conv.weight', values: int8['stage.conv.weight.q']!, scale: int8['stage.conv.weight.scale']! }],
    })
    const [y] = (await net.forward(io.x!)) as Tensor[]
    assert.ok((await maxAbsDiff(y!, io.y_int8!)) < 1e-5)
    net.dispose()
    const f16 = (await readSafetensors(path.join(aotiFixtures().bundleAotiFloat16, SIDE))).tensors
    assert.equal(f16['stage.conv.weight']!.dtype, 'float16')
    const half = await TorchModule.load(aotiFixtures().decoder, { constants: f16 })
    const [z] = (await half.forward(io.x!)) as Tensor[]
    assert.ok((await maxAbsDiff(z!, io.y_float16!)) < 1e-5)
    half.dispose()
    // given twice: as a constant and quantized
    await assert.rejects(
      TorchModule.load(aotiFixtures().decoder, {
        constants: f16,
        quantizedWeights: [{ name: 'stage.conv.weight', values: int8['stage.conv.weight.q']!, scale: int8['stage.conv.weight.scale']! }],
      }),
      code('ERR_BUNDLE', /given twice/),
    )
  })
})
