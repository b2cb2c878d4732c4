// End to end on the exporter's AOTInductor bundle of the ch32 config_16z weights (the one the
// Python suite compiles into .cache/aoti with VIDEOVAE_FULL=1; AOTI_BUNDLE overrides): every
// 16z ch32 parity case within 1e-4 * max(1, max |value|) of the official fixtures (B=1, latent
// T=1 chunks and T=1 images included), the same inputs within 1e-4 of the exact TorchScript
// bundle of the same weights, and deterministic run to run. The cases of other seeds run with
// their weights swapped into the side files (test/support/aoti_swap_weights.py); a bundle whose
// packages compiled tiny weights into their code cannot take them, and those cases are compared
// with the exact TorchScript bundle of the bundle's own weights instead, on the case's input.
// Skips with a reason when the bundle, ../shared or the Python venv is missing: CI exports no
// AOTInductor bundle (the six packages of ch32-16z take 10-15 minutes on 2 cores).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { before, describe, test } from 'node:test'

import { execFileSync } from 'node:child_process'
import os from 'node:os'

import { readSafetensors, setNumThreads, type Tensor, VideoVAE } from '../../lib/index.js'
import { caseDir, maxAbsDiff, needsParity, parityBundle, PYTHON, readCase } from '../support/parity.js'
import { parityErrors } from '../support/parity_run.js'

const CACHE = path.join(__dirname, '..', '..', '.cache', 'aoti')

/**
 * The ch32 16z AOTI bundle: AOTI_BUNDLE, else the newest one test/python/test_aoti_export.py
 * compiled into .cache/aoti (with VIDEOVAE_FULL=1, `npm run test:full`, which runs Python first).
 */
function handedOver(): string | null {
  if (process.env.AOTI_BUNDLE) return process.env.AOTI_BUNDLE
  if (!fs.existsSync(CACHE)) return null
  const bundles = fs
    .readdirSync(CACHE)
    .map((key) => path.join(CACHE, key, 'bundle'))
    .filter((dir) => fs.existsSync(path.join(dir, 'manifest.json')))
    .sort((a, b) => fs.statSync(path.join(b, 'manifest.json')).mtimeMs - fs.statSync(path.join(a, 'manifest.json')).mtimeMs)
  return bundles[0] ?? null
}

const bundle = handedOver()
const skip: string | false = needsParity
  ? needsParity
  : !fs.existsSync(PYTHON)
    ? `no Python venv at ${PYTHON}`
    : bundle === null
      ? `no AOTInductor ch32-16z bundle in .cache/aoti (made by the Python suite with VIDEOVAE_FULL=1; or set AOTI_BUNDLE): its six packages take 10-15 minutes of compile on 2 cores, more than CI's budget`
      : false

const CASES = ['16z-ch32-video', '16z-ch32-image', '16z-ch32-chunked'] as const

describe('AOTInductor ch32 16z bundle against the parity fixtures', { skip }, () => {
  let vae: VideoVAE
  before(async () => {
    setNumThreads(2)
    vae = await VideoVAE.load(bundle!)
    assert.equal(vae.info.engine, 'aoti')
  })

  const own = (): string => JSON.parse(fs.readFileSync(path.join(bundle!, 'manifest.json'), 'utf8')).source_checkpoint_sha256 as string
  const sha = (dir: string): string => JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).source_checkpoint_sha256 as string
  /** The TorchScript bundle of the AOTI bundle's own weights (one of the cases' bundles). */
  const ownTs = (): string => parityBundle(CASES.find((c) => sha(parityBundle(c)) === own()) ?? CASES[0])

  /** The AOTI bundle with the case's weights: itself, a swapped copy, or why the weights cannot go in. */
  function withWeightsOf(name: string): { dir: string } | { reason: string } {
    const ts = parityBundle(name)
    if (sha(ts) === own()) return { dir: bundle! }
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-aoti-swap-'))
    const script = path.join(__dirname, '..', 'support', 'aoti_swap_weights.py')
    const result = JSON.parse(
      execFileSync(PYTHON, [script, bundle!, ownTs(), ts, out], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } })
        .trim()
        .split('\n')
        .pop()!,
    ) as { swappable: boolean; reason?: string }
    if (result.swappable) return { dir: out }
    fs.rmSync(out, { recursive: true, force: true })
    return { reason: result.reason! }
  }

  /** The case's pipeline outputs (posterior and reconstruction, or chunked latents and reconstruction). */
  async function outputs(v: VideoVAE, name: string): Promise<Tensor[]> {
    const meta = readCase(name)
    const { tensors } = await readSafetensors(path.join(caseDir(name), 'tensors.safetensors'))
    if (meta.pipeline === 'chunked') {
      const chunkFrames = meta.chunk_size!
      return [await v.encode(tensors.input!, { chunkFrames }), await v.reconstruct(tensors.input!, { chunkFrames })]
    }
    const image = meta.pipeline === 'image'
    const post = await v.encode(tensors.input!, { image, posterior: true })
    return [post.mean, post.logvar, await v.decode(post.latent, { image, frames: post.frames })]
  }

  for (const name of CASES) {
    test(`${name}: within 1e-4 of the official fixtures (of the exact TorchScript bundle where its weights cannot go in)`, async (t) => {
      const target = withWeightsOf(name)
      if ('reason' in target) {
        t.diagnostic(`compared with the exact TorchScript bundle of the bundle's own weights: ${target.reason}`)
        // The official fixtures need the case's weights: the exact TorchScript bundle of the
        // bundle's own weights (bit-exact with the official code) is the reference instead.
        const exact = await VideoVAE.load(ownTs())
        const [got, want] = [await outputs(vae, name), await outputs(exact, name)]
        for (let i = 0; i < want.length; i++) {
          const w = (await want[i]!.data()) as Float32Array
          const err = maxAbsDiff((await got[i]!.data()) as Float32Array, w)
          const allowed =
            1e-4 *
            Math.max(
              1,
              w.reduce((m, x) => Math.max(m, Math.abs(x)), 0),
            )
          assert.ok(err <= allowed, `${name} output ${i} against the TorchScript bundle (${target.reason}): max abs ${err} (allowed ${allowed})`)
        }
        exact.dispose()
        return
      }
      const swapped = target.dir === bundle ? vae : await VideoVAE.load(target.dir, { verify: false })
      const errors = await parityErrors(swapped, name)
      for (const [key, err] of Object.entries(errors)) {
        const allowed = 1e-4 * Math.max(1, readCase(name).tensors[key]!.max_abs)
        assert.ok(err <= allowed, `${name} ${key}: max abs ${err} (allowed ${allowed})`)
      }
      if (swapped !== vae) {
        swapped.dispose()
        fs.rmSync(target.dir, { recursive: true, force: true })
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
