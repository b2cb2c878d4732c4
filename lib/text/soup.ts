/**
 * `BeautifulSoup(markup, 'html.parser').text` (bs4 4.15 on Python 3.11's html.parser), which the
 * official caption cleaner uses to strip HTML, ported with its quirks:
 *
 * - the markup is fed once and then closed, so html.parser makes two passes: the first stops at
 *   anything that may be cut off (an unterminated tag, a reference at the end, `&#` that is not a
 *   numeric reference...), the second decides what that was, sometimes by emitting all the rest as
 *   text;
 * - BeautifulSoup collects the text between two tags (or comments, declarations...) into one
 *   string and turns a string of ASCII whitespace only into one ' ' (or '\n' when it has one),
 *   except inside `<pre>` and `<textarea>`;
 * - `.text` joins the plain strings and CDATA sections; comments, declarations, processing
 *   instructions and strings inside `<script>`, `<style>`, `<template>`, `<rt>` and `<rp>` are
 *   left out.
 *
 * Where the official code raises (`<![` not followed by a known marked-section keyword), this port
 * reads the markup as a bogus comment instead.
 */

import { CP1252_HIGH, ENTITIES } from './entities.js'
import { pyStrip, S } from './pyre.js'

const sticky = (source: string) => new RegExp(source, 'uy')

const STARTTAG_OPEN = sticky('<[a-zA-Z]')
const CHARREF = sticky('&#((?:[0-9]+|[xX][0-9a-fA-F]+))([^0-9a-fA-F])')
const ENTITYREF = sticky('&([a-zA-Z][-.a-zA-Z0-9]*)([^a-zA-Z0-9])')
const INCOMPLETE = sticky('&[a-zA-Z#]')
const TAGFIND = sticky(`([a-zA-Z][^\\t\\n\\r\\f />\\x00]*)(?:[${S}]|/(?!>))*`)
const ATTRFIND = sticky(`((?<=['"${S}/])[^${S}/>][^${S}/=>]*)([${S}]*=+[${S}]*('[^']*'|"[^"]*"|(?!['"])[^>${S}]*))?(?:[${S}]|/(?!>))*`)
const LOCATE_STARTTAG_END = sticky(
  `<[a-zA-Z][^\\t\\n\\r\\f />\\x00]*(?:[${S}/]*(?:(?<=['"${S}/])[^${S}/>][^${S}/=>]*` +
    `(?:[${S}]*=+[${S}]*(?:'[^']*'|"[^"]*"|(?!['"])[^>${S}]*)[${S}]*)?(?:[${S}]|/(?!>))*)*)?[${S}]*`,
)
const ENDTAG_FIND = sticky(`</[${S}]*([a-zA-Z][-.a-zA-Z0-9:_]*)[${S}]*>`)
const COMMENT_CLOSE = new RegExp(`--[${S}]*>`, 'gu')
const DECL_NAME = sticky(`[a-zA-Z][-_.a-zA-Z0-9]*[${S}]*`)
const MARKED_CLOSE = new RegExp(`\\][${S}]*\\][${S}]*>`, 'gu')
const MS_MARKED_CLOSE = new RegExp(`\\][${S}]*>`, 'gu')
const ASCII_SPACES = /^[ \n\t\f\r]*$/
const INTERESTING = /[&<]/g

const CDATA_CONTENT = new Set(['script', 'style'])
const VOID_ELEMENTS = new Set([
  'area',
  'base',
  'basefont',
  'bgsound',
  'br',
  'col',
  'command',
  'embed',
  'frame',
  'hr',
  'image',
  'img',
  'input',
  'isindex',
  'keygen',
  'link',
  'menuitem',
  'meta',
  'nextid',
  'param',
  'source',
  'spacer',
  'track',
  'wbr',
])
// Tags whose strings get their own class, left out of `.text`.
const STRING_CONTAINERS = new Set(['rt', 'rp', 'style', 'script', 'template'])
const PRESERVE_WHITESPACE = new Set(['pre', 'textarea'])

/** `re` run from index `at`: a match there for sticky patterns (Python's `match(text, at)`), the
 * first match at or after it for global ones (`search(text, at)`). */
function execAt(re: RegExp, text: string, at: number): RegExpExecArray | null {
  re.lastIndex = at
  return re.exec(text)
}

/** BeautifulSoup's numeric reference: Windows-1252 for 0x80-0x9F; U+FFFD for 0, surrogates and
 * values past U+10FFFF. */
function charrefText(name: string): string {
  const code = name[0] === 'x' || name[0] === 'X' ? parseInt(name.slice(1), 16) : parseInt(name, 10)
  if (code >= 0x80 && code <= 0x9f) return String.fromCodePoint(CP1252_HIGH[code - 0x80])
  if (code === 0 || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff || !Number.isFinite(code)) return '\ufffd'
  return String.fromCodePoint(code)
}

type StringKind = 'text' | 'cdata' | 'other'

