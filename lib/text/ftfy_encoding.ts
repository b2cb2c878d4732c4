/**
 * ftfy 6.3's `fix_encoding` (default configuration): undoes mojibake, text that was encoded in
 * UTF-8 and decoded in a single-byte encoding (`CafÃ©` is `Café`, `donâ€™t` is `don’t`), as often
 * as it was done.
 *
 * One step: when the text looks bad (ftfy_badness.ts), encode it back with the first single-byte
 * encoding that can represent it and whose bytes then decode as UTF-8, after repairing bytes that
 * were typically altered on the way (U+00A0 turned into a space, lossy "sloppy" decodings);
 * otherwise fix each run of UTF-8-looking characters on its own; otherwise turn Latin-1 C1 controls
 * into their Windows-1252 characters. Steps repeat until the text stops changing.
 */

import { type Charmap, charmapClass, decodeUtf8, decodeUtf8Variants, encodeCharmap, ENCODINGS } from './codecs.js'
import { isBad, UTF8_DETECTOR } from './ftfy_badness.js'

// eslint-disable-next-line no-control-regex -- the whole ASCII range, controls included
const ASCII = /^[\x00-\x7f]*$/
const POSSIBLE = new Map(ENCODINGS.map((c) => [c.name, new RegExp(`^[${charmapClass(c)}]*$`, 'u')]))

// Byte patterns (on binary strings) where a UTF-8 sequence's 0xA0 byte was probably turned into a
// space, e.g. by HTML whitespace handling.
const ALTERED_UTF8 = new RegExp(
  [
    '[\\xc2\\xc3\\xc5\\xce\\xd0\\xd9] ',
    '[\\xe2\\xe3] [\\x80-\\x84\\x86-\\x9f\\xa1-\\xbf]',
    '[\\xe0-\\xe3][\\x80-\\x84\\x86-\\x9f\\xa1-\\xbf] ',
    '\\xf0 [\\x80-\\xbf][\\x80-\\xbf]',
    '\\xf0[\\x80-\\xbf] [\\x80-\\xbf]',
    '\\xf0[\\x80-\\xbf][\\x80-\\xbf] ',
  ].join('|'),
  'g',
)
// 'à ' followed by a word: the space was the 0xA0 of 'à' (except in Portuguese "à quele"...).
const A_GRAVE_WORD = /\xc3 (?! |quele|quela|quilo|s )/g
// Sequences a "sloppy" decoding could not have kept intact (0x1A or '?' where a byte was lost).
const LOSSY_UTF8 = new RegExp(
  [
    '[\\xc2-\\xdf]\\x1a',
    '[\\xc2-\\xc3]\\?',
    '\\xed[\\xa0-\\xaf][\\x1a?]\\xed[\\xb0-\\xbf][\\x1a?\\x80-\\xbf]',
    '\\xed[\\xa0-\\xaf][\\x1a?\\x80-\\xbf]\\xed[\\xb0-\\xbf][\\x1a?]',
    '[\\xe0-\\xef][\\x1a?][\\x1a\\x80-\\xbf]',
    '[\\xe0-\\xef][\\x1a\\x80-\\xbf][\\x1a?]',
    '[\\xf0-\\xf4][\\x1a?][\\x1a\\x80-\\xbf][\\x1a\\x80-\\xbf]',
    '[\\xf0-\\xf4][\\x1a\\x80-\\xbf][\\x1a?][\\x1a\\x80-\\xbf]',
    '[\\xf0-\\xf4][\\x1a\\x80-\\xbf][\\x1a\\x80-\\xbf][\\x1a?]',
    '\\x1a',
  ].join('|'),
  'g',
)
const REPLACEMENT_UTF8 = '\xef\xbf\xbd'
const MAX_STEPS = 100
const C1 = /[\x80-\x9f]/
const C1_ALL = /[\x80-\x9f]/g

const SLOPPY_1252 = ENCODINGS.find((c) => c.name === 'sloppy-windows-1252')!

function restoreByteA0(bytes: string): string {
  return bytes.replace(A_GRAVE_WORD, '\xc3\xa0 ').replace(ALTERED_UTF8, (m) => m.replaceAll(' ', '\xa0'))
}

/** Re-encodes with `charmap`, repairs, decodes as UTF-8; null where the bytes are not UTF-8. */
function redecode(text: string, charmap: Charmap): string | null {
  let bytes = encodeCharmap(text, charmap)
  ALTERED_UTF8.lastIndex = 0
  if (charmap.name !== 'macroman' && ALTERED_UTF8.test(bytes)) bytes = restoreByteA0(bytes)
  if (charmap.name.startsWith('sloppy')) bytes = bytes.replace(LOSSY_UTF8, REPLACEMENT_UTF8)
  return bytes.includes('\xed') || bytes.includes('\xc0') ? decodeUtf8Variants(bytes) : decodeUtf8(bytes)
}

/** Latin-1 C1 controls as the Windows-1252 characters they stand for (ftfy's `fix_c1_controls`). */
export function fixC1Controls(text: string): string {
  return text.replace(C1_ALL, (ch) => SLOPPY_1252.decode[ch.charCodeAt(0)])
}

/** Each run of UTF-8-looking characters that is bad on its own, fixed on its own. */
function decodeInconsistentUtf8(text: string): string {
  return text.replace(UTF8_DETECTOR, (run) => (run.length < text.length && isBad(run) ? fixEncoding(run) : run))
}

function fixEncodingStep(text: string): string {
  if (text.length === 0 || ASCII.test(text) || !isBad(text)) return text
  for (const charmap of ENCODINGS) {
    if (!POSSIBLE.get(charmap.name)!.test(text)) continue
    const fixed = redecode(text, charmap)
    if (fixed !== null) return fixed
  }
  UTF8_DETECTOR.lastIndex = 0
  if (UTF8_DETECTOR.test(text)) {
    const fixed = decodeInconsistentUtf8(text)
    if (fixed !== text) return fixed
  }
  // ftfy then reads Latin-1 text with C1 controls as Windows-1252 (strictly, else sloppily): either
  // way each control becomes its sloppy Windows-1252 character and nothing else changes.
  if (C1.test(text)) return fixC1Controls(text)
  return text
}

/** ftfy's `fix_encoding`: mojibake undone, step by step, until the text stops changing. */
export function fixEncoding(text: string): string {
  // ftfy loops until nothing changes; each undone layer of mojibake takes one step, so the cap
  // only guards against a text that never settles.
  for (let step = 0; step < MAX_STEPS; step++) {
    const next = fixEncodingStep(text)
    if (next === text) return text
    text = next
  }
  return text
}
