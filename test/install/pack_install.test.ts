// `npm install videovae` as a new user does it: pack the project (with its prebuilt binary),
// install the tarball into an empty app outside the repository with no LIBTORCH, no .venv and
// no working compiler, then use it the way the README's "Install in your app" says: libtorch
// from `npx videovae setup`, and again from a Python environment that has torch.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'

import { ROOT } from '../support/parity.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-pack-'))
const app = path.join(tmp, 'app')
const installed = path.join(app, 'node_modules', 'videovae')
const fakeBin = path.join(tmp, 'no-compiler')
const compileMarker = path.join(tmp, 'compiler-was-called')
const setupCache = path.join(tmp, 'xdg-setup')
const venvPython = path.join(ROOT, '.venv', 'bin', 'python')

/** The user's environment: nothing of this repository, compilers that record being called. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|NODE_OPTIONS$|LIBTORCH$|Torch_DIR$|VIDEOVAE_|LD_LIBRARY_PATH$|LD_PRELOAD$)/i.test(key)) continue
    env[key] = value
  }
  env.PATH = [fakeBin, path.dirname(process.execPath), process.env.PATH].join(path.delimiter)
  env.XDG_CACHE_HOME = setupCache
  env.OMP_NUM_THREADS = '1'
  return { ...env, ...extra }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = userEnv(), timeout = 300_000): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd: app, env, encoding: 'utf8', timeout, maxBuffer: 64 << 20 })
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} exited ${r.status} (${r.error?.message ?? ''})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
  return r.stdout
}

/** The README's "Use from Node" example, verbatim. */
function readmeExample(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Use from Node'))
  return /```ts\n([\s\S]*?)```/.exec(section)![1]!
}

/** A CommonJS consumer: the embedded model encodes and decodes a small clip. */
const CJS = `
const { VideoVAE, Tensor, libtorchInfo } = require('videovae')
;(async () => {
  const vae = await VideoVAE.load()
  const frames = new Uint8Array(8 * 32 * 32 * 3).map((_, i) => (i * 7) % 251)
  const latent = await vae.encode(Tensor.from(frames, [8, 32, 32, 3], { dtype: 'uint8' }))
  const rgb = await vae.decode(latent, { frames: 8, output: 'uint8' })
  const data = await rgb.data()
  console.log(JSON.stringify({ latent: latent.shape, rgb: rgb.shape, bytes: data.length, library: libtorchInfo().runtime.library }))
})().catch((e) => { console.log(JSON.stringify({ code: e.code, message: e.message })); process.exitCode = 1 })
`

/** An ES module consumer: the same package instance through the ESM entry. */
const ESM = `
import { VideoVAE, Tensor, libtorchInfo } from 'videovae'
const t = Tensor.from(new Float32Array([1, 2, 3]), [3])
console.log(JSON.stringify({ load: typeof VideoVAE.load, data: Array.from(await t.data()), library: libtorchInfo().runtime.library }))
`

