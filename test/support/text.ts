/**
 * Caption fixtures for the Node tests: a tiny Flan-T5-style model in Hugging Face format
 * (test/support/tiny_t5.py: a SentencePiece model trained on text it writes, random T5
 * weights), bundles exported from it, and reference outputs from transformers
 * (test/support/t5_reference.py). Everything is cached under .cache/ and built atomically.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { parityCheckpoint, PYTHON, ROOT } from './parity.js'

const SUPPORT = path.join(ROOT, 'test', 'support')
const PY_ENV = { ...process.env, PYTHONPATH: path.join(ROOT, 'python') }

function buildOnce(dir: string, marker: string, build: (tmp: string) => void): string {
  if (!fs.existsSync(path.join(dir, marker))) {
    const tmp = `${dir}.tmp-${process.pid}`
    fs.rmSync(tmp, { recursive: true, force: true })
    fs.mkdirSync(path.dirname(dir), { recursive: true })
    build(tmp)
    fs.rmSync(dir, { recursive: true, force: true })
    fs.renameSync(tmp, dir)
  }
  return dir
}

/** The tiny HF T5 directory (d_model 1024 like flan-t5-large, 2 layers, 4 heads, d_ff 64). */
export function tinyT5Dir(): string {
  return buildOnce(path.join(ROOT, '.cache', 't5', 'tiny-1024'), 'config.json', (tmp) =>
    execFileSync(PYTHON, [path.join(SUPPORT, 'tiny_t5.py'), tmp], { stdio: ['ignore', 'ignore', 'inherit'] }),
  )
}

function exportBundle(name: string, args: string[]): string {
  return buildOnce(path.join(ROOT, '.cache', 'bundles', name), 'manifest.json', (tmp) =>
    execFileSync(PYTHON, ['-m', 'videovae', 'export', ...args, '--out', tmp], { env: PY_ENV, stdio: ['ignore', 'ignore', 'inherit'] }),
  )
}

/** A text-only bundle of the tiny T5. */
export function textBundle(dtype: 'bfloat16' | 'float32'): string {
  return exportBundle(`t5-tiny-${dtype}`, ['--t5', tinyT5Dir(), '--t5-dtype', dtype])
}

export const CAPTION_CASE = '16z_cap-ch32-video'

/** The 16z_cap ch32 parity model with the tiny T5 (float32) inside. */
export function captionBundle(): string {
  return exportBundle(`${CAPTION_CASE}-t5`, ['--checkpoint', parityCheckpoint(CAPTION_CASE), '--t5', tinyT5Dir(), '--t5-dtype', 'float32'])
}

/** Runs t5_reference.py with the captions in a temporary JSON file; returns its stdout. */
export function reference(mode: 'tokenize' | 'embed' | 'vae', captions: string[], ...rest: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-t5-'))
  try {
    const file = path.join(dir, 'captions.json')
    fs.writeFileSync(file, JSON.stringify(captions))
    return execFileSync(PYTHON, [path.join(SUPPORT, 't5_reference.py'), mode, tinyT5Dir(), file, ...rest], {
      env: PY_ENV,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      stdio: ['ignore', 'pipe', 'inherit'],
    })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** Captions that exercise the tokenizer: casing, punctuation, digits, Unicode normalisation,
 * whitespace runs and kinds, special tokens written in the text, CJK, emoji, long text. */
export const TOKENIZER_CAPTIONS = [
  'a dog running in the park',
  '',
  ' ',
  'A Dog_running-in-the_park-now!!',
  'Aerial view of a golden beach at sunset, waves crashing on the rocks.',
  '  leading   and trailing  spaces  ',
  'tabs\tand\nnewlines\r\nand\u00a0nbsp\u3000ideographic\u2003em space',
  'café naïve résumé Zürich façade ﬁlm ½ ① ｆｕｌｌ ｗｉｄｔｈ straße',
  'Ωmega São Paulo über ÄÖÜ ø æ œ — – “quoted” ‘single’ «guillemets»',
  '日本の風景 and 中文 text with 한국어',
  'emoji 🎬📹 and symbols © ® ™ § ¶ • … ≠ ≤',
  'numbers 1920x1080 60fps 4k 3.14159 -42 1,000,000 #hashtag @user',
  'special <extra_id_0> tokens </s> in <pad> text <unk> and <extra_id_99><extra_id_5>',
  'broken <extra_id_> <extra_id_100> </s</s>> <<pad>>',
  "e.g. it's don't x264 h.265 https://example.com/path?q=1",
  'zero\u200bwidth and combining e\u0301 n\u0303 and control \u0007 chars',
  'red '.repeat(150).trim(),
  'The camera slowly pans across a field of flowers as clouds move over the mountains; a bird flies through the frame, and the light changes from morning to a bright golden sunset over the ocean waves.',
]
