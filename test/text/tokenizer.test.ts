// The addon's caption tokenizer against the Hugging Face T5 tokenizer (transformers, from the
// same spiece.model) on a varied caption set, plus cleaning, truncation and errors.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { CaptionEncoder, preprocessCaption, type VideoVaeError } from '../../lib/index.js'
import { needsParity, parityBundle } from '../support/parity.js'
import { CAPTION_CASE, reference, textBundle, TOKENIZER_CAPTIONS } from '../support/text.js'

describe('caption tokenizer', { skip: needsParity }, () => {
  let encoder: CaptionEncoder
  before(async () => {
    encoder = await CaptionEncoder.load(textBundle('bfloat16'))
  })
  after(() => encoder.dispose())

  test('ids and masks equal the Hugging Face T5 tokenizer', () => {
    const ref = JSON.parse(reference('tokenize', TOKENIZER_CAPTIONS)) as { ids: number[][]; mask: number[][] }
    const ours = encoder.tokenize(TOKENIZER_CAPTIONS, { clean: false })
    assert.deepEqual(ours.shape, [TOKENIZER_CAPTIONS.length, 100])
    TOKENIZER_CAPTIONS.forEach((caption, i) => {
      assert.deepEqual(Array.from(ours.ids.subarray(i * 100, (i + 1) * 100)), ref.ids[i], `ids of ${JSON.stringify(caption)}`)
      assert.deepEqual(Array.from(ours.mask.subarray(i * 100, (i + 1) * 100)), ref.mask[i], `mask of ${JSON.stringify(caption)}`)
    })
  })

  test('captions are cleaned first, like the official pipeline', () => {
    const raw = ['A Dog_running-in-the_park-now!!', 'Line1\\nLine2 (note) [x] 1920x1080']
    const cleaned = encoder.tokenize(raw)
    assert.deepEqual(cleaned.captions, ['a dog running in the park now!!', 'line1 line2 note x'])
    assert.deepEqual(cleaned.ids, encoder.tokenize(raw.map(preprocessCaption), { clean: false }).ids)
  })

  test('the empty caption is </s> then padding', () => {
    const t = encoder.tokenize('')
    assert.deepEqual(Array.from(t.ids.subarray(0, 3)), [1, 0, 0])
    assert.deepEqual(t.lengths, [1])
  })

  test('long captions keep 99 tokens and </s>', () => {
    const t = encoder.tokenize('red '.repeat(150))
    assert.equal(t.lengths[0], 100)
    assert.equal(t.ids[99], 1)
    assert.ok(t.fullLengths[0]! > 100)
  })

  test('errors: non-string captions, nothing to tokenize, disposed', async () => {
    for (const bad of [[42], ['ok', null], [], 7, undefined]) {
      assert.throws(
        () => encoder.tokenize(bad as unknown as string[]),
        (e: VideoVaeError) => e.code === 'ERR_TEXT' && /caption/.test(e.message),
      )
    }
    const other = await CaptionEncoder.load(textBundle('bfloat16'))
    other.dispose()
    assert.throws(() => other.tokenize('x'), { code: 'ERR_DISPOSED' })
  })

  test('a bundle without a text encoder says how to get one', async () => {
    await assert.rejects(CaptionEncoder.load(parityBundle(CAPTION_CASE)), (e: VideoVaeError) => e.code === 'ERR_TEXT' && /--t5/.test(e.message))
  })
})
