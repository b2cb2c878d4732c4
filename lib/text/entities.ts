/**
 * HTML named character references: the HTML 4.01 set (Latin-1, symbols and Greek, special) plus
 * `apos`, with HTML5's values where they differ (`lang`, `rang`). HTML5 defines about 2,100 more
 * names; those are not covered and are left as literal text.
 *
 * Captions are lowercased before any HTML handling, so in practice only lowercase names occur.
 */

/** Names for U+00A0..U+00FF, in code-point order. These are also HTML5's legacy names. */
const LATIN1 = [
  'nbsp', 'iexcl', 'cent', 'pound', 'curren', 'yen', 'brvbar', 'sect',
  'uml', 'copy', 'ordf', 'laquo', 'not', 'shy', 'reg', 'macr',
  'deg', 'plusmn', 'sup2', 'sup3', 'acute', 'micro', 'para', 'middot',
  'cedil', 'sup1', 'ordm', 'raquo', 'frac14', 'frac12', 'frac34', 'iquest',
  'Agrave', 'Aacute', 'Acirc', 'Atilde', 'Auml', 'Aring', 'AElig', 'Ccedil',
  'Egrave', 'Eacute', 'Ecirc', 'Euml', 'Igrave', 'Iacute', 'Icirc', 'Iuml',
  'ETH', 'Ntilde', 'Ograve', 'Oacute', 'Ocirc', 'Otilde', 'Ouml', 'times',
  'Oslash', 'Ugrave', 'Uacute', 'Ucirc', 'Uuml', 'Yacute', 'THORN', 'szlig',
  'agrave', 'aacute', 'acirc', 'atilde', 'auml', 'aring', 'aelig', 'ccedil',
  'egrave', 'eacute', 'ecirc', 'euml', 'igrave', 'iacute', 'icirc', 'iuml',
  'eth', 'ntilde', 'ograve', 'oacute', 'ocirc', 'otilde', 'ouml', 'divide',
  'oslash', 'ugrave', 'uacute', 'ucirc', 'uuml', 'yacute', 'thorn', 'yuml',
]

/** Greek capitals from U+0391 (U+03A2 is unassigned); the small letters are the same names in lowercase. */
const GREEK = [
  'Alpha', 'Beta', 'Gamma', 'Delta', 'Epsilon', 'Zeta', 'Eta', 'Theta', 'Iota', 'Kappa', 'Lambda',
  'Mu', 'Nu', 'Xi', 'Omicron', 'Pi', 'Rho', '', 'Sigma', 'Tau', 'Upsilon', 'Phi', 'Chi', 'Psi', 'Omega',
]

/** The remaining HTML 4 names (and `apos`), by code point. */
const OTHER: Record<string, number> = {
  quot: 0x22, amp: 0x26, apos: 0x27, lt: 0x3c, gt: 0x3e,
  // HTML5's uppercase aliases of legacy names.
  AMP: 0x26, COPY: 0xa9, GT: 0x3e, LT: 0x3c, QUOT: 0x22, REG: 0xae,
  OElig: 0x152, oelig: 0x153, Scaron: 0x160, scaron: 0x161, Yuml: 0x178, fnof: 0x192,
  circ: 0x2c6, tilde: 0x2dc, sigmaf: 0x3c2, thetasym: 0x3d1, upsih: 0x3d2, piv: 0x3d6,
  ensp: 0x2002, emsp: 0x2003, thinsp: 0x2009, zwnj: 0x200c, zwj: 0x200d, lrm: 0x200e, rlm: 0x200f,
  ndash: 0x2013, mdash: 0x2014, lsquo: 0x2018, rsquo: 0x2019, sbquo: 0x201a,
  ldquo: 0x201c, rdquo: 0x201d, bdquo: 0x201e, dagger: 0x2020, Dagger: 0x2021, bull: 0x2022,
  hellip: 0x2026, permil: 0x2030, prime: 0x2032, Prime: 0x2033, lsaquo: 0x2039, rsaquo: 0x203a,
  oline: 0x203e, frasl: 0x2044, euro: 0x20ac, image: 0x2111, weierp: 0x2118, real: 0x211c,
  trade: 0x2122, alefsym: 0x2135, larr: 0x2190, uarr: 0x2191, rarr: 0x2192, darr: 0x2193,
  harr: 0x2194, crarr: 0x21b5, lArr: 0x21d0, uArr: 0x21d1, rArr: 0x21d2, dArr: 0x21d3, hArr: 0x21d4,
  forall: 0x2200, part: 0x2202, exist: 0x2203, empty: 0x2205, nabla: 0x2207, isin: 0x2208,
  notin: 0x2209, ni: 0x220b, prod: 0x220f, sum: 0x2211, minus: 0x2212, lowast: 0x2217,
  radic: 0x221a, prop: 0x221d, infin: 0x221e, ang: 0x2220, and: 0x2227, or: 0x2228, cap: 0x2229,
  cup: 0x222a, int: 0x222b, there4: 0x2234, sim: 0x223c, cong: 0x2245, asymp: 0x2248, ne: 0x2260,
  equiv: 0x2261, le: 0x2264, ge: 0x2265, sub: 0x2282, sup: 0x2283, nsub: 0x2284, sube: 0x2286,
  supe: 0x2287, oplus: 0x2295, otimes: 0x2297, perp: 0x22a5, sdot: 0x22c5, lceil: 0x2308,
  rceil: 0x2309, lfloor: 0x230a, rfloor: 0x230b, lang: 0x27e8, rang: 0x27e9, loz: 0x25ca,
  spades: 0x2660, clubs: 0x2663, hearts: 0x2665, diams: 0x2666,
}

function buildTable(): Map<string, string> {
  const table = new Map<string, string>()
  LATIN1.forEach((name, i) => table.set(name, String.fromCodePoint(0xa0 + i)))
  GREEK.forEach((name, i) => {
    if (name === '') return
    table.set(name, String.fromCodePoint(0x391 + i))
    table.set(name.toLowerCase(), String.fromCodePoint(0x3b1 + i))
  })
  for (const [name, cp] of Object.entries(OTHER)) table.set(name, String.fromCodePoint(cp))
  return table
}

/** Entity name (without `&` and `;`) to its text. */
export const ENTITIES: ReadonlyMap<string, string> = buildTable()

/**
 * Names HTML5 also recognises without a trailing `;` (Python's `html.unescape` then matches the
 * longest such prefix, e.g. `&copy2020` is `©2020`).
 */
export const LEGACY_ENTITIES: ReadonlySet<string> = new Set([
  ...LATIN1, 'amp', 'lt', 'gt', 'quot', 'AMP', 'COPY', 'GT', 'LT', 'QUOT', 'REG',
])

/**
 * Windows-1252 for bytes 0x80..0x9F. The five undefined bytes map to the C1 control of the same
 * value, as Python's `html.unescape` and ftfy's "sloppy" codec do.
 */
export const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021,
  0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
  0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
]
