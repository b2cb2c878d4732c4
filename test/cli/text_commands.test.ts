// `videovae tokenize` and `videovae embed-text` on a text-only bundle, `--caption` on a text
// bundle with T5, and their errors.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'

import { CaptionEncoder, readSafetensors } from '../../lib/index.js'
import { parityBundle } from '../support/parity.js'
import { CAPTION_CASE, captionBundle, textBundle, tinyT5Dir } from '../support/text.js'
import { cli, json, makeVideo, needsParity } from './helpers.js'

describe('text commands', { skip: needsParity }, () => {
  let tmp: string
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-textcli-'))
  })
  after(() => fs.rmSync(tmp, { recursive: true, force: true }))

  test('export --t5 alone writes a text-only bundle (--out works too)', () => {
    const out = path.join(tmp, 't5-bundle')
    const r = cli(['export', '--t5', tinyT5Dir(), '--out', out, '--t5-dtype', 'float32', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const manifest = json<{ manifest: { kind: string; t5: { dtype: string; d_model: number } } }>(r).manifest
    assert.equal(manifest.kind, 'text')
    assert.deepEqual([manifest.t5.dtype, manifest.t5.d_model], ['float32', 1024])
    assert.deepEqual(fs.readdirSync(out).sort(), ['manifest.json', 'spiece.model', 't5_encoder.pt'])
    const none = cli(['export', '-o', path.join(tmp, 'nothing')])
    assert.equal(none.code, 2)
    assert.match(none.stderr, /give --checkpoint, --t5/)
  })

  test('tokenize prints the ids and masks of the API', async () => {
    const bundle = textBundle('bfloat16')
    const r = cli(['tokenize', '--bundle', bundle, '--json', 'A Dog_running-in-the_park-now!!', ''])
    assert.equal(r.code, 0, r.stderr)
    const out = json<{ maxLength: number; captions: { cleaned: string; ids: number[]; mask: number[]; length: number }[] }>(r)
    const encoder = await CaptionEncoder.load(bundle)
    try {
      const ref = encoder.tokenize(['A Dog_running-in-the_park-now!!', ''])
      assert.equal(out.maxLength, 100)
      assert.equal(out.captions[0]!.cleaned, 'a dog running in the park now!!')
      assert.deepEqual(
        out.captions.flatMap((c) => c.ids),
        Array.from(ref.ids),
      )
      assert.deepEqual(
        out.captions.flatMap((c) => c.mask),
        Array.from(ref.mask),
      )
    } finally {
      encoder.dispose()
    }
    const human = cli(['tokenize', '--bundle', bundle, 'hello world'])
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, /"hello world"\n {2}ids: [\d ]+ 1 \+ \d+ x 0\n {2}mask: \d+ x 1/)
  })

  test('embed-text writes text_emb [N,100,d] and text_mask [N,100]', async () => {
    const file = path.join(tmp, 'emb.safetensors')
    const r = cli(['embed-text', '--bundle', textBundle('float32'), '-o', file, '--json', 'a dog', 'a cat on the beach'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(json<{ shape: number[] }>(r).shape, [2, 100, 1024])
    const { tensors, metadata } = await readSafetensors(file)
    assert.deepEqual(tensors.text_emb!.shape, [2, 100, 1024])
    assert.equal(tensors.text_emb!.dtype, 'float32')
    assert.deepEqual(tensors.text_mask!.shape, [2, 100])
    assert.deepEqual(JSON.parse(metadata.captions!), ['a dog', 'a cat on the beach'])
    assert.equal(metadata.t5_dtype, 'float32')
  })

  test('--caption: encode stores it, decode reuses it, captions change the latent', async () => {
    const video = makeVideo(path.join(tmp, 'in.mp4'), { frames: 8 })
    const latent = path.join(tmp, 'in.safetensors')
    const bundle = captionBundle()
    const enc = cli(['encode', video, '-o', latent, '--bundle', bundle, '--caption', 'A Dog running!', '--threads', '2'])
    assert.equal(enc.code, 0, enc.stderr)
    const { tensors, metadata } = await readSafetensors(latent)
    assert.equal(metadata.caption, 'A Dog running!')
    assert.equal(tensors.text_emb, undefined)
    const other = path.join(tmp, 'other.safetensors')
    assert.equal(cli(['encode', video, '-o', other, '--bundle', bundle, '--caption', 'a cat', '--threads', '2']).code, 0)
    const { tensors: t2 } = await readSafetensors(other)
    assert.notDeepEqual(await t2.latent!.data(), await tensors.latent!.data())
    const dec = cli(['decode', latent, '-o', path.join(tmp, 'out.mp4'), '--bundle', bundle, '--threads', '2'])
    assert.equal(dec.code, 0, dec.stderr)
    const plain = cli(['encode', video, '-o', path.join(tmp, 'x.safetensors'), '--bundle', parityBundle('16z-ch32-video'), '--caption', 'x'])
    assert.equal(plain.code, 1)
    assert.match(plain.stderr, /takes no caption: drop --caption/)
    const noT5 = cli(['encode', video, '-o', path.join(tmp, 'y.safetensors'), '--bundle', parityBundle(CAPTION_CASE), '--caption', 'x'])
    assert.equal(noT5.code, 1)
    assert.match(noT5.stderr, /no text encoder: export it with --t5/)
  })

  test('errors: a bundle without a tokenizer, a missing bundle', () => {
    const noT5 = parityBundle(CAPTION_CASE)
    const r = cli(['tokenize', '--bundle', noT5, 'x'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /no text encoder: export it with --t5/)
    const missing = cli(['embed-text', '--bundle', path.join(tmp, 'nope'), '-o', path.join(tmp, 'x.safetensors'), 'x'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /not a bundle/)
  })
})
