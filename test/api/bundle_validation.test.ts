// readBundle on hostile or malformed bundles: every case is ERR_BUNDLE naming the problem,
// never a hang (FIFOs), never a read outside the bundle (symlinks), never an uncoded TypeError.
// Small synthetic bundles: the default model's manifest over placeholder stage files.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, describe, test } from 'node:test'

import { readBundle } from '../../lib/bundle.js'
import { ROOT } from '../support/parity.js'

const template = JSON.parse(fs.readFileSync(path.join(ROOT, 'assets', 'default-bundle', 'manifest.json'), 'utf8')) as Record<string, unknown>
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests edited field by field, malformed on purpose
type Manifest = Record<string, any>
const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-bundle-'))
const fifos: string[] = []
let n = 0

/** A bundle whose stage files hold their own names, with `edit` applied to the manifest. */
function makeBundle(edit: (m: Manifest) => void = () => {}): string {
  const dir = path.join(tmp, `b${n++}`)
  fs.mkdirSync(dir)
  const m = structuredClone(template) as Manifest
  m.quantization = null
  m.files = {}
  for (const stage of ['spatial_encoder', 'temporal_encoder', 'temporal_decoder', 'spatial_decoder']) {
    fs.writeFileSync(path.join(dir, `${stage}.pt`), stage)
    m.files[stage] = { path: `${stage}.pt`, sha256: sha(stage) }
  }
  edit(m)
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m))
  return dir
}

function mkfifo(file: string): void {
  execFileSync('mkfifo', [file])
  fifos.push(file)
}

describe('bundle validation', () => {
  after(() => {
    // Should a regression block on a FIFO, give the reader its EOF so the process can exit.
    for (const f of fifos) {
      try {
        fs.closeSync(fs.openSync(f, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK))
      } catch {
        // no reader is blocked on it (ENXIO), or it is gone
      }
    }
    fs.rmSync(tmp, { recursive: true, force: true })
  })

  test('a well-formed synthetic bundle loads, with a symlink that stays inside', async () => {
    const dir = makeBundle((m) => (m.files.spatial_encoder.path = 'link.pt'))
    fs.symlinkSync('spatial_encoder.pt', path.join(dir, 'link.pt'))
    const info = await readBundle(dir)
    assert.equal(info.rules.tMultiple, 4)
    assert.equal(info.files.spatial_encoder, path.join(fs.realpathSync(dir), 'spatial_encoder.pt'))
  })

  test('a files entry naming a FIFO is refused, not read (with and without verify)', { timeout: 10_000 }, async () => {
    const dir = makeBundle((m) => (m.files.temporal_decoder.path = 'pipe.pt'))
    mkfifo(path.join(dir, 'pipe.pt'))
    for (const verify of [true, false]) {
      await assert.rejects(readBundle(dir, { verify }), { code: 'ERR_BUNDLE', message: /temporal_decoder \(pipe\.pt\) is not a regular file/ })
    }
    const dirEntry = makeBundle((m) => (m.files.spatial_decoder.path = '.'))
    await assert.rejects(readBundle(dirEntry), { code: 'ERR_BUNDLE', message: /spatial_decoder \(\.\) is not a regular file/ })
  })

  test('manifest.json as a FIFO is refused, not read', { timeout: 10_000 }, async () => {
    const dir = path.join(tmp, 'fifo-manifest')
    fs.mkdirSync(dir)
    mkfifo(path.join(dir, 'manifest.json'))
    await assert.rejects(readBundle(dir), { code: 'ERR_BUNDLE', message: /manifest\.json.*not a regular file/ })
  })

  test('a symlink leading out of the bundle is refused, even with a matching hash', async () => {
    const secret = path.join(tmp, 'secret.pt')
    fs.writeFileSync(secret, 'spatial_encoder')
    const dir = makeBundle((m) => (m.files.spatial_encoder.path = 'escape.pt'))
    fs.symlinkSync(secret, path.join(dir, 'escape.pt'))
    for (const verify of [true, false]) {
      await assert.rejects(readBundle(dir, { verify }), {
        code: 'ERR_BUNDLE',
        message: /spatial_encoder \(escape\.pt\) is a symlink to .*secret\.pt, outside the bundle/,
      })
    }
    const dotdot = makeBundle((m) => (m.files.spatial_encoder.path = '../secret.pt'))
    await assert.rejects(readBundle(dotdot), { code: 'ERR_BUNDLE', message: /points outside the bundle \(\.\.\/secret\.pt\)/ })
  })

  test('rules, compression, widths, text and latent_channels are validated', async () => {
    const cases: [(m: Manifest) => void, RegExp][] = [
      [(m) => (m.rules.t_multiple = 0), /rules: "t_multiple" must be an integer >= 1, got 0/],
      [(m) => (m.rules.hw_multiple = 2.5), /rules: "hw_multiple" must be an integer >= 1, got 2\.5/],
      [(m) => delete m.rules.t_min, /rules: "t_min" must be an integer >= 1, got nothing/],
      [(m) => (m.rules = null), /"rules" is missing or not a object/],
      [(m) => (m.compression.h = '8'), /compression: "h" must be an integer >= 1, got "8"/],
      [(m) => (m.compression = [4, 8, 8]), /"compression" is missing or not a object/],
      [(m) => (m.widths.ch_mult = []), /widths: "ch_mult" is empty/],
      [(m) => (m.widths.ch_mult = [1, -2]), /widths ch_mult: "1" must be an integer >= 1, got -2/],
      [(m) => (m.widths.ch = 0), /widths: "ch" must be an integer >= 1, got 0/],
      [(m) => (m.widths.norm_group_channels = -1), /widths: "norm_group_channels" must be an integer >= 0, got -1/],
      [(m) => (m.text = { required: true, dim: 0, max_length: 100 }), /text: "dim" must be an integer >= 1, got 0/],
      [(m) => (m.text = 'yes'), /"text" must be an object or null/],
      [(m) => (m.latent_channels = 0), /"latent_channels" must be an integer >= 1, got 0/],
      [(m) => (m.files.spatial_encoder = null), /files\.spatial_encoder is not an object/],
    ]
    for (const [edit, message] of cases) {
      await assert.rejects(readBundle(makeBundle(edit), { verify: false }), { code: 'ERR_BUNDLE', message })
    }
  })

  test('manifest.json holding null, an array or a number is ERR_BUNDLE', async () => {
    for (const [body, what] of [
      ['null', 'null'],
      ['[]', 'an array'],
      ['7', 'number'],
    ]) {
      const dir = makeBundle()
      fs.writeFileSync(path.join(dir, 'manifest.json'), body)
      await assert.rejects(readBundle(dir), { code: 'ERR_BUNDLE', message: new RegExp(`does not hold a JSON object \\(it holds ${what}\\)`) })
    }
  })
})
