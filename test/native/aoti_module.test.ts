// TorchModule.load of an AOTInductor package (.pt2): outputs against PyTorch eager, weights handed
// over at load (load_constants), a runner pool under concurrent calls, the input specs checked
// before each run (size 1 included), the CPU instruction-set check, and the loader's temp directory going away with the module.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { before, describe, test } from 'node:test'

import { readSafetensors, setNumThreads, Tensor, TorchModule, type ModuleResult } from '../../lib/index.js'
import { aotiFixtures, needsPython } from './helpers/aoti_fixtures.js'
import { code, maxAbsDiff } from './helpers/checks.js'
import { tempDir } from './helpers/fixtures.js'

const bytes = async (t: Tensor): Promise<Buffer> => {
  const d = (await t.data()) as Float32Array
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength)
}

describe('AOTInductor packages in TorchModule', { skip: needsPython }, () => {
  let io: Record<string, Tensor>
  let weights: Record<string, Tensor>
  before(async () => {
    setNumThreads(2)
    io = (await readSafetensors(aotiFixtures().decoderIo)).tensors
    weights = (await readSafetensors(aotiFixtures().decoderWeights)).tensors
  })

  test('a package exported without its weights runs with them handed over, like PyTorch eager', async () => {
    const net = await TorchModule.load(aotiFixtures().decoder, { constants: weights })
    assert.equal(net.engine, 'aoti')
    assert.deepEqual(net.methods, ['forward'])
    const out = (await net.forward(io.x!)) as Tensor[]
    assert.equal(out.length, 1)
    const y = out[0]!
    assert.deepEqual(y.shape, io.y!.shape)
    // Inductor may fuse and reorder float math: close to eager, not necessarily bit-exact.
    assert.ok((await maxAbsDiff(y, io.y!)) < 1e-5, 'y differs from PyTorch eager')
    // Deterministic run to run.
    const [again] = (await net.forward(io.x!)) as Tensor[]
    assert.ok((await bytes(again!)).equals(await bytes(y)), 'a second run differs')
    net.dispose()
  })

  test('the weights are copied at load: disposing them afterwards changes nothing', async () => {
    const own = (await readSafetensors(aotiFixtures().decoderWeights)).tensors
    const net = await TorchModule.load(aotiFixtures().decoder, { constants: own })
    for (const t of Object.values(own)) t.dispose()
    const [y] = (await net.forward(io.x!)) as Tensor[]
    assert.ok((await maxAbsDiff(y!, io.y!)) < 1e-5)
    net.dispose()
  })

  test('concurrent calls share the runner pool and all get the right answer', async () => {
    const net = await TorchModule.load(aotiFixtures().decoder, { constants: weights, runners: 2 })
    const results = await Promise.all(Array.from({ length: 6 }, () => net.forward(io.x!)))
    for (const r of results as Tensor[][]) assert.ok((await maxAbsDiff(r[0]!, io.y!)) < 1e-5)
    net.dispose()
  })

  test('a package without its weights is refused at load (running it would crash)', async () => {
    await assert.rejects(TorchModule.load(aotiFixtures().decoder), (e: unknown) => code('ERR_MODULE')(e) && /without its weights/.test((e as Error).message))
  })

  test('weights that do not fit the package are refused before they reach it (it does not check them)', async () => {
    const weight = weights['stage.conv.weight']!
    const load = (constants: Record<string, Tensor>) => TorchModule.load(aotiFixtures().decoder, { constants })
    await assert.rejects(load({ ...weights, 'no.such.weight': weight }), code('ERR_BUNDLE'))
    await assert.rejects(
      load({ 'stage.conv.weight': await weight.to({ dtype: 'float64' }) }),
      (e: unknown) => code('ERR_BUNDLE')(e) && /expects Float/.test((e as Error).message),
    )
    // (a constant whose recorded storage is up to 63 bytes larger is handed over padded: the
    // package records storage bytes, e.g. 64 for a 3-value bias; 64 bytes short is refused)
    const short = Tensor.from(new Float32Array(weight.numel - 16), [weight.numel - 16])
    await assert.rejects(load({ 'stage.conv.weight': short }), (e: unknown) => code('ERR_BUNDLE')(e) && /bytes/.test((e as Error).message))
  })

  // The decoder's inputs: [z [B,4,T,h,w]], every dim but the channels dynamic.
  const inputs = [{ name: 'x', shape: ['k', 4, 'k', 'k', 'k'] }]
  const filled = (dims: number[], f: (i: number) => number = (i) => Math.sin(i)) =>
    Tensor.from(
      new Float32Array(dims.reduce((a, b) => a * b)).map((_, i) => f(i)),
      dims,
    )

  test('size 1 runs on every dynamic dim, even with the generated checks asked for in the environment', async () => {
    // Inductor compiles dynamic dims for sizes >= 2 and its generated checks refuse 1; the
    // packages compute size 1 correctly, so the addon keeps those checks off.
    process.env.AOTI_RUNTIME_CHECK_INPUTS = '1'
    const net = await TorchModule.load(aotiFixtures().decoder, { constants: weights, inputs })
    delete process.env.AOTI_RUNTIME_CHECK_INPUTS
    const one = filled([1, 4, 1, 1, 1])
    const [y1] = (await net.forward(one)) as Tensor[]
    assert.deepEqual(y1!.shape, [1, 3, 1, 8, 8])
    // The same item twice in a batch of 2 (sizes the package is compiled for): both halves equal it.
    const two = filled([2, 4, 1, 1, 1], (i) => Math.sin(i % 4))
    const [y2] = (await net.forward(two)) as Tensor[]
    const a = (await y1!.data()) as Float32Array
    const b = (await y2!.data()) as Float32Array
    let max = 0
    for (let i = 0; i < b.length; i++) max = Math.max(max, Math.abs(b[i]! - a[i % a.length]!))
    assert.ok(max < 1e-5, `size 1 differs from the batch of 2 by ${max}`)
    net.dispose()
  })

  test('inputs that do not fit the specs get coded errors before the package runs', async () => {
    const net = await TorchModule.load(aotiFixtures().decoder, { constants: weights, inputs })
    const x64 = await io.x!.to({ dtype: 'float64' })
    await assert.rejects(net.forward(x64), (e: unknown) => code('ERR_DTYPE')(e) && /input 0 \(x\).*Double, the package takes Float/.test((e as Error).message))
    const shape = (dims: number[], words: RegExp) =>
      assert.rejects(net.forward(filled(dims)), (e: unknown) => code('ERR_SHAPE')(e) && words.test((e as Error).message))
    await shape([2, 5, 2, 2, 2], /dim 1 does not fit; the package takes \[k, 4, k, k, k\]/) // 5 channels, not 4
    await shape([2, 4, 2, 2], /rank 4/)
    await shape([2, 4, 2, 2, 2, 1], /rank 6/)
    await shape([2, 4, 0, 2, 2], /dim 2 does not fit/) // empty: k is any size >= 1
    await assert.rejects(net.forward(io.x!, io.x!), code('ERR_ARGUMENT'))
    await assert.rejects(net.forward(1 as unknown as Tensor), code('ERR_ARGUMENT'))
    await assert.rejects(net.call('other', io.x!), code('ERR_MODULE'))
    // Still works afterwards.
    const [y] = (await net.forward(io.x!)) as ModuleResult[] as Tensor[]
    assert.ok((await maxAbsDiff(y!, io.y!)) < 1e-5)
    net.dispose()
  })

  test('multiples in the specs; bad specs are argument errors', async () => {
    const net = await TorchModule.load(aotiFixtures().decoder, { constants: weights, inputs: [{ shape: ['k', 4, '4k', 'k', 'k'], dtype: 'float32' }] })
    await assert.rejects(
      net.forward(filled([1, 4, 6, 1, 1])),
      (e: unknown) => code('ERR_SHAPE')(e) && /dim 2 does not fit; the package takes \[k, 4, 4k, k, k\]/.test((e as Error).message),
    )
    const [y] = (await net.forward(filled([1, 4, 8, 1, 1]))) as Tensor[]
    assert.deepEqual(y!.shape, [1, 3, 8, 8, 8])
    net.dispose()
    const load = (specs: unknown) => TorchModule.load(aotiFixtures().decoder, { constants: weights, inputs: specs as typeof inputs })
    await assert.rejects(load([{ shape: ['k', 4, 'x', 'k', 'k'] }]), (e: unknown) => code('ERR_ARGUMENT')(e) && /"x" is not a size/.test((e as Error).message))
    await assert.rejects(load([{ shape: ['k', 0, 'k', 'k', 'k'] }]), code('ERR_ARGUMENT'))
    await assert.rejects(load([{ shape: ['k', 4, 'k', 'k', 'k'], dtype: 'float33' }]), code('ERR_ARGUMENT'))
    await assert.rejects(
      load([...inputs, ...inputs]),
      (e: unknown) => code('ERR_ARGUMENT')(e) && /takes 1 input\(s\), 2 input spec\(s\)/.test((e as Error).message),
    )
    await assert.rejects(TorchModule.load(path.join(aotiFixtures().dir, 'bundle-ts', 'spatial_decoder.pt'), { inputs }), code('ERR_ARGUMENT'))
  })

  test('without specs: the count, device and floating dtype are still checked', async () => {
    const net = await TorchModule.load(aotiFixtures().decoder, { constants: weights })
    await assert.rejects(net.forward(await io.x!.to({ dtype: 'float64' })), code('ERR_DTYPE'))
    await assert.rejects(net.forward(io.x!, io.x!), code('ERR_ARGUMENT'))
    const [y] = (await net.forward(io.x!)) as Tensor[]
    assert.ok((await maxAbsDiff(y!, io.y!)) < 1e-5)
    net.dispose()
  })

  test('options that only TorchScript takes, or bad runner counts, are argument errors', async () => {
    await assert.rejects(TorchModule.load(aotiFixtures().decoder, { constants: weights, dtype: 'bfloat16' }), code('ERR_ARGUMENT'))
    await assert.rejects(TorchModule.load(aotiFixtures().decoder, { constants: weights, runners: 0 }), code('ERR_ARGUMENT'))
    await assert.rejects(TorchModule.load(path.join(aotiFixtures().dir, 'missing.pt2')), code('ERR_NOT_FOUND'))
    const junk = path.join(tempDir(), 'junk.pt2')
    fs.writeFileSync(junk, 'not a zip')
    await assert.rejects(TorchModule.load(junk), code('ERR_MODULE'))
  })

  const child = (env: Record<string, string>): Record<string, unknown> =>
    JSON.parse(
      execFileSync(
        process.execPath,
        ['--import', 'tsx', path.join(__dirname, 'fixtures', 'aoti_child.ts'), aotiFixtures().decoder, aotiFixtures().decoderWeights],
        {
          encoding: 'utf8',
          env: { ...process.env, ...env },
        },
      ),
    ) as Record<string, unknown>

  test('the loader extracts into TMPDIR and removes its directory on dispose', () => {
    const out = child({ TMPDIR: tempDir() })
    assert.equal(out.code, null, String(out.message))
    assert.equal((out.whileLoaded as string[]).length, 1, 'one extraction directory while loaded')
    assert.deepEqual(out.afterDispose, [], 'removed on dispose')
  })

  test('kernels for an instruction set this CPU may not use are refused with ERR_CPU_ISA', (t) => {
    const isa = (JSON.parse(fs.readFileSync(path.join(aotiFixtures().bundleAoti, 'manifest.json'), 'utf8')) as { aoti: { cpu_isa: string } }).aoti.cpu_isa
    if (isa === 'none') return t.skip('the fixtures were compiled without a vector instruction set here')
    // ATEN_CPU_CAPABILITY=default caps libtorch (and so the addon's check) at scalar code.
    const out = child({ ATEN_CPU_CAPABILITY: 'default', TMPDIR: tempDir() })
    assert.deepEqual(out.cpuIsa, [])
    assert.equal(out.code, 'ERR_CPU_ISA', String(out.message))
    assert.match(String(out.message), /Re-export it on this machine, or export it with a lower instruction-set pin/)
  })
})
