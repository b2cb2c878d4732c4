/**
 * Caption preprocessing of the official text-guided models (spec §10.1): `text_preprocessing` is
 * the DeepFloyd-IF style `clean_caption` applied twice. Written from the specification; the regular
 * expressions reproduce Python `re` semantics (Unicode `\w`, `\d`, `\s`, `\b`, see pyre.ts).
 *
 * The library calls of the official cleaner are ported: BeautifulSoup's `.text` (soup.ts),
 * `ftfy.fix_text` of ftfy 6.3.1 (ftfy.ts) and `html.unescape` (html.ts); test/text/caption_diff.test.ts
 * compares all of it with the Python originals on 20,000 generated captions.
 */

import { fixText } from './ftfy.js'
import { htmlToText, htmlUnescape } from './html.js'
import { B, D, pyRe, pyStrip, S, W } from './pyre.js'
import { unquotePlus } from './unquote.js'

// Step 2: the top-level domains the URL rules know.
const TLD = '(?:com|co|ru|net|org|edu|gov|it)'
// Step 2: a domain with one of those TLDs and its path; not an e-mail address (no '@' after).
const DOMAIN = `[a-zA-Z0-9.-]+[.]${TLD}[${W}/-]*${B}\\/?(?!@)`
// Step 2, first rule: an http(s) scheme with its slashes (or one more character), or a domain.
const URL_HTTP = pyRe(`${B}(?:https?:(?:\\/{1,3}|[a-zA-Z0-9%])|${DOMAIN})`)
// Step 2, second rule: the same with a `www:` scheme (the official rule spells it with a colon).
const URL_WWW = pyRe(`${B}(?:www:(?:\\/{1,3}|[a-zA-Z0-9%])|${DOMAIN})`)
// Step 4: @nickname (a run of word characters).
const NICKNAME = pyRe(`@[${W}]+${B}`)
// Step 4: CJK strokes, katakana phonetic extensions, enclosed CJK, CJK compatibility, extension A,
// Yijing hexagrams and unified ideographs (U+31C0-U+9FFF, removed in sub-ranges in the original).
const CJK = pyRe('[\\u31c0-\\u31ef]+|[\\u31f0-\\u31ff]+|[\\u3200-\\u32ff]+|[\\u3300-\\u33ff]+|' + '[\\u3400-\\u4dbf]+|[\\u4dc0-\\u4dff]+|[\\u4e00-\\u9fff]+')
// Step 5: a run of dash punctuation (Unicode category Pd) becomes one '-'.
const DASHES = pyRe(
  '[\\u002d\\u058a\\u05be\\u1400\\u1806\\u2010-\\u2015\\u2e17\\u2e1a\\u2e3a\\u2e3b' + '\\u2e40\\u301c\\u3030\\u30a0\\ufe31\\ufe32\\ufe58\\ufe63\\uff0d]+',
)
// Step 5: backtick, acute accent, guillemets, curly double quotes and diaeresis become '"'.
const DOUBLE_QUOTES = pyRe('[`\\u00b4\\u00ab\\u00bb\\u201c\\u201d\\u00a8]')
// Step 5: curly single quotes become "'".
const SINGLE_QUOTES = pyRe('[\\u2018\\u2019]')
// Step 6: a leftover &quot (with or without ';').
const QUOT = pyRe('&quot;?')
// Step 6: a leftover &amp.
const AMP = pyRe('&amp')
// Step 7: an IPv4-like address (no word boundaries, as in the original).
const IP_ADDRESS = pyRe(`[${D}]{1,3}\\.[${D}]{1,3}\\.[${D}]{1,3}\\.[${D}]{1,3}`)
// Step 7: "d:dd" at the end, only when whitespace follows it (article ids).
const TRAILING_ID = pyRe(`[${D}]:[${D}]{2}[${S}]+$`)
// Step 7: a literal backslash followed by 'n'.
const LITERAL_NEWLINE = pyRe('\\\\n')
// Step 8: "#123" (1-3 digits).
const HASH_SHORT = pyRe(`#[${D}]{1,3}${B}`)
// Step 8: "#12345..." (5 or more digits).
const HASH_LONG = pyRe(`#[${D}]{5,}${B}`)
// Step 8: a number of 6 or more digits.
const LONG_NUMBER = pyRe(`${B}[${D}]{6,}${B}`)
// Step 9 and step 14: image/video/document extensions.
const EXTENSIONS = '(?:png|jpg|jpeg|bmp|webp|eps|pdf|apk|mp4)'
// Step 9: a filename (non-space run) with one of those extensions; nothing needs to follow it.
const FILENAME = pyRe(`[^${S}]+\\.${EXTENSIONS}`)
// Step 10: a run of two or more quotes becomes one '"'.
const QUOTE_RUN = pyRe('["\']{2,}')
// Step 10: a run of two or more dots becomes a space.
const DOT_RUN = pyRe('\\.{2,}')
// Step 11: a run of "bad punctuation" becomes a space (note that '/' is one of them).
const BAD_PUNCT = pyRe('[#\\u00ae\\u2022\\u00a9\\u2122&@\\u00b7\\u00ba\\u00bd\\u00be\\u00bf\\u00a1\\u00a7~)(\\][}{|\\\\/*]+')
// Step 11: a dot standing alone between spaces.
const LONE_DOT = pyRe(`[${S}]+\\.[${S}]+`)
// Step 12: dashes and underscores, counted and replaced when there are more than 3.
const DASH_UNDERSCORE = pyRe('[-_]')
// Step 14: 1-3 letters then 3-15 digits ("jc6640").
const CODE_LETTERS_DIGITS = pyRe(`${B}[a-zA-Z]{1,3}[${D}]{3,15}${B}`)
// Step 14: letters, digits, letters ("jc6640vc").
const CODE_LETTERS_DIGITS_LETTERS = pyRe(`${B}[a-zA-Z]+[${D}]+[a-zA-Z]+${B}`)
// Step 14: digits, letters, digits ("6640vc231"; also "1920x1080").
const CODE_DIGITS_LETTERS_DIGITS = pyRe(`${B}[${D}]+[a-zA-Z]+[${D}]+${B}`)
// Step 14: "free shipping", "worldwide free shipping" or just "shipping" (also inside words).
const SHIPPING = pyRe(`(?:worldwide[${S}]+)?(?:free[${S}]+)?shipping`)
// Step 14: "download", "free download", "download free" (also inside words).
const DOWNLOAD = pyRe(`(?:free[${S}])?download(?:[${S}]free)?`)
// Step 14: "click for x" / "click on x".
const CLICK = pyRe(`${B}click${B}[${S}](?:for|on)[${S}][${W}]+`)
// Step 14: an extension word at a word start, optionally "image(s)" after it (no end boundary:
// "pdfs" leaves "s", "epsilon" leaves "ilon").
const EXTENSION_WORD = pyRe(`${B}${EXTENSIONS}(?:[${S}]image[s]?)?`)
// Step 14: "page 12".
const PAGE = pyRe(`${B}page[${S}]+[${D}]+${B}`)
// Step 14: mixed codes with at least two digit groups between letters ("j2d1a2a"), to a space.
const CODE_MIXED = pyRe(`${B}[${D}]*[a-zA-Z]+[${D}]+[a-zA-Z]+[${D}]+[a-zA-Z${D}]*${B}`)
// Step 15: dimensions such as "1920x1080" or "2.5×3" (Latin x, Cyrillic х or ×).
const DIMENSIONS = pyRe(`${B}[${D}]+\\.?[${D}]*[x\\u0445\\u00d7][${D}]+\\.?[${D}]*${B}`)
// Step 16: " : " after a word becomes ": ".
const SPACED_COLON = pyRe(`${B}[${S}]+:[${S}]+`)
// Step 17: ',', '.' or '/' after a non-digit and before a word character gets a space after it.
const PUNCT_SPACE = pyRe(`([^${D}][,./])${B}`)
// Step 18: whitespace runs.
const WHITESPACE = pyRe(`[${S}]+`)
// Step 19: one pair of surrounding quotes (the text is not stripped before this).
const SURROUNDING_QUOTES = pyRe('^["\']([\\s\\S]+)["\']$')
// Step 19: one leading quote, underscore, comma, dash, colon or semicolon.
const LEADING_PUNCT = pyRe("^['_,\\-:;]")
// Step 19: one trailing quote, underscore, comma, dash, colon or plus.
const TRAILING_PUNCT = pyRe("['_,\\-:+]$")
// Step 19: a text that is only ".xxx" (an extension or similar leftover).
const DOT_WORD_ONLY = pyRe(`^\\.[^${S}]+$`)

