// Caption embeddings through Node (tokenizer + the bundle's TorchScript T5) against
// transformers' T5EncoderModel on the same tiny model, float32 and bfloat16 exports.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'

import { CaptionEncoder, readBundle, readSafetensors, setNumThreads, type Tensor } from '../../lib/index.js'
import { maxAbsDiff, needsParity } from '../support/parity.js'
import { reference, textBundle, TOKENIZER_CAPTIONS } from '../support/text.js'

const CAPTIONS = TOKENIZER_CAPTIONS.slice(0, 6).concat(TOKENIZER_CAPTIONS.slice(-2))

async function f32(t: Tensor): Promise<Float32Array> {
  return (await t.data()) as Float32Array
}

async function referenceEmbedding(): Promise<{ emb: Float32Array; mask: Float32Array; maxAbs: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-emb-'))
  try {
    reference('embed', CAPTIONS, path.join(dir, 'ref.safetensors'))
    const { tensors } = await readSafetensors(path.join(dir, 'ref.safetensors'))
    const emb = await f32(tensors.text_emb!)
    return { emb, mask: await f32(tensors.text_mask!), maxAbs: emb.reduce((m, v) => Math.max(m, Math.abs(v)), 0) }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

describe('caption embeddings', { skip: needsParity }, () => {
  test('float32 export equals T5EncoderModel (<= 1e-5); bfloat16 export is close', async () => {
    setNumThreads(2)
    const ref = await referenceEmbedding()
    const fp32 = await CaptionEncoder.load(textBundle('float32'))
    const bf16 = await CaptionEncoder.load(textBundle('bfloat16'))
    try {
      assert.equal(fp32.info.dtype, 'float32')
      assert.equal(bf16.info.dtype, 'bfloat16')
      const a = await fp32.embed(CAPTIONS, { clean: false })
      assert.deepEqual(a.embedding.shape, [CAPTIONS.length, 100, 1024])
      assert.equal(a.embedding.dtype, 'float32')
      const diff = maxAbsDiff(await f32(a.embedding), ref.emb)
      assert.ok(diff <= 1e-5, `float32 max abs diff ${diff}`)
      assert.deepEqual(await f32(a.mask), ref.mask)
      assert.deepEqual(
        a.truncated,
        CAPTIONS.map((c) => c.startsWith('red red')),
      )

      const b = await bf16.embed(CAPTIONS, { clean: false })
      const bdiff = maxAbsDiff(await f32(b.embedding), ref.emb)
      console.log(`# T5 bfloat16 vs float32: max abs ${bdiff.toExponential(3)} (max |emb| ${ref.maxAbs.toFixed(3)})`)
      assert.ok(bdiff > 0 && bdiff < 0.05 * ref.maxAbs, `bfloat16 max abs diff ${bdiff}`)
      for (const t of [a.embedding, a.mask, b.embedding, b.mask]) t.dispose()
    } finally {
      fp32.dispose()
      bf16.dispose()
    }
  })

  test('a text-only bundle is not a VideoVAE, and its files are verified', async () => {
    await assert.rejects(readBundle(textBundle('float32')), (e: Error & { code: string }) => e.code === 'ERR_BUNDLE' && /CaptionEncoder/.test(e.message))
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-tb-'))
    try {
      fs.cpSync(textBundle('float32'), copy, { recursive: true })
      fs.appendFileSync(path.join(copy, 'spiece.model'), 'x')
      await assert.rejects(CaptionEncoder.load(copy), (e: Error & { code: string }) => e.code === 'ERR_BUNDLE' && /spiece/.test(e.message))
    } finally {
      fs.rmSync(copy, { recursive: true, force: true })
    }
  })
})
