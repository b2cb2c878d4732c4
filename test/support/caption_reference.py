"""Reference side of the caption differential test (test/text/caption_diff.test.ts):

    python caption_reference.py N SEED T5_DIR OUT.json TABLES.ts

generates N captions (seeded) that exercise everything the official caption cleaning touches,
cleans them with the real libraries (ftfy, html, BeautifulSoup) and the official cleaning steps
re-implemented here from the spec (../shared/docs/videovae-plus-architecture.md, section 10.1),
tokenizes the cleaned captions with the Hugging Face T5 tokenizer of T5_DIR, and writes all of it
to OUT.json. It also regenerates lib/text/tables.generated.ts into TABLES.ts, so that the test can
check the committed tables are current.
"""
import html
import html.entities
import json
import os
import random
import re
import subprocess
import sys
import urllib.parse as ul

import warnings

import ftfy
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

# ---------------------------------------------------------------------------------------------
# The official cleaning (spec 10.1), step by step.

TLD = r"(?:com|co|ru|net|org|edu|gov|it)"
DOMAIN = r"[a-zA-Z0-9.-]+[.]" + TLD + r"[\w/-]*\b\/?(?!@)"
EXT = r"(?:png|jpg|jpeg|bmp|webp|eps|pdf|apk|mp4)"
DASHES = ("[\u002d\u058a\u05be\u1400\u1806\u2010-\u2015\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u301c\u3030"
          "\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d]+")
BAD_PUNCT = r"[#®•©™&@·º½¾¿¡§~\)\(\]\[\}\{\|\\/\*]+"


def basic_clean(text):
    text = ftfy.fix_text(text)
    text = html.unescape(html.unescape(text))
    return text.strip()


def clean_caption(caption):
    c = str(caption)
    c = ul.unquote_plus(c)
    c = c.strip().lower()
    c = re.sub("<person>", "person", c)
    c = re.sub(r"\b(?:https?:(?:\/{1,3}|[a-zA-Z0-9%])|" + DOMAIN + ")", "", c)
    c = re.sub(r"\b(?:www:(?:\/{1,3}|[a-zA-Z0-9%])|" + DOMAIN + ")", "", c)
    c = BeautifulSoup(c, features="html.parser").text
    c = re.sub(r"@[\w\d]+\b", "", c)
    for block in ("\u31c0-\u31ef", "\u31f0-\u31ff", "\u3200-\u32ff", "\u3300-\u33ff",
                  "\u3400-\u4dbf", "\u4dc0-\u4dff", "\u4e00-\u9fff"):
        c = re.sub("[" + block + "]+", "", c)
    c = re.sub(DASHES, "-", c)
    c = re.sub("[`´«»“”¨]", '"', c)
    c = re.sub("[‘’]", "'", c)
    c = re.sub("&quot;?", "", c)
    c = re.sub("&amp", "", c)
    c = re.sub(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}", " ", c)
    c = re.sub(r"\d:\d\d\s+$", "", c)
    c = re.sub(r"\\n", " ", c)
    c = re.sub(r"#\d{1,3}\b", "", c)
    c = re.sub(r"#\d{5,}\b", "", c)
    c = re.sub(r"\b\d{6,}\b", "", c)
    c = re.sub(r"[\S]+\." + EXT, "", c)
    c = re.sub(r"[\"']{2,}", '"', c)
    c = re.sub(r"[\.]{2,}", " ", c)
    c = re.sub(BAD_PUNCT, " ", c)
    c = re.sub(r"\s+\.\s+", " ", c)
    if len(re.findall(r"[-_]", c)) > 3:
        c = re.sub(r"[-_]", " ", c)
    c = basic_clean(c)
    c = re.sub(r"\b[a-zA-Z]{1,3}\d{3,15}\b", "", c)
    c = re.sub(r"\b[a-zA-Z]+\d+[a-zA-Z]+\b", "", c)
    c = re.sub(r"\b\d+[a-zA-Z]+\d+\b", "", c)
    c = re.sub(r"(worldwide\s+)?(free\s+)?shipping", "", c)
    c = re.sub(r"(free\s)?download(\sfree)?", "", c)
    c = re.sub(r"\bclick\b\s(?:for|on)\s\w+", "", c)
    c = re.sub(r"\b" + EXT + r"(\simage[s]?)?", "", c)
    c = re.sub(r"\bpage\s+\d+\b", "", c)
    c = re.sub(r"\b\d*[a-zA-Z]+\d+[a-zA-Z]+\d+[a-zA-Z\d]*\b", " ", c)
    c = re.sub(r"\b\d+\.?\d*[xх×]\d+\.?\d*\b", "", c)
    c = re.sub(r"\b\s+\:\s+", r": ", c)
    c = re.sub(r"(\D[,\./])\b", r"\1 ", c)
    c = re.sub(r"\s+", " ", c)
    c = re.sub(r"^[\"\']([\w\W]+)[\"\']$", r"\1", c)
    c = re.sub(r"^[\'\_,\-\:;]", r"", c)
    c = re.sub(r"[\'\_,\-\:\-\+]$", r"", c)
    c = re.sub(r"^\.\S+$", "", c)
    return c.strip()