/** Step 13, `basic_clean`: ftfy, HTML entities unescaped twice, strip. */
function basicClean(text: string): string {
  return pyStrip(htmlUnescape(htmlUnescape(fixText(text))))
}

/**
 * One pass of the official `clean_caption` (spec §10.1, 19 steps in order). The result is
 * lowercased (by step 1) except for characters that later steps decode (entities, mojibake).
 */
export function cleanCaption(text: string): string {
  // 1. URL-unquote (+ is a space), strip, lowercase, <person> tag to a word.
  let c = pyStrip(unquotePlus(String(text))).toLowerCase()
  c = c.replaceAll('<person>', 'person')
  // 2. URLs.
  c = c.replace(URL_HTTP, '').replace(URL_WWW, '')
  // 3. HTML to text.
  c = htmlToText(c)
  // 4. Nicknames, then CJK.
  c = c.replace(NICKNAME, '').replace(CJK, '')
  // 5. Dashes and quotes.
  c = c.replace(DASHES, '-').replace(DOUBLE_QUOTES, '"').replace(SINGLE_QUOTES, "'")
  // 6. Leftover entities.
  c = c.replace(QUOT, '').replace(AMP, '')
  // 7. IP addresses, a trailing "d:dd", literal "\n".
  c = c.replace(IP_ADDRESS, ' ').replace(TRAILING_ID, '').replace(LITERAL_NEWLINE, ' ')
  // 8. Hash numbers and long numbers.
  c = c.replace(HASH_SHORT, '').replace(HASH_LONG, '').replace(LONG_NUMBER, '')
  // 9. Filenames.
  c = c.replace(FILENAME, '')
  // 10. Quote runs, dot runs.
  c = c.replace(QUOTE_RUN, '"').replace(DOT_RUN, ' ')
  // 11. Bad punctuation, lone dots.
  c = c.replace(BAD_PUNCT, ' ').replace(LONE_DOT, ' ')
  // 12. this-is-a-slug / this_is_a_slug: more than 3 separators means they are all spaces.
  if ((c.match(DASH_UNDERSCORE) ?? []).length > 3) c = c.replace(DASH_UNDERSCORE, ' ')
  // 13. ftfy, double unescape, strip.
  c = basicClean(c)
  // 14. Codes and boilerplate phrases, in the original's order.
  c = c.replace(CODE_LETTERS_DIGITS, '').replace(CODE_LETTERS_DIGITS_LETTERS, '')
  c = c.replace(CODE_DIGITS_LETTERS_DIGITS, '')
  c = c.replace(SHIPPING, '').replace(DOWNLOAD, '').replace(CLICK, '')
  c = c.replace(EXTENSION_WORD, '').replace(PAGE, '')
  c = c.replace(CODE_MIXED, ' ')
  // 15. Dimensions.
  c = c.replace(DIMENSIONS, '')
  // 16. " : " to ": ".
  c = c.replace(SPACED_COLON, ': ')
  // 17. Space after ',', '.' or '/' glued to a word.
  c = c.replace(PUNCT_SPACE, '$1 ')
  // 18. Collapse whitespace.
  c = c.replace(WHITESPACE, ' ')
  // 19. Surrounding quotes, one leading/trailing punctuation mark, ".xxx" leftovers, strip.
  c = c.replace(SURROUNDING_QUOTES, '$1').replace(LEADING_PUNCT, '').replace(TRAILING_PUNCT, '')
  c = c.replace(DOT_WORD_ONLY, '')
  return pyStrip(c)
}

/** The official `text_preprocessing`: `cleanCaption` applied twice. */
export function preprocessCaption(text: string): string {
  return cleanCaption(cleanCaption(text))
}
