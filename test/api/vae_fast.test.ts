// Fast-mode bundles (`export --mode fast`) through Node: every stored tensor of every ch32
// parity case within 1e-4 max abs of the official fixtures (which exact bundles match bit for bit).
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'

import { setNumThreads, VideoVAE } from '../../lib/index.js'
import { needsParity, parityBundle, PARITY_CH32_CASES } from '../support/parity.js'
import { parityErrors } from '../support/parity_run.js'

const TOLERANCE = 1e-4

describe('fast-mode bundles against the official fixtures', { skip: needsParity }, () => {
  before(() => setNumThreads(2))

  for (const name of PARITY_CH32_CASES) {
    test(name, async () => {
      const vae = await VideoVAE.load(parityBundle(name, 'fast'))
      assert.equal(vae.info.mode, 'fast')
      const errors = await parityErrors(vae, name)
      for (const [key, err] of Object.entries(errors)) assert.ok(err <= TOLERANCE, `${name} ${key}: max abs ${err}`)
      vae.dispose()
    })
  }
})
