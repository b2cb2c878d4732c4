// Bad inputs and outputs: exit 1, one clear line on stderr, no output file left; SIGINT: 130.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { defaultBundleDir } from '../../lib/index.js'
import { cli, cliAsync, json, listing, makeVideo, needsPython, ROOT, tempDir } from './helpers.js'

const isRoot = process.getuid?.() === 0

// The embedded default model: these failures need no fixtures, so they run without ../shared.
describe('runtime failures', () => {
  const dir = tempDir()
  const bundle = defaultBundleDir()
  const common = ['--bundle', bundle, '--threads', '2']
  const video = makeVideo(path.join(dir, 'clip.mp4'), { width: 32, height: 32, frames: 4 })
  const outDir = path.join(dir, 'out')
  fs.mkdirSync(outDir)

  function assertFailure(args: string[], message: RegExp, code = 1): void {
    const r = cli(args)
    assert.equal(r.code, code, `${r.stdout}\n${r.stderr}`)
    assert.match(r.stderr, message)
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line expected:\n${r.stderr}`)
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace without --verbose')
    assert.deepEqual(listing(outDir), [], 'no output left behind')
  }

  it('a missing input file', () => {
    assertFailure(
      ['encode', path.join(dir, 'nope.mp4'), '-o', path.join(outDir, 'x.safetensors'), ...common],
      /^videovae: no such file: .*nope\.mp4 \(ERR_NOT_FOUND\)$/m,
    )
    assertFailure(['reconstruct', path.join(dir, 'nope.mp4'), '-o', path.join(outDir, 'x.mp4'), ...common], /no such file: .*nope\.mp4 \(ERR_NOT_FOUND\)/)
    assertFailure(
      ['decode', path.join(dir, 'nope.safetensors'), '-o', path.join(outDir, 'x.mp4'), ...common],
      /no such file: .*nope\.safetensors \(ERR_NOT_FOUND\)/,
    )
    assertFailure(['eval', path.join(dir, 'nope.mp4'), video], /no such file: .*nope\.mp4 \(ERR_NOT_FOUND\)/)
  })

  it('a corrupt video', () => {
    const bad = path.join(dir, 'corrupt.mp4')
    fs.writeFileSync(bad, Buffer.concat([fs.readFileSync(video).subarray(0, 200), Buffer.alloc(5000, 7)]))
    assertFailure(['encode', bad, '-o', path.join(outDir, 'x.safetensors'), ...common], /^videovae: .*corrupt\.mp4.* \(ERR_VIDEO_CORRUPT\)$/m)
    assertFailure(['reconstruct', bad, '-o', path.join(outDir, 'x.mp4'), ...common], /corrupt\.mp4.*\(ERR_VIDEO_CORRUPT\)/)
    assertFailure(['eval', video, bad], /corrupt\.mp4.*\(ERR_VIDEO_CORRUPT\)/)
  })

  it('a latent file that is not one', () => {
    const text = path.join(dir, 'notes.safetensors')
    fs.writeFileSync(text, 'hello, not a safetensors file')
    assertFailure(['decode', text, '-o', path.join(outDir, 'x.mp4'), ...common], /notes\.safetensors is not a valid safetensors file.*\(ERR_SAFETENSORS\)/)
  })

  it('an output directory that does not exist or is a file', () => {
    assertFailure(
      ['encode', video, '-o', path.join(dir, 'missing-dir', 'x.safetensors'), ...common],
      /output directory .*missing-dir does not exist \(ERR_OUTPUT\)/,
    )
    assertFailure(['reconstruct', video, '-o', path.join(video, 'x.mp4'), ...common], /clip\.mp4 is not a directory \(ERR_OUTPUT\)/)
    assertFailure(['encode', video, video, '-o', path.join(video, 'sub'), ...common], /\(ERR_OUTPUT\)/)
  })

  it('an unwritable output directory', { skip: isRoot && 'running as root: permissions do not stop writes' }, () => {
    const ro = path.join(dir, 'readonly')
    fs.mkdirSync(ro, { mode: 0o555 })
    assertFailure(
      ['encode', video, '-o', path.join(ro, 'x.safetensors'), ...common],
      /cannot write to the output directory .*readonly \(permission denied\) \(ERR_OUTPUT\)/,
    )
  })

  it('an output path the writer refuses fails after the work, leaving nothing', () => {
    // /proc accepts no new files even for root: the check passes, the final write fails.
    const r = cli(['encode', video, '-o', '/proc/videovae-test.safetensors', ...common])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /^videovae: .*\/proc\/videovae-test\.safetensors.*\((ERR_IO|ERR_OUTPUT)\)$/m)
    assert.equal(fs.existsSync('/proc/videovae-test.safetensors'), false)
  })

  it('--json failures print one JSON error object on stdout', () => {
    const r = cli(['encode', path.join(dir, 'nope.mp4'), '-o', path.join(outDir, 'x.safetensors'), ...common, '--json'])
    assert.equal(r.code, 1)
    assert.deepEqual(Object.keys(json(r)), ['error'])
    assert.equal(json<{ error: { code: string } }>(r).error.code, 'ERR_NOT_FOUND')
  })

  it('--verbose adds the stack', () => {
    const r = cli(['encode', path.join(dir, 'nope.mp4'), '-o', path.join(outDir, 'x.safetensors'), ...common, '--verbose'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /\n\s+at /)
  })

  it('a bundle directory that is not a bundle', () => {
    assertFailure(['encode', video, '-o', path.join(outDir, 'x.safetensors'), '--bundle', dir], /not a bundle: cannot read .*manifest\.json.*\(ERR_BUNDLE\)/)
  })

  it(
    'no --bundle and no embedded default model',
    { skip: fs.existsSync(path.join(ROOT, 'assets', 'default-bundle', 'manifest.json')) && 'the default model is installed' },
    () => {
      assertFailure(
        ['encode', video, '-o', path.join(outDir, 'x.safetensors')],
        /embedded default model is not installed.*pass --bundle DIR.*\(ERR_NO_DEFAULT_MODEL\)/,
      )
      assertFailure(['info'], /embedded default model is not installed/)
    },
  )

  it('export: a missing checkpoint, an existing bundle without --force', { skip: needsPython }, () => {
    assertFailure(['export', '--checkpoint', path.join(dir, 'nope.ckpt'), '-o', path.join(outDir, 'b')], /no such file: .*nope\.ckpt \(ERR_NOT_FOUND\)/)
    assertFailure(['export', '--checkpoint', video, '-o', dir], /already exists; use --force/)
    assertFailure(['export', '--checkpoint', video, '-o', path.join(outDir, 'b')], /^videovae: export failed: .* \(ERR_EXPORT\)$/m)
  })

  it('SIGINT aborts the job: exit 130 and no partial output', async () => {
    // Long enough that even the small default model cannot finish before the signal.
    const long = makeVideo(path.join(dir, 'long.mp4'), { width: 128, height: 128, frames: 160 })
    const out = path.join(outDir, 'long.mp4')
    let sent = false
    const r = await cliAsync(['reconstruct', long, '-o', out, '--chunk-frames', '4', ...common], (child) => {
      // Interrupt once the work has started: the output's temporary file exists (a fixed delay
      // raced the CLI's start-up on a loaded machine).
      const poll = setInterval(() => {
        if (listing(outDir).some((f) => f.includes('.tmp'))) {
          clearInterval(poll)
          sent = child.kill('SIGINT')
        }
      }, 5)
      child.on('close', () => clearInterval(poll))
    })
    assert.ok(sent, `the run ended before its temporary output appeared: ${r.stderr}`)
    assert.equal(r.code, 130, r.stderr)
    assert.match(r.stderr, /interrupted/)
    assert.deepEqual(listing(outDir), [])
  })
})
