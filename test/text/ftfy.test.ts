/**
 * The parts of the official cleaning that issue 30 ported: ftfy 6.3.1's `fix_text` (encoding
 * repair), Python's `html.unescape` with the HTML5 table and BeautifulSoup's `.text`. Expected
 * values are what ftfy 6.3.1, Python 3.11 and bs4 4.15 return; caption_diff.test.ts compares
 * 20,000 generated captions against them. Pure TypeScript.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { fixText } from '../../lib/text/ftfy.js'
import { htmlToText, htmlUnescape } from '../../lib/text/html.js'

function check(fn: (text: string) => string, cases: [string, string][]): void {
  for (const [input, want] of cases) assert.equal(fn(input), want, JSON.stringify(input))
}

describe('ftfy.fix_text: encoding repair', () => {
  test('UTF-8 read as Windows-1252 or Latin-1, once or more', () => {
    check(fixText, [
      ['Caf\u00c3\u00a9', 'Caf\u00e9'],
      ['don\u00e2\u20ac\u2122t', "don't"],
      // Three times over, with ftfy's quote uncurling at the end.
      [
        'The Mona Lisa doesn\u00c3\u0192\u00c2\u00a2\u00c3\u00a2\u00e2\u20ac\u0161\u00c2\u00ac\u00c3\u00a2\u00e2\u20ac\u017e\u00c2\u00a2t have eyebrows.',
        "The Mona Lisa doesn't have eyebrows.",
      ],
      // Arabic read as Windows-1252 (ftfy's four-character rule).
      ['\u00d8\u00a7\u00d9\u201e\u00d8\u00b9\u00d8\u00b1\u00d8\u00a8\u00d9\u0160\u00d8\u00a9', '\u0627\u0644\u0639\u0631\u0628\u064a\u0629'],
    ])
  })

  test('the Windows-1251 "sloppy" codec and lossy sequences', () => {
    check(fixText, [
      ['\u00d0\u00bf\u00d1\u20ac\u00d0\u00b8\u00d0\u00b2\u00d0\u00b5\u00d1\u201a', '\u043f\u0440\u0438\u0432\u0435\u0442'],
      // A 0x1A byte (U+FFFD in the sloppy codec) is a lost character.
      ['\u00c3\u0192\u00c2\u00a9t\u00c3\u0192\u00c2\u00a9 \u00c3\u00a9\u00c3\u00a9\u00c3\u00a9\u001a', '\u00e9t\u00e9 \u00e9\u00e9\u00e9'],
    ])
  })

  test('after lowercasing (the official cleaner lowercases first) only part can be repaired', () => {
    check(fixText, [['caf\u00c3\u00a3\u00c2\u00a9', 'caf\u00e3\u00a9']])
  })

  test('a no-break space that became a space (restore_byte_a0)', () => {
    check(fixText, [['\u00c3  la carte', '\u00e0 la carte']])
  })

  test("utf-8-variants: CESU-8 surrogate pairs and Java's 0xC0 0x80", () => {
    check(fixText, [
      ['\u00ed\u00a0\u00bd\u00ed\u00b8\u20ac smile', '\ud83d\ude00 smile'],
      // U+0000 from 0xC0 0x80, then removed as a control character.
      ['\u00c0\u0080abc\u00c3\u00a9', 'abc\u00e9'],
      // Python's '$' matches before a final '\n', so the codec takes the newline as the sixth byte.
      ['\u00ed\u00a0\u0080\u00ed\u00b0\n', '\ud800\udc0a'],
    ])
  })

  test('C1 controls are Windows-1252 characters, except the five it leaves undefined', () => {
    check(fixText, [['a\u0085b\u0081', 'a\u2026b\u0081']])
  })

  test('terminal escapes with any Unicode digit', () => {
    check(fixText, [['\u001b[\u0663mred', 'red']])
  })
})

describe('ftfy.fix_text: entities', () => {
  test("ftfy's own rule: only with ';', upper-case spellings too, HTML5 names", () => {
    check(fixText, [['&EACUTE; &eacute &ominus; &#x41; &#12a;', '\u00c9 &eacute \u2296 A &#12a;']])
  })

  test('not in a line with "<" nor in any line after it', () => {
    check(fixText, [['<b>\u00c3\u00a9</b>\n\u00c3\u00a9&amp;\n', '<b>\u00e9</b>\n\u00e9&amp;\n']])
  })
})

describe('html.unescape: the HTML5 table and rules', () => {
  test('names only HTML5 knows, legacy prefixes, numeric references out of range', () => {
    check(htmlUnescape, [['&ominus; &lstrok &notit; &copy2020 &#x110000; &#0;', '\u2296 &lstrok \u00acit; \u00a92020 \ufffd \ufffd']])
  })
})

describe('BeautifulSoup .text', () => {
  test('a string of ASCII whitespace between tags becomes one space or newline, except in <pre>', () => {
    check(htmlToText, [
      ['a<b> \n </b>c', 'a\nc'],
      ['<pre> \t </pre>x', ' \t x'],
    ])
  })

  test('template strings are left out; CDATA is kept', () => {
    check(htmlToText, [['a<template>b</template>c<![CDATA[d]]>e', 'acde']])
  })

  test('"&#" that is no reference: the rest is text, or parsed when a ";" follows', () => {
    check(htmlToText, [
      ['a &# b <i> c', 'a &# b <i> c'],
      ['a &# b <i> c;', 'a &# b  c;'],
    ])
  })

  test('HTML5 names, with or without ";"; astral and surrogate references', () => {
    check(htmlToText, [['&lstrok;&lstrok x&#128512;&#xD800;', '\u0142\u0142 x\ud83d\ude00\ufffd']])
  })
})
