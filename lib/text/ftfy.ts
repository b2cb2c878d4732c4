/**
 * `ftfy.fix_text` of ftfy 6.3.1 with its default configuration, the first half of the official
 * cleaner's `basic_clean`, ported rule for rule (tables from Python in tables.generated.ts).
 *
 * The text is split after each '\n' (and every 1,000,000 code points); each segment is fixed on
 * its own by applying, in this order and until the segment stops changing: HTML entities
 * (`unescape_html="auto"`: not in a segment with '<', nor in any segment after one), mojibake
 * (`fix_encoding`, ftfy_encoding.ts), C1 controls, Latin ligatures, fullwidth/halfwidth forms,
 * curly quotes, line breaks, surrogates, ANSI terminal escapes, control characters, NFC.
 *
 * Strings are compared and split by code points as in Python; Unicode character data is Node's
 * (ICU), which can differ from Python's `unicodedata` for characters added in newer versions.
 */

import { fixC1Controls, fixEncoding } from './ftfy_encoding.js'
import { htmlUnescape } from './html.js'
import { D } from './pyre.js'
import { FTFY_UPPER_ENTITIES, HTML5_ENTITIES } from './tables.generated.js'

const MAX_DECODE_LENGTH = 1_000_000
const MAX_PASSES = 100

// ftfy's own entity rule: only references ending in ';'; names are HTML5's plus upper-case
// spellings; a numeric reference is what `html.unescape` makes of it, when that consumed the ';'.
const ENTITY_REF = /&#?[0-9A-Za-z]{1,24};/g

function unescapeEntity(ref: string): string {
  const name = ref.slice(1, -1)
  if (Object.hasOwn(HTML5_ENTITIES, name)) return HTML5_ENTITIES[name]
  if (Object.hasOwn(FTFY_UPPER_ENTITIES, name)) return FTFY_UPPER_ENTITIES[name]
  if (ref.startsWith('&#')) {
    const text = htmlUnescape(ref)
    return text.includes(';') ? ref : text
  }
  return ref
}

const LIGATURES: Record<string, string> = {
  '\u0132': 'IJ',
  '\u0133': 'ij',
  '\u0149': '\u02bcn',
  '\u01c4': 'D\u017d',
  '\u01c5': 'D\u017e',
  '\u01c6': 'd\u017e',
  '\u01c7': 'LJ',
  '\u01c8': 'Lj',
  '\u01c9': 'lj',
  '\u01ca': 'NJ',
  '\u01cb': 'Nj',
  '\u01cc': 'nj',
  '\u01f1': 'DZ',
  '\u01f2': 'Dz',
  '\u01f3': 'dz',
  '\ufb00': 'ff',
  '\ufb01': 'fi',
  '\ufb02': 'fl',
  '\ufb03': 'ffi',
  '\ufb04': 'ffl',
  '\ufb05': '\u017ft',
  '\ufb06': 'st',
}
const LIGATURE_RE = new RegExp(`[${Object.keys(LIGATURES).join('')}]`, 'g')

// U+FF01-U+FFEF to their NFKC forms, and the ideographic space to a space.
const WIDTH_RE = /[\u3000\uff01-\uffef]/g
function fixWidth(ch: string): string {
  return ch === '\u3000' ? ' ' : ch.normalize('NFKC')
}

const SINGLE_QUOTES = /[\u02bc\u2018-\u201b]/g
const DOUBLE_QUOTES = /[\u201c-\u201f]/g
const LINE_BREAKS = /\r\n|[\r\u0085\u2028\u2029]/g
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
// Python's `\d` in ftfy's pattern is any Unicode decimal digit.
const ANSI_ESCAPE = new RegExp(`\\u001b\\[(?:[${D}]|;)*[a-zA-Z]`, 'gu')
// eslint-disable-next-line no-control-regex -- ftfy's own control-character class
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000e-\u001f\u007f\u206a-\u206f\ufeff\ufff9-\ufffc]/g

/** One segment, fixed until it stops changing (ftfy's `fix_and_explain`). */
function fixSegment(text: string, unescape: boolean): string {
  // Until nothing changes, as ftfy does; the cap only guards against a text that never settles.
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const orig = text
    if (unescape) text = text.replace(ENTITY_REF, unescapeEntity)
    text = fixEncoding(text)
    text = fixC1Controls(text)
    text = text.replace(LIGATURE_RE, (ch) => LIGATURES[ch])
    text = text.replace(WIDTH_RE, fixWidth)
    text = text.replace(DOUBLE_QUOTES, '"').replace(SINGLE_QUOTES, "'")
    text = text.replace(LINE_BREAKS, '\n')
    text = text.replace(LONE_SURROGATE, '\ufffd')
    text = text.replace(ANSI_ESCAPE, '')
    text = text.replace(CONTROL_CHARS, '')
    text = text.normalize('NFC')
    if (text === orig) return text
  }
  return text
}

/** The segments ftfy fixes separately: up to and including each '\n', at most 1,000,000 code points. */
function segments(text: string): string[] {
  const lines = text.split(/(?<=\n)/)
  const out: string[] = []
  for (const line of lines) {
    if (line.length <= MAX_DECODE_LENGTH) {
      out.push(line)
      continue
    }
    const points = Array.from(line)
    for (let i = 0; i < points.length; i += MAX_DECODE_LENGTH) out.push(points.slice(i, i + MAX_DECODE_LENGTH).join(''))
  }
  return out
}

/** `ftfy.fix_text(text)` with ftfy 6.3.1's default configuration. */
export function fixText(text: string): string {
  // "auto": entities are unescaped until a segment looks like HTML (contains '<').
  let unescape = true
  let out = ''
  for (const segment of segments(text)) {
    if (segment.includes('<')) unescape = false
    out += fixSegment(segment, unescape)
  }
  return out
}
