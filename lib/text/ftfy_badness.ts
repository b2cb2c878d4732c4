/**
 * ftfy 6.3's mojibake heuristic (`is_bad`): text is "bad" when it contains a sequence of
 * characters that is much more likely to come from UTF-8 decoded in the wrong single-byte encoding
 * than from real writing, e.g. an accented lower-case letter followed by a currency sign.
 *
 * The character categories are ftfy's data (tables.generated.ts); the sequences below follow its
 * list rule for rule. Python's `\s` and `\w` are Unicode-aware (pyre.ts).
 */

import { S, W } from './pyre.js'
import { MOJIBAKE_CATEGORIES, UTF8_CLUES } from './tables.generated.js'

type Ranges = ReadonlyArray<readonly [number, number]>

function hex(code: number): string {
  return `\\u{${code.toString(16)}}`
}

/** Regex class contents for code-point ranges. */
export function classOf(ranges: Ranges): string {
  return ranges.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('')
}

const CAT = Object.fromEntries(Object.entries(MOJIBAKE_CATEGORIES).map(([k, v]) => [k, classOf(v)]))

/** A character class made of categories (by name) and literal class text. */
function cls(...parts: string[]): string {
  return `[${parts.map((p) => CAT[p] ?? p).join('')}]`
}

// Sequences of categories that occur in mojibake and hardly ever in real text.
const BAD_SEQUENCES = [
  cls('c1'),
  cls('bad', 'lower_accented', 'upper_accented', 'box', 'start_punctuation', 'end_punctuation', 'currency', 'numeric', 'law') + cls('bad'),
  '[a-zA-Z]' + cls('lower_common', 'upper_common') + cls('bad'),
  cls('bad') + cls('lower_accented', 'upper_accented', 'box', 'start_punctuation', 'end_punctuation', 'currency', 'numeric', 'law'),
  cls('lower_accented', 'lower_common', 'box', 'end_punctuation', 'currency', 'numeric') + cls('upper_accented'),
  cls('box', 'end_punctuation', 'currency', 'numeric') + cls('lower_accented'),
  cls('lower_accented', 'box', 'end_punctuation') + cls('currency'),
  `[${S}]` + cls('upper_accented') + cls('currency'),
  cls('upper_accented', 'box') + cls('numeric', 'law'),
  cls('lower_accented', 'upper_accented', 'box', 'currency', 'end_punctuation') + cls('start_punctuation') + cls('numeric'),
  cls('lower_accented', 'upper_accented', 'currency', 'numeric', 'box', 'law') + cls('end_punctuation') + cls('start_punctuation'),
  cls('currency', 'numeric', 'box') + cls('start_punctuation'),
  '[a-z]' + cls('upper_accented') + cls('start_punctuation', 'currency'),
  cls('box') + cls('kaomoji'),
  cls('lower_accented', 'upper_accented', 'currency', 'numeric', 'start_punctuation', 'end_punctuation', 'law') + cls('box'),
  cls('box') + cls('end_punctuation'),
  cls('lower_accented', 'upper_accented') + cls('start_punctuation', 'end_punctuation') + `[${W}]`,
  // The ligature œ not followed by an unaccented Latin letter.
  '[\u0152\u0153][^A-Za-z]',
  // A degree sign after an accented capital.
  cls('upper_accented') + '\u00b0',
  // Common two-character Windows-1252 mojibake not covered above.
  '[\u00c2\u00c3\u00ce\u00d0]' +
    cls(
      '\u20ac\u0153\u0160\u0161\u00a2\u00a3\u0178\u017e\u00a0\u00ad\u00ae\u00a9\u00b0\u00b7\u00bb',
      'start_punctuation',
      'end_punctuation',
      '\u2013\u2014\u00b4',
    ),
  '\u00d7[\u00b2\u00b3]',
  // Windows-1252 mojibake of Arabic: four characters, since the 'common' ones are involved.
  ('[\u00d8\u00d9]' + cls('common', 'currency', 'bad', 'numeric', 'start_punctuation', '\u0178\u0160\u00ae\u00b0\u00b5\u00bb')).repeat(2),
  // Windows-1252 mojibake starting three-character sequences of South Asian scripts.
  '\u00e0[\u00b2\u00b5\u00b9\u00bc\u00bd\u00be]',
  // MacRoman mojibake not covered above.
  '\u221a[\u00b1\u2202\u2020\u2260\u00ae\u2122\u00b4\u2264\u2265\u00a5\u00b5\u00f8]',
  '\u2248[\u00b0\u00a2]',
  '\u201a\u00c4[\u00ec\u00ee\u00ef\u00f2\u00f4\u00fa\u00f9\u00fb\u2020\u00b0\u00a2\u03c0]',
  '\u201a[\u00e2\u00f3][\u00e0\u00e4\u00b0\u00ea]',
  // Windows-1251 mojibake of the U+2000 range.
  '\u0432\u0402',
  // Windows-1251 mojibake of Latin-1 or Cyrillic: three characters.
  '[\u0412\u0413\u0420\u0421]' + cls('c1', 'bad', 'start_punctuation', 'end_punctuation', 'currency', '\u00b0\u00b5') + '[\u0412\u0413\u0420\u0421]',
  // Windows-1251 on top of Latin-1 mojibake of Windows-1252, next to a Latin letter.
  '\u0413\u045e\u0412\u0402\u0412[^\\n][A-Za-z ]',
  // Windows-1252 encodings of 'à', 'á' and U+00A0.
  '\u00c3[\u00a0\u00a1]',
  `[a-z][${S}]?[\u00c3\u00c2] `,
  '^[\u00c3\u00c2] ',
  // Â encoding the very character that follows it.
  cls('a-z.,?!', 'end_punctuation') + '\u00c2' + cls(' ', 'start_punctuation', 'end_punctuation'),
  // Windows-1253 mojibake of the U+2000 range.
  '\u03b2\u20ac[\u2122\u00a0\u0386\u00ad\u00ae\u00b0]',
  // Windows-1253 mojibake of Latin-1 or Greek.
  '[\u0392\u0393\u039e\u039f]' + cls('c1', 'bad', 'start_punctuation', 'end_punctuation', 'currency', '\u00b0') + '[\u0392\u0393\u039e\u039f]',
  // Windows-1257 mojibake of the U+2000 range.
  '\u0101\u20ac',
]

const BADNESS = new RegExp(BAD_SEQUENCES.join('|'), 'u')

/** Whether the text contains a sequence that looks like mojibake (ftfy's `is_bad`). */
export function isBad(text: string): boolean {
  return BADNESS.test(text)
}

const CLUE = Object.fromEntries(Object.entries(UTF8_CLUES).map(([k, v]) => [k, `[${classOf(v)}]`]))

/**
 * Runs of what look like UTF-8 sequences read as a single-byte encoding (a lead-byte character and
 * its continuation characters), not preceded by a continuation character; ftfy fixes each run on
 * its own when the whole text cannot be re-decoded.
 */
export const UTF8_DETECTOR = new RegExp(
  `(?<!${CLUE.utf8_continuation_strict})(?:${CLUE.utf8_first_of_2}${CLUE.utf8_continuation}|` +
    `${CLUE.utf8_first_of_3}${CLUE.utf8_continuation}{2}|${CLUE.utf8_first_of_4}${CLUE.utf8_continuation}{3})+`,
  'gu',
)
