/**
 * Differential test of caption cleaning and tokenization against Python (issue 30): 20,000
 * generated captions (mojibake made from real text in many scripts, once and twice, in every
 * encoding ftfy repairs; every HTML5 entity with and without ';'; numeric references; markup;
 * control and format characters; what the official cleaning steps remove) go through
 * test/support/caption_reference.py (ftfy 6.3.1, html.unescape, BeautifulSoup, the official
 * cleaning steps, the Hugging Face T5 tokenizer of the tiny test model) and through our code.
 * Every difference fails.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'

import { CaptionEncoder } from '../../lib/index.js'
import { cleanCaption } from '../../lib/text/clean_caption.js'
import { fixText } from '../../lib/text/ftfy.js'
import { htmlToText, htmlUnescape } from '../../lib/text/html.js'
import { PYTHON, ROOT } from '../support/parity.js'
import { textBundle, tinyT5Dir } from '../support/text.js'

const COUNT = 20_000
const SEED = 30
const MAX_LENGTH = 100

/** What caption_reference.py writes; null where the official code raises on a caption. */
interface Reference {
  captions: string[]
  fix_text: string[]
  unescape: string[]
  soup: (string | null)[]
  clean_once: (string | null)[]
  cleaned: (string | null)[]
  ids: number[][]
}

/** Asserts `ours(input) === expected` for every pair, listing the first differences. */
function assertSame(what: string, inputs: (string | null)[], expected: (string | null)[], ours: (text: string) => string): void {
  const diffs: string[] = []
  let compared = 0
  inputs.forEach((input, i) => {
    const want = expected[i]
    if (input === null || want === null) return
    compared++
    const got = ours(input)
    if (got !== want) diffs.push(`${JSON.stringify(input)}\n    python ${JSON.stringify(want)}\n    ours   ${JSON.stringify(got)}`)
  })
  assert.ok(compared > 0.9 * inputs.length, `${what}: only ${compared} of ${inputs.length} compared`)
  assert.equal(diffs.length, 0, `${what}: ${diffs.length} of ${compared} differ, e.g.\n  ${diffs.slice(0, 10).join('\n  ')}`)
}

describe(`${COUNT} generated captions: cleaning and token ids equal the official Python pipeline`, () => {
  let dir: string
  let ref: Reference
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-captions-'))
    execFileSync(
      PYTHON,
      [
        path.join(ROOT, 'test', 'support', 'caption_reference.py'),
        String(COUNT),
        String(SEED),
        tinyT5Dir(),
        path.join(dir, 'reference.json'),
        path.join(dir, 'tables.ts'),
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    )
    ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference
  })
  after(() => fs.rmSync(dir, { recursive: true, force: true }))

  test('lib/text/tables.generated.ts is what python/tools/gen_text_tables.py writes', () => {
    const committed = fs.readFileSync(path.join(ROOT, 'lib', 'text', 'tables.generated.ts'), 'utf8')
    const fresh = fs.readFileSync(path.join(dir, 'tables.ts'), 'utf8')
    // The first line names the Python version that wrote it.
    assert.equal(committed.split('\n').slice(1).join('\n'), fresh.split('\n').slice(1).join('\n'))
  })

  test('the captions cover what they are meant to', () => {
    const all = ref.captions.join('\n')
    assert.equal(ref.captions.length, COUNT)
    assert.ok(ref.captions.filter((c, i) => ref.fix_text[i] !== c).length > COUNT / 2, 'ftfy changes most captions')
    assert.match(all, /Ã©|â€™/) // Windows-1252 mojibake
    assert.match(all, /&[a-zA-Z]+2020/) // entities without ';' running into text
    assert.match(all, /&#x[0-9a-f]+;/)
    // eslint-disable-next-line no-control-regex -- ANSI escapes are among the generated captions
    assert.match(all, /\u001b\[/)
  })

  test('ftfy.fix_text', () => assertSame('fix_text', ref.captions, ref.fix_text, fixText))

  test('html.unescape', () => assertSame('html.unescape', ref.captions, ref.unescape, htmlUnescape))

  test('BeautifulSoup(text, "html.parser").text', () => assertSame('BeautifulSoup', ref.captions, ref.soup, htmlToText))

  test('clean_caption, first and second pass', () => {
    assertSame('clean_caption', ref.captions, ref.clean_once, cleanCaption)
    assertSame('clean_caption (second pass)', ref.clean_once, ref.cleaned, cleanCaption)
  })

  test('token ids of the cleaned captions equal the Hugging Face T5 tokenizer', async () => {
    const encoder = await CaptionEncoder.load(textBundle('bfloat16'))
    try {
      const rows = ref.captions.map((_, i) => i).filter((i) => ref.cleaned[i] !== null)
      // The cleaned captions (equal to ours, tested above) without cleaning again; a sample from
      // the raw captions with cleaning, as `videovae tokenize` does it.
      const cleaned = encoder.tokenize(
        rows.map((i) => ref.cleaned[i]!),
        { clean: false },
      )
      const sample = rows.slice(0, 1000)
      const raw = encoder.tokenize(sample.map((i) => ref.captions[i]!))
      const diffs: string[] = []
      const compare = (ids: Int32Array, k: number, row: number) => {
        const want = ref.ids[row]!
        for (let t = 0; t < MAX_LENGTH; t++) {
          if (ids[k * MAX_LENGTH + t] !== (want[t] ?? 0)) {
            const got = Array.from(ids.subarray(k * MAX_LENGTH, (k + 1) * MAX_LENGTH))
            diffs.push(`${JSON.stringify(ref.captions[row])} -> ${JSON.stringify(ref.cleaned[row])}\n    python ${want}\n    ours   ${got}`)
            return
          }
        }
      }
      rows.forEach((row, k) => compare(cleaned.ids, k, row))
      sample.forEach((row, k) => compare(raw.ids, k, row))
      assert.equal(diffs.length, 0, `${diffs.length} of ${rows.length + sample.length} differ, e.g.\n  ${diffs.slice(0, 5).join('\n  ')}`)
    } finally {
      encoder.dispose()
    }
  })
})
