/**
 * The byte codecs ftfy's encoding repair uses, with Python's exact semantics: the single-byte
 * encodings it tries (tables generated from Python's codecs), strict UTF-8, and ftfy's
 * "utf-8-variants" (CESU-8 surrogate pairs and Java's 0xC0 0x80 for U+0000).
 *
 * Bytes are held in "binary strings" (one char per byte, U+0000-U+00FF) so that byte-level rules
 * can be written as regular expressions.
 */

import { CHARMAPS } from './tables.generated.js'

/** A single-byte encoding: its name, byte-to-character table and the inverse. */
export interface Charmap {
  name: string
  decode: string
  encode: ReadonlyMap<string, number>
}

/** The single-byte encodings ftfy tries, in its order. */
export const ENCODINGS: readonly Charmap[] = CHARMAPS.map(([name, decode]) => ({
  name,
  decode,
  encode: new Map([...decode].map((ch, byte) => [ch, byte])),
}))

/** `text.encode(charmap)` as a binary string; the caller has checked that every character maps. */
export function encodeCharmap(text: string, charmap: Charmap): string {
  const codes: number[] = []
  for (const ch of text) codes.push(charmap.encode.get(ch)!)
  let out = ''
  for (let i = 0; i < codes.length; i += 4096) out += String.fromCharCode(...codes.slice(i, i + 4096))
  return out
}

/** The characters a charmap can encode, as a regex class body (bytes 0x00-0x7F except 0x1A, plus
 * whatever 0x80-0xFF and 0x1A decode to), like ftfy's `possible_encoding`. */
export function charmapClass(charmap: Charmap): string {
  const high = [...charmap.decode.slice(0x80), charmap.decode[0x1a]]
  return `\\x00-\\x19\\x1b-\\x7f${high.map((ch) => `\\u{${ch.codePointAt(0)!.toString(16)}}`).join('')}`
}

const UTF8 = new TextDecoder('utf-8', { ignoreBOM: true })
const REPLACEMENT = /\ufffd/g
const REPLACEMENT_BYTES = /\xef\xbf\xbd/g

function toBytes(binary: string): Uint8Array {
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/**
 * Python's strict `bytes.decode('utf-8')` (no BOM removal), or null where Python raises. The
 * lenient decoder is used because failing is common here and exceptions are slow: it adds a
 * U+FFFD for every invalid sequence, so the bytes are valid when the U+FFFDs in the text are just
 * the encoded ones.
 */
export function decodeUtf8(binary: string): string | null {
  const text = UTF8.decode(toBytes(binary))
  if (!text.includes('\ufffd')) return text
  const encoded = binary.match(REPLACEMENT_BYTES)?.length ?? 0
  return text.match(REPLACEMENT)!.length === encoded ? text : null
}

// Python's `$` also matches before a final '\n'; the codec's patterns rely on it.
function endAt(binary: string, i: number): boolean {
  return i === binary.length || (i === binary.length - 1 && binary[i] === '\n')
}

function byteIn(binary: string, i: number, lo: number, hi: number): boolean {
  const b = binary.charCodeAt(i)
  return i < binary.length && b >= lo && b <= hi
}

// One element of a special sequence: a byte in [lo, hi], or the end of the input.
function partAt(binary: string, i: number, lo: number, hi: number): boolean {
  return byteIn(binary, i, lo, hi) || endAt(binary, i)
}

/** Where a 0xC0 0x80 (Java's U+0000) or a 0xED surrogate sequence starts: the first index at or
 * after `from` matching the codec's special patterns, or -1. */
function specialStart(binary: string, from: number): number {
  for (let i = from; i < binary.length; i++) {
    const b = binary.charCodeAt(i)
    if (b === 0xc0 && partAt(binary, i + 1, 0x80, 0x80)) return i
    if (b === 0xed && partAt(binary, i + 1, 0xa0, 0xbf) && partAt(binary, i + 2, 0x80, 0xbf)) return i
  }
  return -1
}

/** A CESU-8 surrogate pair (six bytes, the last possibly a final '\n' matched as the end). */
function cesu8At(binary: string, i: number): boolean {
  return (
    binary.charCodeAt(i) === 0xed &&
    partAt(binary, i + 1, 0xa0, 0xaf) &&
    partAt(binary, i + 2, 0x80, 0xbf) &&
    (binary.charCodeAt(i + 3) === 0xed || endAt(binary, i + 3)) &&
    partAt(binary, i + 4, 0xb0, 0xbf) &&
    partAt(binary, i + 5, 0x80, 0xbf)
  )
}

/**
 * ftfy's "utf-8-variants" decoding: strict UTF-8, except that 0xC0 0x80 is U+0000 and a CESU-8
 * encoded surrogate pair is the astral character it stands for; null where ftfy's codec raises.
 */
export function decodeUtf8Variants(binary: string): string | null {
  let out = ''
  let pos = 0
  while (pos < binary.length) {
    const start = specialStart(binary, pos)
    if (start < 0) {
      const rest = decodeUtf8(binary.slice(pos))
      return rest === null ? null : out + rest
    }
    if (start > pos) {
      const part = decodeUtf8(binary.slice(pos, start))
      if (part === null) return null
      out += part
      pos = start
      continue
    }
    const left = binary.length - pos
    if (binary.charCodeAt(pos) === 0xc0) {
      if (left < 2) return null
      out += '\u0000'
      pos += 2
    } else if (left >= 6 && cesu8At(binary, pos)) {
      const b = (k: number) => binary.charCodeAt(pos + k)
      out += String.fromCodePoint(((b(1) & 0x0f) << 16) + ((b(2) & 0x3f) << 10) + ((b(4) & 0x0f) << 6) + (b(5) & 0x3f) + 0x10000)
      pos += 6
    } else {
      return null // a UTF-8-encoded surrogate
    }
  }
  return out
}
