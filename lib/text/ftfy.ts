/**
 * A subset of `ftfy.fix_text` (ftfy 6, default configuration), the first half of the official
 * cleaner's `basic_clean`.
 *
 * Covered, applied in ftfy's order and repeated until the text stops changing:
 * - HTML entities (`unescape_html="auto"`: only when the text has no `<`), via `htmlUnescape`;
 * - mojibake: UTF-8 sequences that were decoded as Windows-1252/Latin-1 (`â€œ` is `“`, `Ã©` is
 *   `é`), fixed per sequence when the bytes form valid UTF-8 (like ftfy's `decode_inconsistent_utf8`);
 * - C1 controls U+0080-U+009F read as Windows-1252 (`fix_c1_controls`);
 * - Latin ligatures (`ﬁ` is `fi`) and the digraph letters (`fix_latin_ligatures`);
 * - fullwidth and halfwidth forms U+FF01-U+FFEF, and U+3000 as a space (`fix_character_width`);
 * - curly quotes U+2018-U+201B and U+02BC to `'`, U+201C-U+201F to `"` (`uncurl_quotes`);
 * - line breaks `\r\n`, `\r`, U+0085, U+2028, U+2029 to `\n` (`fix_line_breaks`);
 * - lone surrogates to U+FFFD (`fix_surrogates`);
 * - ANSI terminal escapes removed (`remove_terminal_escapes`);
 * - control characters removed (`remove_control_chars`: U+0000-U+0008, U+000B, U+000E-U+001F,
 *   U+007F, U+206A-U+206F, U+FEFF, U+FFF9-U+FFFC);
 * - NFC normalisation.
 *
 * Not covered: ftfy's badness heuristic (it decides whether to re-decode the whole text; here only
 * sequences that decode as valid UTF-8 are fixed, which is stricter for isolated sequences and
 * looser for text ftfy would judge fine), re-decoding from other legacy encodings (MacRoman,
 * cp437, ...), `restore_byte_a0` (mojibake whose 0xA0 byte became a space), `replace_lossy_sequences`,
 * CESU-8 / Java "modified UTF-8", and the splitting of very long texts into segments.
 */

import { CP1252_HIGH } from './entities.js'
import { htmlUnescape } from './html.js'

/** The byte a character came from, read as Windows-1252 or Latin-1 (C1 controls); -1 if none. */
function cp1252Byte(ch: string): number {
  const code = ch.codePointAt(0) ?? -1
  if (code <= 0xff) return code
  const index = CP1252_HIGH.indexOf(code)
  return index < 0 ? -1 : 0x80 + index
}

// Characters that stand for a UTF-8 continuation byte (0x80-0xBF) in Windows-1252 or Latin-1.
const CONT = `[\\u0080-\\u00bf${CP1252_HIGH.map((c) => `\\u{${c.toString(16)}}`).join('')}]`
// A UTF-8 lead byte (0xC2-0xF4) followed by its continuation bytes, all seen through Windows-1252.
const MOJIBAKE = new RegExp(
  `[\\u00c2-\\u00df]${CONT}|[\\u00e0-\\u00ef]${CONT}{2}|[\\u00f0-\\u00f4]${CONT}{3}`, 'gu')
const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true })

function fixMojibake(text: string): string {
  return text.replace(MOJIBAKE, (seq) => {
    const bytes = Uint8Array.from([...seq], cp1252Byte)
    try {
      return UTF8_STRICT.decode(bytes)
    } catch {
      return seq // overlong or surrogate encodings are not mojibake
    }
  })
}

const C1_CONTROLS = /[\u0080-\u009f]/g

const LIGATURES: Record<string, string> = {
  '\u0132': 'IJ', '\u0133': 'ij', '\u0149': '\u02bcn',
  '\u01c4': 'D\u017d', '\u01c5': 'D\u017e', '\u01c6': 'd\u017e',
  '\u01c7': 'LJ', '\u01c8': 'Lj', '\u01c9': 'lj', '\u01ca': 'NJ', '\u01cb': 'Nj', '\u01cc': 'nj',
  '\u01f1': 'DZ', '\u01f2': 'Dz', '\u01f3': 'dz',
  '\ufb00': 'ff', '\ufb01': 'fi', '\ufb02': 'fl', '\ufb03': 'ffi', '\ufb04': 'ffl',
  '\ufb05': '\u017ft', '\ufb06': 'st',
}
const LIGATURE_RE = new RegExp(`[${Object.keys(LIGATURES).join('')}]`, 'g')

// ftfy maps each of U+FF01-U+FFEF to its NFKC form, and the ideographic space to a space.
const WIDTH_RE = /[\u3000\uff01-\uffef]/g
function fixWidth(ch: string): string {
  return ch === '\u3000' ? ' ' : ch.normalize('NFKC')
}

const SINGLE_QUOTES = /[\u02bc\u2018-\u201b]/g
const DOUBLE_QUOTES = /[\u201c-\u201f]/g
const LINE_BREAKS = /\r\n|[\r\u0085\u2028\u2029]/g
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
const ANSI_ESCAPE = /\u001b\[((?:\d|;)*)([a-zA-Z])/g
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000e-\u001f\u007f\u206a-\u206f\ufeff\ufff9-\ufffc]/g

function fixOnce(text: string, unescape: boolean): string {
  let t = unescape ? htmlUnescape(text) : text
  t = fixMojibake(t)
  t = t.replace(C1_CONTROLS, (ch) => String.fromCodePoint(CP1252_HIGH[ch.charCodeAt(0) - 0x80]))
  t = t.replace(LIGATURE_RE, (ch) => LIGATURES[ch])
  t = t.replace(WIDTH_RE, fixWidth)
  t = t.replace(SINGLE_QUOTES, "'").replace(DOUBLE_QUOTES, '"')
  t = t.replace(LINE_BREAKS, '\n')
  t = t.replace(LONE_SURROGATE, '\ufffd')
  t = t.replace(ANSI_ESCAPE, '')
  t = t.replace(CONTROL_CHARS, '')
  return t.normalize('NFC')
}

/** The covered part of `ftfy.fix_text(text)`; see the module comment for what is left out. */
export function fixText(text: string): string {
  // "auto": entities are unescaped only in text that does not look like HTML.
  const unescape = !text.includes('<')
  let current = text
  for (let i = 0; i < 10; i++) {
    const next = fixOnce(current, unescape)
    if (next === current) return next
    current = next
  }
  return current
}