/** The BeautifulSoup tree builder, reduced to what `.text` needs. */
class SoupText {
  text = ''
  private data: string[] = []
  private open: string[] = []
  private preserve: number[] = []
  private containers: number[] = []
  private closedVoid: string[] = []

  handleData(data: string): void {
    this.data.push(data)
  }

  endData(kind: StringKind = 'text'): void {
    if (this.data.length === 0) return
    let s = this.data.join('')
    this.data = []
    if (this.preserve.length === 0 && ASCII_SPACES.test(s)) s = s.includes('\n') ? '\n' : ' '
    const contained = kind === 'text' && this.containers.length > 0
    if (kind === 'cdata' || (kind === 'text' && !contained)) this.text += s
  }

  /** A comment, declaration or processing instruction: a string of its own, not in `.text`. */
  special(data: string, kind: StringKind): void {
    this.endData()
    this.handleData(data)
    this.endData(kind)
  }

  startTag(name: string, selfClosing: boolean): void {
    this.endData()
    this.open.push(name)
    if (PRESERVE_WHITESPACE.has(name)) this.preserve.push(this.open.length - 1)
    if (STRING_CONTAINERS.has(name)) this.containers.push(this.open.length - 1)
    if (selfClosing) {
      this.endTag(name, false)
    } else if (VOID_ELEMENTS.has(name)) {
      this.endTag(name, false)
      this.closedVoid.push(name)
    }
  }

  endTag(name: string, checkClosedVoid = true): void {
    const at = checkClosedVoid ? this.closedVoid.indexOf(name) : -1
    if (at >= 0) {
      this.closedVoid.splice(at, 1)
      return
    }
    this.endData()
    const index = this.open.lastIndexOf(name)
    if (index < 0) return
    while (this.open.length > index) {
      const top = this.open.length - 1
      if (this.preserve.at(-1) === top) this.preserve.pop()
      if (this.containers.at(-1) === top) this.containers.pop()
      this.open.pop()
    }
  }
}

/** Python's html.parser (convert_charrefs=False) driving a SoupText. */
class Parser {
  raw = ''
  private cdataElem: string | null = null
  // In a <script> or <style>: the end tag that closes it (html.parser's `interesting` then).
  private cdataClose: RegExp | null = null

  constructor(private soup: SoupText) {}

  /** `feed` then `close`: the two passes of `goahead`. */
  run(markup: string): void {
    this.raw = markup
    this.goahead(false)
    this.goahead(true)
  }

  private goahead(end: boolean): void {
    const raw = this.raw
    const n = raw.length
    let i = 0
    while (i < n) {
      let j: number
      if (this.cdataClose !== null) {
        const close = execAt(this.cdataClose, raw, i)
        if (close === null) break
        j = close.index
      } else {
        const next = execAt(INTERESTING, raw, i)
        j = next === null ? n : next.index
      }
      if (i < j) this.soup.handleData(raw.slice(i, j))
      i = j
      if (i === n) break
      if (raw[i] === '<') {
        let k: number
        if (execAt(STARTTAG_OPEN, raw, i)) k = this.parseStartTag(i)
        else if (raw.startsWith('</', i)) k = this.parseEndTag(i)
        else if (raw.startsWith('<!--', i)) k = this.parseComment(i)
        else if (raw.startsWith('<?', i)) k = this.parsePi(i)
        else if (raw.startsWith('<!', i)) k = this.parseDeclaration(i)
        else if (i + 1 < n) {
          this.soup.handleData('<')
          k = i + 1
        } else break
        if (k < 0) {
          if (!end) break
          k = raw.indexOf('>', i + 1)
          if (k < 0) {
            k = raw.indexOf('<', i + 1)
            if (k < 0) k = i + 1
          } else {
            k += 1
          }
          this.soup.handleData(raw.slice(i, k))
        }
        i = k
      } else if (raw.startsWith('&#', i)) {
        const m = execAt(CHARREF, raw, i)
        if (m !== null) {
          this.soup.handleData(charrefText(m[1]))
          i = m.index + m[0].length - (m[2] === ';' ? 0 : m[2].length)
          continue
        }
        if (raw.indexOf(';', i) >= 0) {
          this.soup.handleData('&#')
          i += 2
        }
        break
      } else {
        const m = execAt(ENTITYREF, raw, i)
        if (m !== null) {
          const name = m[1]
          this.soup.handleData(ENTITIES.get(name) ?? `&${name}`)
          // The terminator is consumed only when it is ';'.
          i = m.index + m[0].length - (m[2] === ';' ? 0 : m[2].length)
          continue
        }
        const incomplete = execAt(INCOMPLETE, raw, i)
        if (incomplete !== null) {
          if (end && incomplete[0] === raw.slice(i)) i += 1
          break
        } else if (i + 1 < n) {
          this.soup.handleData('&')
          i += 1
        } else break
      }
    }
    if (end && i < n && this.cdataElem === null) {
      this.soup.handleData(raw.slice(i, n))
      i = n
    }
    this.raw = raw.slice(i)
  }

