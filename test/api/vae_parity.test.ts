// VideoVAE through Node against the official implementation's golden fixtures: every stored
// tensor of every ch32 case, bit-exact at 2 threads on a machine that matches the fixtures' setup
// (within 1e-4 * max(1, max_abs) on others: test/python/exact_setup.py).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { before, describe, test } from 'node:test'

import { setNumThreads, VideoVAE } from '../../lib/index.js'
import { fixtureTolerance, needsParity, parityBundle, PARITY_CH32_CASES, PYTHON, ROOT, SHARED_DIR } from '../support/parity.js'
import { parityErrors } from '../support/parity_run.js'

const CASES: string[] = [...PARITY_CH32_CASES]
// The full-width case needs a 2 GB checkpoint and bundle: `npm run test:full`.
if (process.env.VIDEOVAE_FULL === '1') CASES.push('16z-full-video')

describe('VideoVAE parity with the official fixtures', { skip: needsParity }, () => {
  before(() => setNumThreads(2))

  for (const name of CASES) {
    test(name, async () => {
      const vae = await VideoVAE.load(parityBundle(name))
      const errors = await parityErrors(vae, name)
      for (const [key, err] of Object.entries(errors)) {
        assert.ok(err <= fixtureTolerance(name, key), `${name} ${key}: max abs ${err} (allowed ${fixtureTolerance(name, key)})`)
      }
      vae.dispose()
    })
  }

  // On any CPU: Node and PyTorch (the same bundle through Python's TorchScript, in this run)
  // compute the same bits.
  for (const name of ['16z-ch32-video', '4z_cap-ch32-video', '16z-ch32-chunked'] as const) {
    test(`${name}: bit-exact with PyTorch running the same bundle`, async () => {
      const reference = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-ref-')), 'tensors.safetensors')
      execFileSync(PYTHON, [path.join(ROOT, 'test', 'support', 'bundle_reference.py'), parityBundle(name), name, reference], {
        env: { ...process.env, VIDEOVAE_SHARED: SHARED_DIR },
        stdio: ['ignore', 'ignore', 'inherit'],
      })
      const vae = await VideoVAE.load(parityBundle(name))
      const errors = await parityErrors(vae, name, reference)
      vae.dispose()
      fs.rmSync(path.dirname(reference), { recursive: true, force: true })
      for (const [key, err] of Object.entries(errors)) assert.equal(err, 0, `${name} ${key}: max abs ${err} against PyTorch`)
    })
  }
})
