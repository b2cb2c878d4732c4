/**
 * Minimal HTML-to-text and entity unescaping, matching what the official caption cleaner gets from
 * `BeautifulSoup(text, features='html.parser').text` and from Python's `html.unescape`.
 */

import { CP1252_HIGH, ENTITIES, LEGACY_ENTITIES } from './entities.js'

// Python html.parser's charref: digits must be followed by a non-hex character (';' is consumed).
const CHARREF = /^&#(?:([0-9]+)|[xX]([0-9a-fA-F]+))([^0-9a-fA-F])/
// Python html.parser's entityref: a name followed by a character that cannot continue it.
const ENTITYREF = /^&([a-zA-Z][-.a-zA-Z0-9]*)([^a-zA-Z0-9])/
// Elements whose content html.parser reads as raw text; BeautifulSoup stores it as Script/Stylesheet
// strings, which `.text` leaves out (bs4 >= 4.10).
const RAW_TEXT_ELEMENTS = new Set(['script', 'style'])

/**
 * BeautifulSoup's html.parser numeric reference: 0x80-0x9F are read as Windows-1252 bytes (so
 * `&#147;` is a curly quote); 0, surrogates and values past U+10FFFF give U+FFFD.
 */
function charrefText(code: number): string {
  if (code >= 0x80 && code <= 0x9f) return String.fromCodePoint(CP1252_HIGH[code - 0x80])
  if (code === 0 || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff || !Number.isFinite(code)) return '\ufffd'
  return String.fromCodePoint(code)
}

/**
 * End of a start tag that begins at `start` (`<` + letter): the index after its `>`, skipping `>`
 * inside quoted attribute values, or -1 when the tag never closes.
 */
function startTagEnd(markup: string, start: number): number {
  for (let i = start + 1; i < markup.length; i++) {
    const ch = markup[i]
    if (ch === '>') return i + 1
    if (ch === '=') {
      // A quoted value may contain '>'.
      let j = i + 1
      while (j < markup.length && /\s/.test(markup[j])) j++
      const quote = markup[j]
      if (quote === '"' || quote === "'") {
        const close = markup.indexOf(quote, j + 1)
        if (close < 0) return -1
        i = close
      }
    }
  }
  return -1
}

/**
 * `BeautifulSoup(markup, 'html.parser').text`: the document's text with tags, comments,
 * declarations, processing instructions and script/style content dropped, and character
 * references decoded. Nothing else changes: no whitespace is added for block tags (`a<br>b` is
 * `ab`).
 *
 * Follows Python's html.parser (3.8-3.12 behaviour) for malformed input: a `<` that cannot start
 * markup is text; an unterminated tag, comment or declaration is emitted as raw text up to the next
 * `<` (only the `<` itself when there is none); a reference without a terminator at the very end of
 * the text is kept literally; an unknown `&name;` keeps the name but loses the `;` (BeautifulSoup's
 * handle_entityref).
 */
export function htmlToText(markup: string): string {
  if (!markup.includes('<') && !markup.includes('&')) return markup
  let out = ''
  let i = 0
  const n = markup.length
  while (i < n) {
    const next = markup.slice(i).search(/[<&]/)
    if (next < 0) {
      out += markup.slice(i)
      break
    }
    out += markup.slice(i, i + next)
    i += next
    if (markup[i] === '&') {
      const rest = markup.slice(i)
      const charref = CHARREF.exec(rest)
      if (charref !== null) {
        const code = charref[1] !== undefined ? parseInt(charref[1], 10) : parseInt(charref[2], 16)
        out += charrefText(code)
        i += charref[0].length - (charref[3] === ';' ? 0 : 1)
        continue
      }
      if (rest.startsWith('&#')) {
        // html.parser gives up on a malformed numeric reference and emits '&#' as text.
        out += '&#'
        i += 2
        continue
      }
      const entityref = ENTITYREF.exec(rest)
      if (entityref !== null) {
        const name = entityref[1]
        out += ENTITIES.get(name) ?? `&${name}`
        i += entityref[0].length - (entityref[2] === ';' ? 0 : 1)
        continue
      }
      if (/^&[a-zA-Z#]$/.test(rest)) {
        // html.parser quirk at the very end: '&x' loses its '&'.
        out += rest[1]
        break
      }
      if (/^&[a-zA-Z#]/.test(rest)) {
        // A reference running into the end of the text stays literal.
        out += rest
        break
      }
      out += '&'
      i += 1
      continue
    }
    // markup[i] === '<'
    const after = markup[i + 1] ?? ''
    let end: number
    if (/[a-zA-Z]/.test(after)) {
      end = startTagEnd(markup, i)
      if (end >= 0) {
        const name = /^<([^\t\n\r\f />\x00]+)/.exec(markup.slice(i))?.[1].toLowerCase() ?? ''
        const selfClosing = markup[end - 2] === '/'
        if (RAW_TEXT_ELEMENTS.has(name) && !selfClosing) {
          // Raw text up to the matching end tag is dropped; the end tag is parsed normally.
          const close = markup.slice(end).toLowerCase().indexOf(`</${name}`)
          end = close < 0 ? n : end + close
        }
      }
    } else if (after === '/') {
      end = markup.indexOf('>', i + 2)
      if (end >= 0) end += 1
    } else if (markup.startsWith('<!--', i)) {
      end = markup.indexOf('-->', i + 4)
      if (end >= 0) end += 3
    } else if (after === '!' || after === '?') {
      end = markup.indexOf('>', i + 2)
      if (end >= 0) end += 1
    } else {
      out += '<'
      i += 1
      continue
    }
    if (end < 0) {
      // Unterminated markup: html.parser emits it raw, up to the next '<'.
      const nextOpen = markup.indexOf('<', i + 1)
      const stop = nextOpen < 0 ? i + 1 : nextOpen
      out += markup.slice(i, stop)
      i = stop
      continue
    }
    i = end
  }
  return out
}

// Python html.unescape's reference pattern: numeric with optional ';', or up to 32 name characters.
const UNESCAPE_REF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g

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
  return text.replace(UNESCAPE_REF, (_match, ref: string) =>
    ref[0] === '#' ? unescapeNumeric(ref) : unescapeNamed(ref))
}