  private checkForWholeStartTag(i: number): number {
    const raw = this.raw
    const m = execAt(LOCATE_STARTTAG_END, raw, i)!
    const j = m.index + m[0].length
    const next = raw.slice(j, j + 1)
    if (next === '>') return j + 1
    if (next === '/') {
      if (raw.startsWith('/>', j)) return j + 2
      return -1
    }
    if (next === '') return -1
    if (/[a-zA-Z=/]/.test(next)) return -1
    return j > i ? j : i + 1
  }

  private parseStartTag(i: number): number {
    const endpos = this.checkForWholeStartTag(i)
    if (endpos < 0) return endpos
    const raw = this.raw
    const tag = execAt(TAGFIND, raw, i + 1)!
    let k = tag.index + tag[0].length
    const name = tag[1].toLowerCase()
    while (k < endpos) {
      const m = execAt(ATTRFIND, raw, k)
      if (m === null) break
      k = m.index + m[0].length
    }
    const rest = pyStrip(raw.slice(k, endpos))
    if (rest !== '>' && rest !== '/>') {
      this.soup.handleData(raw.slice(i, endpos))
      return endpos
    }
    if (rest.endsWith('/>')) {
      this.soup.startTag(name, true)
    } else {
      this.soup.startTag(name, false)
      if (CDATA_CONTENT.has(name)) this.setCdataMode(name)
    }
    return endpos
  }

  private parseEndTag(i: number): number {
    const raw = this.raw
    const gt = raw.indexOf('>', i + 1)
    if (gt < 0) return -1
    const gtpos = gt + 1
    const m = execAt(ENDTAG_FIND, raw, i)
    if (m === null) {
      if (this.cdataElem !== null) {
        this.soup.handleData(raw.slice(i, gtpos))
        return gtpos
      }
      const name = execAt(TAGFIND, raw, i + 2)
      if (name === null) {
        if (raw.startsWith('</>', i)) return i + 3
        return this.parseBogusComment(i)
      }
      this.soup.endTag(name[1].toLowerCase())
      return raw.indexOf('>', name.index + name[0].length) + 1
    }
    const elem = m[1].toLowerCase()
    if (this.cdataElem !== null && elem !== this.cdataElem) {
      this.soup.handleData(raw.slice(i, gtpos))
      return gtpos
    }
    this.soup.endTag(elem)
    this.cdataElem = null
    this.cdataClose = null
    return m.index + m[0].length
  }

  private setCdataMode(name: string): void {
    this.cdataElem = name
    this.cdataClose = new RegExp(`</[${S}]*${name}[${S}]*>`, 'giu')
  }

  private parseComment(i: number): number {
    const close = execAt(COMMENT_CLOSE, this.raw, i + 4)
    if (close === null) return -1
    this.soup.special(this.raw.slice(i + 4, close.index), 'other')
    return close.index + close[0].length
  }

  private parsePi(i: number): number {
    const gt = this.raw.indexOf('>', i + 2)
    if (gt < 0) return -1
    this.soup.special(this.raw.slice(i + 2, gt), 'other')
    return gt + 1
  }

  private parseBogusComment(i: number): number {
    const gt = this.raw.indexOf('>', i + 2)
    if (gt < 0) return -1
    this.soup.special(this.raw.slice(i + 2, gt), 'other')
    return gt + 1
  }

  private parseDeclaration(i: number): number {
    const raw = this.raw
    if (raw.startsWith('<![', i)) return this.parseMarkedSection(i)
    if (raw.slice(i, i + 9).toLowerCase() === '<!doctype') {
      const gt = raw.indexOf('>', i + 9)
      if (gt < 0) return -1
      this.soup.special(raw.slice(i + 2, gt), 'other')
      return gt + 1
    }
    return this.parseBogusComment(i)
  }

  private parseMarkedSection(i: number): number {
    const raw = this.raw
    if (i + 3 === raw.length) return -1
    const m = execAt(DECL_NAME, raw, i + 3)
    if (m === null) return this.parseBogusComment(i) // html.parser raises here
    if (i + 3 + m[0].length === raw.length) return -1
    const keyword = pyStrip(m[0]).toLowerCase()
    let close: RegExpExecArray | null
    if (['temp', 'cdata', 'ignore', 'include', 'rcdata'].includes(keyword)) close = execAt(MARKED_CLOSE, raw, i + 3)
    else if (['if', 'else', 'endif'].includes(keyword)) close = execAt(MS_MARKED_CLOSE, raw, i + 3)
    else return this.parseBogusComment(i) // html.parser raises here
    if (close === null) return -1
    const data = raw.slice(i + 3, close.index)
    if (data.toUpperCase().startsWith('CDATA[')) this.soup.special(data.slice(6), 'cdata')
    else this.soup.special(data, 'other')
    return close.index + close[0].length
  }
}

/** `BeautifulSoup(markup, 'html.parser').text`. */
export function htmlToText(markup: string): string {
  if (!markup.includes('<') && !markup.includes('&') && !ASCII_SPACES.test(markup)) return markup
  const soup = new SoupText()
  new Parser(soup).run(markup)
  soup.endData()
  return soup.text
}
