// `videovae export --engine aoti`: the engine options reach the Python exporter (which refuses
// what it cannot compile before loading anything), and are refused without that engine. The
// compile itself is tested in test/python/test_aoti_export.py.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, describe, it } from 'node:test'

import { cli, needsPython, tempDir } from './helpers.js'

describe('videovae export --engine aoti', { skip: needsPython }, () => {
  const dir = tempDir()
  after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const ckpt = path.join(dir, 'any.ckpt')
  fs.writeFileSync(ckpt, 'not read: the options are refused first')

  it('passes --engine through: the exporter refuses chunked attention for aoti', () => {
    const r = cli(['export', '--checkpoint', ckpt, '-o', path.join(dir, 'b1'), '--engine', 'aoti', '--attention', 'chunked'])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /export failed: --attention chunked .* --engine aoti takes --attention exact \(ERR_EXPORT\)$/m)
    assert.equal(fs.existsSync(path.join(dir, 'b1')), false)
  })

  it('--dtype, --device and --cpu-isa without --engine aoti are usage errors', () => {
    for (const extra of [
      ['--dtype', 'bfloat16'],
      ['--cpu-isa', 'native'],
      ['--device', 'cpu'],
    ]) {
      const r = cli(['export', '--checkpoint', ckpt, '-o', path.join(dir, 'b2'), ...extra])
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, /--dtype, --device and --cpu-isa are options of --engine aoti/)
    }
  })

  it('--weights-storage without --engine aoti is a usage error; an unknown storage is refused by the option parser', () => {
    const r = cli(['export', '--checkpoint', ckpt, '-o', path.join(dir, 'b4'), '--weights-storage', 'int8'])
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /--weights-storage is an option of --engine aoti/)
    const bad = cli(['export', '--checkpoint', ckpt, '-o', path.join(dir, 'b5'), '--engine', 'aoti', '--weights-storage', 'int4'])
    assert.equal(bad.code, 2, bad.stderr)
    assert.match(bad.stderr, /int4/)
  })

  it('an unknown ISA level is refused by the option parser', () => {
    const r = cli(['export', '--checkpoint', ckpt, '-o', path.join(dir, 'b3'), '--engine', 'aoti', '--cpu-isa', 'avx9000'])
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /avx9000/)
  })
})
