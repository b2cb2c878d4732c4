// Caption-guided encode and decode through Node (tokenizer + T5 + VAE in one job) against the
// same pipeline in Python (transformers tokenizer and T5EncoderModel, our eager VAE), and the
// caption rules: one per batch item or shared, the empty caption by default, clear errors.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'

import { preprocessCaption, readSafetensors, setNumThreads, Tensor, VideoVAE, writeSafetensors, type VideoVaeError } from '../../lib/index.js'
import { caseDir, maxAbsDiff, needsParity, parityBundle, parityCheckpoint } from '../support/parity.js'
import { CAPTION_CASE, captionBundle, reference } from '../support/text.js'

const CAPTIONS = ['A Dog running in the park, camera pans slowly.', 'Aerial view of a golden beach at sunset!']

async function f32(t: Tensor): Promise<Float32Array> {
  return (await t.data()) as Float32Array
}

const isText = (pattern: RegExp) => (e: VideoVaeError) => e.code === 'ERR_TEXT' && pattern.test(e.message)

describe('VideoVAE with captions', { skip: needsParity }, () => {
  let vae: VideoVAE
  let video: Tensor // [2,3,8,64,64]: the case input and its mirror image
  before(async () => {
    setNumThreads(2)
    vae = await VideoVAE.load(captionBundle())
    const { tensors } = await readSafetensors(path.join(caseDir(CAPTION_CASE), 'tensors.safetensors'))
    const x = await f32(tensors.input!)
    const both = new Float32Array(x.length * 2)
    both.set(x)
    both.set(
      x.map((v) => -v),
      x.length,
    )
    video = Tensor.from(both, [2, 3, 8, 64, 64])
  })
  after(() => vae.dispose())

  test('encode and decode with per-item captions equal the Python pipeline', async () => {
    assert.ok(vae.captionEncoder, 'the bundle carries a caption encoder')
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-cap-'))
    try {
      await writeSafetensors(path.join(dir, 'in.safetensors'), { video })
      const ckpt = parityCheckpoint(CAPTION_CASE)
      reference('vae', CAPTIONS.map(preprocessCaption), ckpt, path.join(dir, 'in.safetensors'), path.join(dir, 'ref.safetensors'))
      const { tensors: ref } = await readSafetensors(path.join(dir, 'ref.safetensors'))
      const latent = await vae.encode(video, { caption: CAPTIONS })
      const recon = await vae.decode(latent, { caption: CAPTIONS })
      const dl = maxAbsDiff(await f32(latent), await f32(ref.latent!))
      const dr = maxAbsDiff(await f32(recon), await f32(ref.recon!))
      console.log(`# caption pipeline vs Python: latent ${dl.toExponential(2)}, reconstruction ${dr.toExponential(2)}`)
      assert.ok(dl <= 1e-4 && dr <= 1e-4, `latent ${dl}, reconstruction ${dr}`)
      // The captions matter: swapping them changes the latent.
      const swapped = await vae.encode(video, { caption: [...CAPTIONS].reverse() })
      assert.ok(maxAbsDiff(await f32(swapped), await f32(latent)) > 1e-3)
      for (const t of [latent, recon, swapped]) t.dispose()
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('one caption is shared by the batch; no caption is the empty caption', async () => {
    const shared = await vae.encode(video, { caption: CAPTIONS[0] })
    const each = await vae.encode(video, { caption: [CAPTIONS[0]!, CAPTIONS[0]!] })
    assert.deepEqual(await f32(shared), await f32(each))
    const none = await vae.encode(video)
    const empty = await vae.encode(video, { caption: '' })
    const emb = await vae.captionEncoder!.embed(['', ''])
    const precomputed = await vae.encode(video, { textEmbedding: emb.embedding, textMask: emb.mask })
    assert.deepEqual(await f32(none), await f32(empty))
    assert.deepEqual(await f32(none), await f32(precomputed))
    for (const t of [shared, each, none, empty, precomputed, emb.embedding, emb.mask]) t.dispose()
  })

  test('a caption longer than 100 tokens is truncated with a warning', async () => {
    const warnings: Error[] = []
    const onWarning = (w: Error): void => void warnings.push(w)
    process.on('warning', onWarning)
    try {
      const latent = await vae.encode(video, { caption: 'red '.repeat(150) })
      latent.dispose()
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      process.off('warning', onWarning)
    }
    assert.ok(warnings.some((w) => (w as Error & { code?: string }).code === 'VIDEOVAE_CAPTION_TRUNCATED'))
  })

  test('errors: bad captions, both kinds of text, malformed embeddings, no text encoder, no text model', async () => {
    await assert.rejects(vae.encode(video, { caption: [CAPTIONS[0]!, 7 as unknown as string] }), isText(/caption 1 is not a string/))
    await assert.rejects(vae.encode(video, { caption: ['a', 'b', 'c'] }), isText(/one per batch item \(2\), got 3/))
    await assert.rejects(vae.encode(video, { caption: [] }), isText(/non-empty array/))
    const emb = Tensor.from(new Float32Array(2 * 100 * 1024), [2, 100, 1024])
    await assert.rejects(vae.encode(video, { caption: 'x', textEmbedding: emb }), isText(/either caption or textEmbedding/))
    const bad = Tensor.from(new Float32Array(2 * 100 * 512), [2, 100, 512])
    await assert.rejects(vae.encode(video, { textEmbedding: bad }), isText(/textEmbedding must be \[2, L, 1024\]/))
    for (const t of [emb, bad]) t.dispose()

    const noT5 = await VideoVAE.load(parityBundle(CAPTION_CASE))
    try {
      assert.equal(noT5.captionEncoder, null)
      await assert.rejects(noT5.encode(video, { caption: 'x' }), isText(/no text encoder: export it with --t5/))
      await assert.rejects(noT5.encode(video), isText(/needs caption embeddings/))
    } finally {
      noT5.dispose()
    }
    const plain = await VideoVAE.load(parityBundle('16z-ch32-video'))
    try {
      await assert.rejects(plain.encode(video, { caption: 'x' }), isText(/takes no text/))
    } finally {
      plain.dispose()
    }
  })
})