def text_preprocessing(caption):
    return clean_caption(clean_caption(caption))


def or_none(fn, text):
    """fn(text), or None where the official code raises (BeautifulSoup rejects lone surrogates)."""
    try:
        return fn(text)
    except UnicodeEncodeError:
        return None


# ---------------------------------------------------------------------------------------------
# Caption generator.

WORDS = ("a the of in on with and over dog cat bird horse person man woman child crowd car boat "
         "running walking flying swimming park street beach forest city mountain river ocean sky "
         "red blue green golden bright dark camera pans zooms aerial view footage scene sunset "
         "rain snow light water waves flowers trees click page free shipping download image").split()
# Real text in many scripts, the material mojibake is made of.
REAL = [
    "café", "naïve", "résumé", "Zürich", "façade", "straße", "São Paulo", "coração", "ñandú",
    "Ærøskøbing", "Łódź", "Dvořák", "Kraków", "Ελληνικά", "Αθήνα", "привет мир", "Москва",
    "Україна", "हिन्दी", "नमस्ते", "العربية", "مرحبا", "עברית", "日本の風景", "東京", "中文",
    "한국어", "ภาษาไทย", "Tiếng Việt", "Türkçe", "İstanbul", "ğüşıöç", "Ελλάς", "ŒUVRE œuvre",
    "don’t", "“quoted”", "‘single’", "«guillemets»", "—", "–", "…", "•", "€100", "£5", "¥", "©",
    "®", "™", "°C", "½", "¼", "±", "×", "÷", "µm", "§", "¶", "¿qué?", "¡hola!", "à la carte",
    "Ø", "naïve café", "emoji 🎬📹😀", "👍🏽", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "ﬁlm ﬂow", "ｆｕｌｌ ｗｉｄｔｈ", "ｶﾀｶﾅ",
    "Ĳssel", "ǆungla", "\u00a0nbsp\u00a0", "zero\u200bwidth", "e\u0301 n\u0303", "ℌ", "①②",
    "\u2028", "\u3000", "ß", "ÿ", "Ÿ", "Š", "ž", "ƒ", "ˆ", "˜", "‰", "‹›", "†‡",
]
# Encodings that mojibake comes from: UTF-8 bytes read as one of these.
MOJI_ENCODINGS = ["sloppy-windows-1252"] * 6 + ["latin-1"] * 4 + [
    "sloppy-windows-1251", "sloppy-windows-1250", "sloppy-windows-1253", "sloppy-windows-1254",
    "sloppy-windows-1257", "iso-8859-2", "macroman", "cp437"]
ENTITY_NAMES = sorted(html.entities.html5)
CONTROL = ([chr(c) for c in range(0x00, 0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)] +
           ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2028", "\u2029", "\u2060", "\ufeff",
            "\u206a", "\u206f", "\ufff9", "\ufffa", "\ufffc", "\ufffd", "\ud800", "\udfff", "\u00ad",
            "\u0085", "\r\n", "\r", "\n", "\t", "\x1b[31m", "\x1b[0m", "\x1b[1;32m", "\x1b[٣m"])
MARKUP = ["<b>", "</b>", "<p>", "</p>", "<br>", "<br/>", "<a href=\"x.html\">", "</a>", "<!-- c -->",
          "<script>x</script>", "<style>y</style>", "<", ">", "<3", "a<b", "<!doctype html>",
          "<?php ?>", "<PERSON>", "<person>", "<img src='a.png'>", "<div class=\"q\">", "</div>",
          "<pre>", "</pre>", "<textarea>", "</textarea>", "<template>", "</template>", "<rt>", "</rt>",
          "<rp>", "<![CDATA[ x ]]>", "<![CDATA[", "]]>", "</br>", "<br/>", "</ b>", "</3>", "</>", "<a b='>'>",
          "<a href=x/>", "<b\n>", "</script>", "<script>", "<style>", "<x y=\"", "<!", "<!-", "-->",
          " \t ", "\f", "\r", "<P>", "<SCRIPT>a</SCRIPT >", "<Template>t</TEMPLATE>", "\u00e0 ", "\u00c3 "]
CLEANER_BITS = ["https://example.com/a/b", "www.foo-bar.org", "http:x", "@user_1", "#12", "#123456",
                "1234567", "192.168.0.1", "3:45 ", "photo.jpg", "a.pdf", "...", "\"\"", "''", "--",
                "a_b-c_d-e", "1920x1080", "2.5×3", "jc6640", "6640vc231", "j2d1a2a", "page 12",
                "free shipping", "download free", "click on here", "png images", "a : b", "a,b",
                "x/y", "end.", "\\n", "%20", "%C3%A9", "%E2%80%99", "%ZZ", "%C3", "+", "c++",
                "&quot;", "&amp", "&amp;amp;", "\"quoted caption\"", "'x'", "_lead", "trail-"]


