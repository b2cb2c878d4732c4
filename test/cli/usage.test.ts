// --help of every command, usage errors (exit 2) and the error line format. No model runs here.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { cli, json, makeVideo, tempDir } from './helpers.js'

const COMMANDS = ['export', 'encode', 'decode', 'reconstruct', 'eval', 'info', 'doctor', 'setup', 'parity', 'tokenize', 'embed-text']

describe('videovae --help', () => {
  it('lists every command and the exit codes', () => {
    const r = cli(['--help'])
    assert.equal(r.code, 0, r.stderr)
    for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^\\s+${c}\\b`, 'm'))
    assert.match(r.stdout, /Exit codes: 0 ok, 1 runtime failure, 2 usage error, 3/)
    assert.equal(r.stderr, '')
  })

  for (const c of COMMANDS) {
    it(`${c} --help`, () => {
      const r = cli([c, '--help'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, new RegExp(`^Usage: videovae ${c}`))
      assert.match(r.stdout, /--verbose/)
      if (!['doctor', 'setup', 'export', 'eval', 'info', 'tokenize'].includes(c)) assert.match(r.stdout, /--device <device>/)
    })
  }

  it('--version prints the package version', () => {
    const r = cli(['--version'])
    assert.equal(r.code, 0)
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }
    assert.equal(r.stdout.trim(), pkg.version)
  })
})

describe('usage errors exit 2 with one line on stderr', () => {
  const dir = tempDir()
  const video = makeVideo(path.join(dir, 'v.mp4'), { frames: 4, width: 32, height: 32 })
  const cases: [string, string[], RegExp][] = [
    ['no command', [], /Usage: videovae/],
    ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['unknown option', ['encode', video, '-o', 'x.safetensors', '--frobnicate'], /unknown option '--frobnicate'.*videovae encode --help/],
    ['missing -o', ['encode', video], /required option '-o, --output <path>'/],
    ['missing argument', ['eval', video], /missing required argument 'test'/],
    ['bad --threads', ['encode', video, '-o', 'x.safetensors', '--threads', '0'], /--threads must be an integer >= 1/],
    ['bad --device', ['encode', video, '-o', 'x.safetensors', '--device', 'tpu'], /use 'cpu', 'cuda' or 'cuda:N'/],
    // Values that break the bundle's shape rules are ERR_ARGUMENT (exit 2): test/cli/shape_rules.test.ts.
    ['--tile-overlap without --tile', ['encode', video, '-o', 'x.safetensors', '--tile-overlap', '8'], /--tile-overlap needs --tile/],
    ['bad --fit', ['encode', video, '-o', 'x.safetensors', '--fit', 'stretch'], /Allowed choices are pad, crop, resize, none/],
    ['bad --fps', ['encode', video, '-o', 'x.safetensors', '--fps', 'fast'], /frame rate/],
    ['bad --size', ['info', '--size', '16x256'], /TxHxW/],
    ['bad --attention', ['export', '--checkpoint', video, '-o', 'x', '--attention', 'fast'], /Allowed choices are exact, chunked/],
    ['eval of a file against a directory', ['eval', video, dir], /both be files or both be directories/],
    ['parity without --case', ['parity', '--bundle', dir], /required option '--case <dir>'/],
    ['excess arguments', ['doctor', 'extra'], /too many arguments/],
    ['bad --cuda', ['setup', '--cuda', 'twelve'], /--cuda takes a CUDA version like 12\.8/],
  ]
  for (const [name, args, message] of cases) {
    it(name, () => {
      const r = cli(args)
      assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`)
      assert.match(r.stderr, message)
      if (args.length > 0) {
        assert.match(r.stderr, /^videovae: .* \(ERR_USAGE\)\n$/)
        assert.equal(r.stdout, '')
      }
    })
  }

  it('with --json, a usage error is also one JSON object on stdout', () => {
    const r = cli(['encode', video, '-o', 'x.safetensors', '--threads', 'x', '--json'])
    assert.equal(r.code, 2)
    assert.equal(json<{ error: { code: string } }>(r).error.code, 'ERR_USAGE')
  })
})
