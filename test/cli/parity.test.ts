// `videovae parity`: bit-exact on the shared golden cases at 2 threads (where the machine matches
// the fixtures' setup; within 1e-4 * max(1, max_abs) elsewhere), exit 3 on a tampered case.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { readSafetensors, writeSafetensors } from '../../lib/safetensors.js'
import { runParity } from '../../lib/cli/parity.js'
import { exactSetup, fixtureTolerance } from '../support/parity.js'
import { caseBundle, caseDir, cli, json, needsParity, needsPython, readCase, tempDir } from './helpers.js'

interface Report {
  case: string
  tolerance: number
  tensors: Record<string, { max_abs: number | null; shape: number[] }>
  max_abs: number | null
  pass: boolean
}

const skip = needsParity || needsPython

describe('videovae parity', { skip }, () => {
  for (const name of ['16z-ch32-video', '16z-ch32-image', '16z-ch32-chunked', '4z_cap-ch32-video']) {
    it(`${name}: every stored tensor bit-exact (or within tolerance off the fixtures' setup)`, () => {
      const bundle = caseBundle(name)
      const r = cli(['parity', '--bundle', bundle, '--case', caseDir(name), '--threads', '2', '--json'])
      assert.equal(r.code, 0, r.stderr)
      const report = json<Report>(r)
      assert.deepEqual(Object.keys(report).sort(), ['case', 'max_abs', 'pass', 'tensors', 'tolerance'])
      assert.equal(report.case, name)
      assert.equal(report.tolerance, 1e-4)
      assert.equal(report.pass, true)
      if (exactSetup()) assert.equal(report.max_abs, 0)
      const meta = readCase(name)
      const outputs = Object.keys(meta.tensors).filter((n) => !['input', 'text_emb', 'text_mask'].includes(n))
      assert.deepEqual(Object.keys(report.tensors).sort(), outputs.sort())
      for (const n of outputs) {
        assert.ok(report.tensors[n]!.max_abs! <= fixtureTolerance(name, n), `${n}: ${report.tensors[n]!.max_abs}`)
        assert.deepEqual(report.tensors[n]!.shape, meta.tensors[n]!.shape, n)
      }
    })
  }

  it('a tampered case fails with exit 3 and names the tensor', async () => {
    const name = '16z-ch32-image'
    const bundle = caseBundle(name)
    const copy = path.join(tempDir(), name)
    fs.mkdirSync(copy)
    fs.copyFileSync(path.join(caseDir(name), 'case.json'), path.join(copy, 'case.json'))
    const { tensors, metadata } = await readSafetensors(path.join(caseDir(name), 'tensors.safetensors'))
    const recon = (await tensors.reconstruction!.data()) as Float32Array
    recon[123] = recon[123]! + 0.5
    const { Tensor } = await import('../../lib/tensor.js')
    tensors.reconstruction = Tensor.from(recon, tensors.reconstruction!.shape)
    await writeSafetensors(path.join(copy, 'tensors.safetensors'), tensors, metadata)

    const r = cli(['parity', '--bundle', bundle, '--case', copy, '--threads', '2', '--json'])
    assert.equal(r.code, 3, r.stderr)
    const report = json<Report>(r)
    assert.equal(report.pass, false)
    assert.ok(report.tensors.latent!.max_abs! <= fixtureTolerance(name, 'latent'))
    const near = 1e-6 + fixtureTolerance(name, 'reconstruction')
    assert.ok(Math.abs(report.tensors.reconstruction!.max_abs! - 0.5) < near, String(report.tensors.reconstruction!.max_abs))
    assert.ok(Math.abs(report.max_abs! - 0.5) < near)

    // A loose tolerance lets it pass; the human output says which tensor failed otherwise.
    assert.equal(cli(['parity', '--bundle', bundle, '--case', copy, '--threads', '2', '--tolerance', '1']).code, 0)

    // The library function gives the same report.
    const direct = await runParity(bundle, copy, { threads: 2 })
    assert.equal(direct.pass, false)
    assert.deepEqual(Object.keys(direct.tensors), Object.keys(report.tensors))
  })

  it('a case directory without case.json is a clear failure (exit 1)', () => {
    const r = cli(['parity', '--bundle', caseBundle('16z-ch32-image'), '--case', tempDir()])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^videovae: no such file: .*case\.json \(ERR_NOT_FOUND\)\n$/)
  })
})