def mojibake(rng, text):
    """UTF-8 bytes of `text` read as a single-byte encoding, once or twice, sometimes with the
    damage that travels with mojibake (lowercasing, 0xA0 turned into a space, lost bytes)."""
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        text = text.encode("utf-8").decode(rng.choice(MOJI_ENCODINGS), errors="replace")
    roll = rng.random()
    if roll < 0.2:
        text = text.lower()
    elif roll < 0.3:
        text = text.replace("\u00a0", " ")
    elif roll < 0.35:
        text = text.replace("\ufffd", "?")
    elif roll < 0.4 and len(text) > 2:
        i = rng.randrange(len(text))
        text = text[:i] + text[i + 1:]
    return text


def entity(rng):
    roll = rng.random()
    if roll < 0.55:
        name = rng.choice(ENTITY_NAMES).rstrip(";")
        if rng.random() < 0.15:
            name = name.upper()
        tail = rng.choice([";", ";", "", "x", "2020", ";;", " "])
        return "&" + name + tail
    if roll < 0.9:
        value = rng.choice([0, 9, 10, 13, 38, 60, 65, 0x7F, 0x80, 0x81, 0x85, 0x93, 0x9D, 0x9F, 0xA0,
                            0xE9, 0x2019, 0xD800, 0xDFFF, 0xFDD0, 0xFFFE, 0x1F600, 0x10FFFF, 0x110000,
                            rng.randrange(0x20, 0x3000), 10 ** 30])
        digits = rng.choice(["%d", "x%x", "X%X", "x%04x"]) % value
        return "&#" + digits + rng.choice([";", ";", "", " ", "z", "9"])
    return rng.choice(["&", "&;", "&#;", "&#x;", "&#", "&x", "&abcdefghijklmnopqrstuvwxyz0123456789;",
                       "&notit;", "&copy2020", "&ampamp;", "&AMP;", "&eacute", "&EACUTE;", "&Eacute;"])


def piece(rng):
    kind = rng.random()
    if kind < 0.25:
        return rng.choice(WORDS)
    if kind < 0.45:
        return mojibake(rng, " ".join(rng.choice(REAL) for _ in range(rng.randint(1, 3))))
    if kind < 0.55:
        return rng.choice(REAL)
    if kind < 0.7:
        return entity(rng)
    if kind < 0.8:
        return rng.choice(CONTROL)
    if kind < 0.87:
        return rng.choice(MARKUP)
    if kind < 0.95:
        return rng.choice(CLEANER_BITS)
    if kind < 0.97:
        # Bytes that only ftfy's utf-8-variants codec decodes (Java's 0xC0 0x80, CESU-8), read as
        # Latin-1/Windows-1252, often right before a line break.
        raw = rng.choice([b"\xc0\x80", b"\xc0", b"\xed\xa0\xbd\xed\xb8\x80", b"\xed\xa0\x80\xed\xb0",
                          b"\xed\xa0\x80", b"\xed", b"\xc3\xa9\xc0\x80"])
        return raw.decode(rng.choice(["latin-1", "sloppy-windows-1252"])) + rng.choice(["", "\n", "\n", "x"])
    return chr(rng.choice([rng.randrange(0x20, 0x250), rng.randrange(0x370, 0x530), rng.randrange(0x2000, 0x2c00),
                           rng.randrange(0xff00, 0xfff0), rng.randrange(0x1f300, 0x1f650)]))


def caption(rng):
    roll = rng.random()
    if roll < 0.15:
        # A whole caption turned into mojibake.
        return mojibake(rng, " ".join(rng.choice(REAL + WORDS) for _ in range(rng.randint(2, 8))))
    parts = [piece(rng) for _ in range(rng.randint(1, 12))]
    sep = rng.choice([" ", " ", " ", "", "\n", ", "])
    text = sep.join(parts)
    if rng.random() < 0.2:
        text = text.upper() if rng.random() < 0.5 else text.title()
    return text


def main():
    n, seed, t5_dir, out, tables = sys.argv[1:6]  # t5_dir '-': no tokenization
    rng = random.Random(int(seed))
    captions = [caption(rng) for _ in range(int(n))]
    clean_once = [or_none(clean_caption, c) for c in captions]
    cleaned = [None if c is None else clean_caption(c) for c in clean_once]
    ids = []
    if t5_dir != "-":
        from transformers import T5Tokenizer
        tok = T5Tokenizer.from_pretrained(t5_dir)
        ids = tok([c or "" for c in cleaned], max_length=100, padding="max_length", truncation=True)["input_ids"]
    result = {
        "captions": captions,
        "fix_text": [ftfy.fix_text(c) for c in captions],
        "unescape": [html.unescape(c) for c in captions],
        "soup": [or_none(lambda t: BeautifulSoup(t, features="html.parser").text, c) for c in captions],
        "clean_once": clean_once,
        "cleaned": cleaned,
        # Ids without the padding (every id after them is 0).
        "ids": [row[:row.index(0)] if 0 in row else row for row in ids],
    }
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(result, fh, ensure_ascii=True)
    subprocess.run([sys.executable, os.path.join(ROOT, "python", "tools", "gen_text_tables.py"), tables], check=True)


if __name__ == "__main__":
    main()
