// End to end on the exporter's AOTInductor bundle of the ch32 config_16z weights (h/aoti-export
// hands it over in /tmp/aoti-bundles, listed in its READY file; AOTI_BUNDLE overrides): every
// 16z ch32 parity case within 1e-4 * max(1, max |value|) of the official fixtures, the same
// inputs within 1e-4 of the exact TorchScript bundle of the same weights, and deterministic
// run to run. Skips with a reason when the bundle, ../shared or the Python venv is missing.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { before, describe, test } from 'node:test'

import { readSafetensors, setNumThreads, Tensor, VideoVAE } from '../../lib/index.js'
import { caseDir, maxAbsDiff, needsParity, parityBundle, PYTHON, readCase } from '../support/parity.js'
import { parityErrors } from '../support/parity_run.js'

const READY = '/tmp/aoti-bundles/READY'

/** The handed-over ch32 16z bundle: AOTI_BUNDLE, else the READY line that names ch32-16z. */
function handedOver(): string | null {
  if (process.env.AOTI_BUNDLE) return process.env.AOTI_BUNDLE
  if (!fs.existsSync(READY)) return null
  const line = fs.readFileSync(READY, 'utf8').split('\n').find((l) => /ch32-16z(\s|$|\/)/.test(l.trim()))
  const dir = line?.trim().split(/\s+/).find((w) => w.includes('/'))
  return dir && fs.existsSync(path.join(dir, 'manifest.json')) ? dir : null
}

const bundle = handedOver()
const skip: string | false = needsParity
  ? needsParity
  : !fs.existsSync(PYTHON)
    ? `no Python venv at ${PYTHON}`
    : bundle === null
      ? `no AOTInductor ch32-16z bundle handed over yet (${READY}, or set AOTI_BUNDLE)`
      : false

const CASES = ['16z-ch32-video', '16z-ch32-image', '16z-ch32-chunked'] as const

describe('AOTInductor ch32 16z bundle against the parity fixtures', { skip }, () => {
  let vae: VideoVAE
  before(async () => {
    setNumThreads(2)
    vae = await VideoVAE.load(bundle!)
    assert.equal(vae.info.engine, 'aoti')
  })

  for (const name of CASES) {
    test(`${name}: within 1e-4 of the official fixtures`, async (t) => {
      if (readCase(name).pipeline === 'image' && vae.imageStages[0] == null) return t.skip('the bundle has no image-path packages')
      const errors = await parityErrors(vae, name)
      for (const [key, err] of Object.entries(errors)) {
        const allowed = 1e-4 * Math.max(1, readCase(name).tensors[key]!.max_abs)
        assert.ok(err <= allowed, `${name} ${key}: max abs ${err} (allowed ${allowed})`)
      }
    })
  }

  test('16z-ch32-video: within 1e-4 of the exact TorchScript bundle, and deterministic', async () => {
    const { tensors } = await readSafetensors(path.join(caseDir('16z-ch32-video'), 'tensors.safetensors'))
    const exact = await VideoVAE.load(parityBundle('16z-ch32-video'))
    const diff = async (a: Tensor, b: Tensor): Promise<number> => maxAbsDiff((await a.data()) as Float32Array, (await b.data()) as Float32Array)
    const a = await vae.encode(tensors.input!, { posterior: true })
    const b = await exact.encode(tensors.input!, { posterior: true })
    assert.ok((await diff(a.mean, b.mean)) <= 1e-4, 'mean')
    assert.ok((await diff(a.logvar, b.logvar)) <= 1e-4, 'logvar')
    const ra = await vae.decode(b.latent)
    const rb = await exact.decode(b.latent)
    assert.ok((await diff(ra, rb)) <= 1e-4, 'decode')
    const again = await vae.decode(b.latent)
    assert.equal(await diff(again, ra), 0, 'run to run')
    exact.dispose()
  })
})
