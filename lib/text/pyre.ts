/**
 * Building blocks that make JavaScript regular expressions behave like Python 3 `re` on `str`
 * patterns, which is what the official caption cleaner uses.
 *
 * Python's `\w`, `\d`, `\s` and `\b` are Unicode-aware; JavaScript's are ASCII-only even with the
 * `u` flag (except `\s`, whose set differs slightly). The constants below are class *contents*
 * (no brackets) so they can be combined inside `[...]`. Every pattern built from them needs the
 * `u` flag; `pyRe` adds it.
 *
 * Known differences: the Unicode database is Node's (ICU), not Python's `unicodedata`, so characters
 * added in a different Unicode version can classify differently.
 */

/** Python `\w`: `str.isalnum()` (categories L and N) or `_`. Combining marks are not word characters. */
export const W = '\\p{L}\\p{N}_'

/** Python `\d`: Unicode decimal digits (category Nd), not just 0-9. */
export const D = '\\p{Nd}'

/**
 * Python `\s` / `str.isspace()`: category Zs or bidi class WS, B or S. Unlike JavaScript `\s` it
 * includes U+001C-U+001F and U+0085, and excludes U+FEFF.
 */
export const S = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'

/** Python `\b`: a boundary between a `W` character and a non-`W` character (or the string's ends). */
export const B = `(?:(?<=[${W}])(?![${W}])|(?<![${W}])(?=[${W}]))`

/** A global, Unicode-mode regex (needed for `\p{...}` and code-point matching like Python's). */
export function pyRe(source: string): RegExp {
  return new RegExp(source, 'gu')
}

const LEADING_SPACE = pyRe(`^[${S}]+`)
const TRAILING_SPACE = pyRe(`[${S}]+$`)

/** Python `str.strip()` with no argument (its whitespace set, not `String.prototype.trim`'s). */
export function pyStrip(text: string): string {
  return text.replace(LEADING_SPACE, '').replace(TRAILING_SPACE, '')
}
