/**
 * Python `urllib.parse.unquote_plus(text)` with its defaults (encoding utf-8, errors 'replace').
 */

// A run of %XX escapes: Python decodes consecutive escaped bytes together as UTF-8.
const ESCAPE_RUN = /(?:%[0-9a-fA-F]{2})+/g

// Non-fatal decoding replaces each maximal invalid subsequence with U+FFFD, as Python's
// 'replace' handler does.
const UTF8 = new TextDecoder('utf-8')

/**
 * `+` becomes a space, then every run of `%XX` escapes is decoded as UTF-8 (invalid bytes become
 * U+FFFD). A `%` not followed by two hex digits is kept. Unescaped characters between escapes end
 * a run; that gives the same result as Python, because an ASCII byte always ends a UTF-8 sequence.
 */
export function unquotePlus(text: string): string {
  const spaced = text.replace(/\+/g, ' ')
  if (!spaced.includes('%')) return spaced
  return spaced.replace(ESCAPE_RUN, (run) => {
    const bytes = new Uint8Array(run.length / 3)
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(run.slice(3 * i + 1, 3 * i + 3), 16)
    return UTF8.decode(bytes)
  })
}
