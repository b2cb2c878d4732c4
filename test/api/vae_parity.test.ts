// VideoVAE through Node against the official implementation's golden fixtures: every stored
// tensor of every ch32 case, bit-exact at 2 threads (the fixtures' own setup).
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'

import { setNumThreads, VideoVAE } from '../../lib/index.js'
import { needsParity, parityBundle, PARITY_CH32_CASES } from '../support/parity.js'
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
      for (const [key, err] of Object.entries(errors)) assert.equal(err, 0, `${name} ${key}: max abs ${err}`)
      vae.dispose()
    })
  }
})