describe('npm install of the packed tarball in a fresh app', { timeout: 20 * 60_000 }, () => {
  let tarball = ''

  before(() => {
    // The package as `npm run build` + `npm run prebuild` make it (both cheap when up to date).
    const dist = path.join(ROOT, 'dist', 'cjs', 'index.js')
    const newest = Math.max(
      ...fs.readdirSync(path.join(ROOT, 'lib'), { recursive: true, encoding: 'utf8' }).map((f) => fs.statSync(path.join(ROOT, 'lib', f)).mtimeMs),
    )
    if (!fs.existsSync(dist) || fs.statSync(dist).mtimeMs < newest) execFileSync(process.execPath, ['scripts/build.js', 'ts'], { cwd: ROOT, stdio: 'ignore' })
    execFileSync(process.execPath, ['scripts/prebuild.js'], { cwd: ROOT, stdio: 'ignore' })
    const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8' })
    tarball = path.join(tmp, (JSON.parse(out) as { filename: string }[])[0]!.filename)

    fs.mkdirSync(app)
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }))
    fs.mkdirSync(fakeBin)
    for (const tool of ['cc', 'gcc', 'c++', 'g++', 'clang', 'clang++', 'make', 'cmake']) {
      fs.writeFileSync(path.join(fakeBin, tool), `#!/bin/sh\necho "$0 $*" >> '${compileMarker}'\nexit 1\n`, { mode: 0o755 })
    }
  })

  after(() => fs.rmSync(tmp, { recursive: true, force: true }))

  it('ships the prebuilt binary, its SentencePiece and every script the install needs', () => {
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n')
    for (const file of [
      'package/prebuilds/linux-x64/videovae.libtorch-2.13.0-cpu.glibc.node',
      'package/prebuilds/linux-x64/videovae_spm.so',
      'package/prebuilds/linux-x64/libsentencepiece.so.0',
      'package/scripts/install.js',
      'package/scripts/libtorch.js',
      'package/scripts/sentencepiece.js',
      'package/dist/cjs/index.d.ts',
      'package/dist/esm/index.mjs',
    ]) {
      assert.ok(listing.includes(file), `${file} is not in the package`)
    }
  })

  it('npm install exits 0 without libtorch and without compiling', () => {
    const r = run('npm', ['install', tarball, '--foreground-scripts', '--no-audit', '--no-fund'])
    ok(r, 'npm install')
    assert.match(r.stdout + r.stderr, /using the prebuilt prebuilds\/linux-x64\/videovae\.libtorch-2\.13\.0-cpu\.glibc\.node \(no compile\)/)
    assert.ok(!fs.existsSync(compileMarker), `a compiler was called: ${fs.existsSync(compileMarker) ? fs.readFileSync(compileMarker, 'utf8') : ''}`)
    assert.ok(!fs.existsSync(path.join(installed, 'build')), 'a build/ directory appeared in the installed package')
    assert.ok(!fs.existsSync(path.join(installed, '.venv')))
  })

  it('the first call without libtorch fails with ERR_LIBTORCH_NOT_FOUND naming npx videovae setup', (t) => {
    const torchOnPath = ['python3', 'python'].some((p) => run(p, ['-c', 'import torch']).status === 0)
    if (torchOnPath) return t.skip('python3 on PATH has torch: this machine has a libtorch')
    const r = run(process.execPath, ['-e', CJS])
    const out = JSON.parse(r.stdout.trim()) as { code: string; message: string }
    assert.equal(out.code, 'ERR_LIBTORCH_NOT_FOUND')
    assert.match(out.message, /`npx videovae setup`/)
    assert.match(out.message, /LIBTORCH=/)
    assert.match(out.message, /VIDEOVAE_PYTHON=/)
  })

  it('npx videovae setup installs libtorch into the cache; CJS, ESM, tsc --strict, reconstruct and doctor run on it', () => {
    const managed = fs.realpathSync(tmp) + path.sep
    // pip may only reach the local mirror here: no retries, short timeouts.
    ok(run('npx', ['videovae', 'setup'], userEnv({ VIDEOVAE_PIP_ARGS: '--retries 0 --timeout 5' }), 600_000), 'npx videovae setup')
    const record = JSON.parse(fs.readFileSync(path.join(setupCache, 'videovae', 'libtorch-2.13.0-cpu', 'libtorch.json'), 'utf8'))
    assert.equal(record.version, '2.13.0')
    assert.equal(record.flavour, 'cpu')
    // A second run finds the copy and installs nothing.
    assert.match(ok(run('npx', ['videovae', 'setup']), 'second setup'), /already installed/)

    const cjs = JSON.parse(ok(run(process.execPath, ['-e', CJS]), 'CommonJS consumer').trim())
    assert.deepEqual(cjs.latent, [1, 16, 2, 4, 4])
    assert.deepEqual(cjs.rgb, [1, 8, 32, 32, 3])
    assert.equal(cjs.bytes, 8 * 32 * 32 * 3)
    assert.ok(fs.realpathSync(cjs.library).startsWith(managed), `libtorch came from ${cjs.library}, not the setup copy`)

    fs.writeFileSync(path.join(app, 'consumer.mjs'), ESM)
    const esm = JSON.parse(ok(run(process.execPath, ['consumer.mjs']), 'ES module consumer').trim())
    assert.deepEqual(esm, { load: 'function', data: [1, 2, 3], library: cjs.library })

    fs.writeFileSync(path.join(app, 'readme.mts'), readmeExample())
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    const types = ['--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types')]
    ok(
      run(process.execPath, [tsc, '--strict', '--noEmit', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', ...types, 'readme.mts']),
      'tsc --strict',
    )

    const sample = path.join(installed, 'assets', 'sample', 'dandelions_256.mp4')
    const rec = JSON.parse(ok(run('npx', ['videovae', 'reconstruct', sample, '-o', 'out.mp4', '--frames', '4', '--json']), 'videovae reconstruct'))
    assert.ok(fs.statSync(path.join(app, 'out.mp4')).size > 1000)
    assert.ok(rec.psnr > 20, JSON.stringify(rec)) // the default model: ~27.8 dB on this clip

    const doctor = JSON.parse(ok(run('npx', ['videovae', 'doctor', '--json']), 'videovae doctor'))
    assert.equal(doctor.ok, true, JSON.stringify(doctor.problems))
    assert.match(doctor.libtorch.foundBy, /^videovae setup/)
    assert.ok(doctor.addon.path.startsWith(path.join(installed, 'prebuilds')), doctor.addon.path)
    assert.equal(doctor.sentencepiece.library, path.join(installed, 'prebuilds', 'linux-x64', 'libsentencepiece.so.0'))
    assert.ok(!fs.existsSync(compileMarker))
  })

  it('with no setup copy, the torch of VIDEOVAE_PYTHON is found and used', (t) => {
    if (!fs.existsSync(venvPython)) return t.skip('no .venv with torch (bash scripts/setup.sh)')
    const env = userEnv({ VIDEOVAE_PYTHON: venvPython, XDG_CACHE_HOME: path.join(tmp, 'xdg-empty') })
    const torchDir = execFileSync(venvPython, ['-c', 'import os, torch; print(os.path.realpath(os.path.dirname(torch.__file__)))'], { encoding: 'utf8' }).trim()
    const cjs = JSON.parse(ok(run(process.execPath, ['-e', CJS], env), 'CommonJS consumer').trim())
    assert.deepEqual(cjs.rgb, [1, 8, 32, 32, 3])
    assert.ok(fs.realpathSync(cjs.library).startsWith(torchDir + path.sep), `libtorch came from ${cjs.library}, not ${torchDir}`)
    const doctor = JSON.parse(ok(run('npx', ['videovae', 'doctor', '--json'], env), 'videovae doctor'))
    assert.equal(doctor.ok, true, JSON.stringify(doctor.problems))
    assert.equal(doctor.libtorch.foundBy, `python ${venvPython}`)
  })
})
