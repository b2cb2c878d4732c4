// TorchModule.load of an AOTInductor package (.pt2): outputs against PyTorch eager, weights handed
// over at load (load_constants), a runner pool under concurrent calls, the package's input checks,
// the CPU instruction-set check, and the loader's temp directory going away with the module.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { before, describe, test } from 'node:test'

import { readSafetensors, setNumThreads, Tensor, TorchModule, VideoVaeError, type ModuleResult } from '../../lib/index.js'
import { aotiFixtures, needsPython } from './helpers/aoti_fixtures.js'
import { tempDir } from './helpers/fixtures.js'

async function maxAbsDiff(a: Tensor, b: Tensor): Promise<number> {
  const x = (await a.data()) as Float32Array
  const y = (await b.data()) as Float32Array
  assert.equal(x.length, y.length)
  let max = 0
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]! - y[i]!))
  return max
}

const bytes = async (t: Tensor): Promise<Buffer> => {
  const d = (await t.data()) as Float32Array
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength)
}

const code = (c: string) => (e: unknown) => e instanceof VideoVaeError && e.code === c

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
    await assert.rejects(load({ 'stage.conv.weight': await weight.to({ dtype: 'float64' }) }), (e: unknown) => code('ERR_BUNDLE')(e) && /expects Float/.test((e as Error).message))
    const short = Tensor.from(new Float32Array(weight.numel - 1), [weight.numel - 1])
    await assert.rejects(load({ 'stage.conv.weight': short }), (e: unknown) => code('ERR_BUNDLE')(e) && /bytes/.test((e as Error).message))
  })

  test('bad inputs get coded errors from the package input checks, not a crash', async () => {
    const net = await TorchModule.load(aotiFixtures().decoder, { constants: weights })
    const x64 = await io.x!.to({ dtype: 'float64' })
    await assert.rejects(net.forward(x64), code('ERR_DTYPE'))
    const shape = (dims: number[], words: RegExp) =>
      assert.rejects(net.forward(Tensor.from(new Float32Array(dims.reduce((a, b) => a * b)), dims)), (e: unknown) => code('ERR_SHAPE')(e) && words.test((e as Error).message))
    await shape([2, 4, 2, 2, 65], /too large at 4/) // w past the exported range (64)
    await shape([2, 5, 2, 2, 2], /unmatched dim value at 1/) // 5 channels, not 4
    // Inductor assumes dynamic dims >= 2 (its code may be wrong for 1): the package refuses 1.
    await shape([1, 4, 2, 2, 2], /too small at 0/)
    await assert.rejects(net.forward(io.x!, io.x!), code('ERR_ARGUMENT'))
    await assert.rejects(net.forward(1 as unknown as Tensor), code('ERR_ARGUMENT'))
    await assert.rejects(net.call('other', io.x!), code('ERR_MODULE'))
    // Still works afterwards.
    const [y] = (await net.forward(io.x!)) as ModuleResult[] as Tensor[]
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
      execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures', 'aoti_child.ts'), aotiFixtures().decoder, aotiFixtures().decoderWeights], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
      }),
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
