/**
 * Python's `html.unescape` (HTML5 rules and table), and `BeautifulSoup(text, 'html.parser').text`
 * (soup.ts), the two HTML steps of the official caption cleaner.
 */

import { CP1252_HIGH, ENTITIES, LEGACY_ENTITIES } from './entities.js'

export { htmlToText } from './soup.js'

// Python html.unescape's reference pattern: numeric with optional ';', or up to 32 name characters
// (code points, hence the 'u' flag).
const UNESCAPE_REF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu

/** Code points Python's `html.unescape` drops (controls and noncharacters). */
function isInvalidCodepoint(code: number): boolean {
  if ((code >= 0x1 && code <= 0x8) || code === 0xb || (code >= 0xe && code <= 0x1f)) return true
  if (code >= 0x7f && code <= 0x9f) return true
  if (code >= 0xfdd0 && code <= 0xfdef) return true
  return (code & 0xfffe) === 0xfffe
}

function unescapeNumeric(digits: string): string {
  const hex = digits[1] === 'x' || digits[1] === 'X'
  const code = hex ? parseInt(digits.slice(2), 16) : parseInt(digits.slice(1), 10)
  if (code === 0) return '\ufffd'
  if (code === 0x0d) return '\r'
  if (code >= 0x80 && code <= 0x9f) return String.fromCodePoint(CP1252_HIGH[code - 0x80])
  if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff || !Number.isFinite(code)) return '\ufffd'
  if (isInvalidCodepoint(code)) return ''
  return String.fromCodePoint(code)
}

function unescapeNamed(ref: string): string {
  if (ref.endsWith(';')) {
    const value = ENTITIES.get(ref.slice(0, -1))
    if (value !== undefined) return value
  } else if (LEGACY_ENTITIES.has(ref)) {
    return ENTITIES.get(ref) ?? `&${ref}`
  }
  // The longest legacy name that prefixes the reference ('&notit;' is '¬it;').
  for (let len = ref.length - 1; len > 1; len--) {
    const prefix = ref.slice(0, len)
    if (LEGACY_ENTITIES.has(prefix)) return (ENTITIES.get(prefix) ?? '') + ref.slice(len)
  }
  return `&${ref}`
}

/**
 * Python's `html.unescape`: numeric references (Windows-1252 for 0x80-0x9F, U+FFFD for invalid
 * ones, controls and noncharacters dropped) and named references with HTML5's rules for a missing
 * `;`, over the full HTML5 table.
 */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text
  return text.replace(UNESCAPE_REF, (_match, ref: string) => (ref[0] === '#' ? unescapeNumeric(ref) : unescapeNamed(ref)))
}
