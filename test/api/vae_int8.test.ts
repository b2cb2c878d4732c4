// int8 weight storage (the embedded default model's format): the addon rebuilds the weights
// exactly as the Python loader does, so encode and decode match PyTorch bit for bit; a side
// file that does not fit the modules is refused with ERR_BUNDLE.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'

import { readBundle, readSafetensors, setNumThreads, VideoVAE, writeSafetensors } from '../../lib/index.js'
import { caseDir, maxAbsDiff, needsParity, parityBundle, PYTHON, ROOT } from '../support/parity.js'

describe('bundles with int8 weights', { skip: needsParity }, () => {
  let tmp = ''
  let bundle = ''
  let reference = ''
  const input = () => path.join(caseDir('16z-ch32-video'), 'tensors.safetensors')

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-int8-'))
    bundle = path.join(tmp, 'int8')
    reference = path.join(tmp, 'ref.safetensors')
    execFileSync(PYTHON, [path.join(__dirname, 'fixtures', 'int8_bundle.py'), parityBundle('16z-ch32-video'), bundle, input(), reference], {
      env: { ...process.env, PYTHONPATH: path.join(ROOT, 'python') },
    })
  })
  after(() => fs.rmSync(tmp, { recursive: true, force: true }))

  test('encode and decode equal PyTorch on the same int8 bundle, and stay near the float32 model', async () => {
    setNumThreads(2)
    const vae = await VideoVAE.load(bundle)
    assert.equal(vae.info.dtype, 'float16')
    assert.equal(vae.info.quantization?.scheme, 'int8-absmax-dim0')
    const { tensors } = await readSafetensors(input())
    const ref = (await readSafetensors(reference)).tensors
    const latent = await vae.encode(tensors.input!)
    const got = (await latent.data()) as Float32Array
    assert.equal(maxAbsDiff(got, (await ref.latent!.data()) as Float32Array), 0)
    const recon = (await (await vae.decode(latent)).data()) as Float32Array
    assert.equal(maxAbsDiff(recon, (await ref.recon!.data()) as Float32Array), 0)
    // Against the float32 golden latent: rounded, so not equal, but close.
    const golden = (await tensors.latent!.data()) as Float32Array
    const scale = golden.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
    const err = maxAbsDiff(got, golden)
    assert.ok(err > 0 && err < 0.05 * scale, `int8 latent error ${err} vs max ${scale}`)
    vae.dispose()
  })

  test('an unknown scheme, or a side file that lacks a weight, is ERR_BUNDLE', async () => {
    const scheme = path.join(tmp, 'scheme')
    fs.cpSync(bundle, scheme, { recursive: true })
    const manifestPath = path.join(scheme, 'manifest.json')
    const m = JSON.parse(fs.readFileSync(manifestPath, 'utf8'))
    m.quantization.scheme = 'int4-magic'
    fs.writeFileSync(manifestPath, JSON.stringify(m))
    await assert.rejects(readBundle(scheme), { code: 'ERR_BUNDLE', message: /unknown weight quantization "int4-magic"/ })

    // Drop one weight from the side file (and re-hash it): the module would keep a placeholder.
    // Values without scale: refused when the file is read; no entry at all: by the addon.
    const short = path.join(tmp, 'short')
    fs.cpSync(bundle, short, { recursive: true })
    const sidePath = path.join(short, 'quantized_weights.safetensors')
    const { tensors } = await readSafetensors(sidePath)
    const victim = Object.keys(tensors).find((k) => k.startsWith('temporal_decoder/') && k.endsWith('.q'))!
    delete tensors[victim]
    delete tensors[victim.slice(0, -2) + '.scale']
    await writeSafetensors(sidePath, tensors)
    const sm = JSON.parse(fs.readFileSync(path.join(short, 'manifest.json'), 'utf8'))
    sm.files.quantized_weights.sha256 = execFileSync('sha256sum', [sidePath]).toString().split(' ')[0]
    fs.writeFileSync(path.join(short, 'manifest.json'), JSON.stringify(sm))
    await assert.rejects(VideoVAE.load(short), { code: 'ERR_BUNDLE', message: /quantized weights have no weight '[^']+' for this module/ })
  })
})
