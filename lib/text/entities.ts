/**
 * HTML named character references: the full HTML5 table (Python's `html.entities.html5`, which
 * `html.unescape` and BeautifulSoup's html.parser builder use), generated into tables.generated.ts.
 */

import { HTML5_ENTITIES, HTML5_LEGACY } from './tables.generated.js'

/** Entity name (without `&` and `;`) to its text. */
export const ENTITIES: ReadonlyMap<string, string> = new Map(Object.entries(HTML5_ENTITIES))

/**
 * Names HTML5 also recognises without a trailing `;` (Python's `html.unescape` then matches the
 * longest such prefix, e.g. `&copy2020` is `©2020`).
 */
export const LEGACY_ENTITIES: ReadonlySet<string> = new Set(HTML5_LEGACY)

/**
 * Windows-1252 for bytes 0x80..0x9F. The five undefined bytes map to the C1 control of the same
 * value, as Python's `html.unescape` and ftfy's "sloppy" codec do.
 */
export const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d,
  0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
]
