// `videovae export` of a bad checkpoint: the exporter's whole message reaches the user without
// --verbose, including the lines that list the mismatched keys.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { after, describe, it } from 'node:test'

import { cli, needsParity, needsPython, PYTHON, SHARED_DIR, tempDir } from './helpers.js'

// The keys the exporter detects a model from, at ch32 shapes: a checkpoint that is recognised
// as a 16z model but lacks all its other tensors.
const MAKE_PARTIAL = `
import sys, torch
rows = [l.rstrip("\\n").split("\\t")[:2] for l in open(sys.argv[1])]
shapes = {k: [int(s) for s in v.split(",")] for k, v in rows}
keep = ["encoder.conv_in.weight", "decoder_temporal.conv_last.conv.weight", "encoder_temporal.conv_in.conv.weight"]
keep += ["encoder.down.%d.block.0.conv1.weight" % i for i in range(4)]
torch.save({"state_dict": {k: torch.zeros(shapes[k]) for k in keep}}, sys.argv[2])
`

describe('videovae export errors', { skip: needsPython || needsParity }, () => {
  const dir = tempDir()
  after(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('a checkpoint missing keys: the key list reaches stderr without --verbose', () => {
    const ckpt = path.join(dir, 'partial.ckpt')
    execFileSync(PYTHON, ['-c', MAKE_PARTIAL, path.join(SHARED_DIR, 'parity', 'keys', 'config_16z-ch32.tsv'), ckpt])
    const r = cli(['export', '--checkpoint', ckpt, '-o', path.join(dir, 'bundle')], { env: { OMP_NUM_THREADS: '1' } })
    assert.equal(r.code, 1, r.stderr)
    assert.match(
      r.stderr,
      /^videovae: export failed: checkpoint does not match the 16z model .*refusing to load: \| missing keys \(447\): encoder\.conv_in\.bias, .* \(ERR_EXPORT\)$/m,
    )
    assert.equal(fs.existsSync(path.join(dir, 'bundle')), false)
  })

  it('a file that is no checkpoint: a clear error, no Python exception', () => {
    const notes = path.join(dir, 'notes.ckpt')
    fs.writeFileSync(notes, 'hello world')
    const r = cli(['export', '--checkpoint', notes, '-o', path.join(dir, 'bundle')], { env: { OMP_NUM_THREADS: '1' } })
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /^videovae: export failed: refusing to load .*notes\.ckpt: it is not a checkpoint .*\(KeyError: 101\) \(ERR_EXPORT\)$/m)
  })
})
