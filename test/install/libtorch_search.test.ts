// Where a prebuilt binary finds libtorch (LIBTORCH, Torch_DIR, a Python's torch, the copy of
// `videovae setup`), how it loads it without an rpath, and the errors when there is none.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'

import { findTool, missingToolMessage } from '../../lib/io/ffmpeg_path.js'
import { findRuntimeLibtorch, libtorchProblem } from '../../lib/libtorch_check.js'
import { cudaFlavour, pipInstallArgs, setupLibtorch } from '../../lib/libtorch_setup.js'
import { ROOT } from '../support/parity.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-search-'))
after(() => fs.rmSync(dir, { recursive: true, force: true }))

const build = { torchVersion: '2.13.0', flavour: 'cpu', libdir: '/build/machine/torch/lib', buildSystem: 'node-gyp' }
const prebuilt = path.join(dir, 'pkg', 'prebuilds', 'linux-x64', 'videovae.libtorch-2.13.0-cpu.glibc.node')

/** A directory that looks like an unpacked libtorch of `version` (e.g. '2.12.1+cu121'). */
function fakeLibtorch(name: string, version: string): string {
  const root = path.join(dir, name)
  fs.mkdirSync(path.join(root, 'lib'), { recursive: true })
  fs.writeFileSync(path.join(root, 'lib', 'libtorch.so'), '')
  fs.writeFileSync(path.join(root, 'build-version'), version)
  return root
}

/** A "python" whose torch lives at `root` (it answers the locator's find_spec query). */
function fakePython(name: string, root: string): string {
  const file = path.join(dir, name)
  fs.writeFileSync(file, `#!/bin/sh\necho '${root}'\n`, { mode: 0o755 })
  return file
}

/** A setup cache holding a finished copy whose libtorch is `root`. */
function fakeCache(name: string, version: string, flavour: string, root: string): string {
  const cache = path.join(dir, name)
  fs.mkdirSync(path.join(cache, `libtorch-${version}-${flavour}`), { recursive: true })
  fs.writeFileSync(path.join(cache, `libtorch-${version}-${flavour}`, 'libtorch.json'), JSON.stringify({ root, version, flavour }))
  return cache
}

const locator = require('../../scripts/libtorch.js') as {
  pythonCandidates(env: NodeJS.ProcessEnv): string[]
  managedRoot(dir: string): string | null
}
const venvPython = path.join(ROOT, '.venv', 'bin', 'python')
const noPython = fakePython('python-without-torch', '')
const empty = { PATH: '', VIDEOVAE_PYTHON: noPython, VIDEOVAE_CACHE: path.join(dir, 'no-cache') }

test('a prebuilt binary ignores its build machine rpath and searches; nothing found names npx videovae setup', () => {
  const problem = libtorchProblem(prebuilt, build, empty)
  assert.equal(problem?.code, 'ERR_LIBTORCH_NOT_FOUND')
  assert.match(problem!.message, /needs libtorch 2\.13\.0 \(cpu\), and none was found/)
  assert.match(problem!.message, /Run `npx videovae setup`/)
  assert.match(problem!.message, /LIBTORCH=\/path\/to\/libtorch, Torch_DIR=.*VIDEOVAE_PYTHON=/)
  // --cuda for a CUDA binary.
  assert.match(libtorchProblem(prebuilt, { ...build, flavour: 'cu128' }, empty)!.message, /`npx videovae setup --cuda 12\.8`/)
})

test('search order: LIBTORCH, Torch_DIR, the Python torch, the setup copy; a wrong version is passed over', () => {
  const right = fakeLibtorch('right', '2.13.0+cpu')
  const older = fakeLibtorch('older', '2.11.0+cpu')
  const managed = fakeLibtorch('managed', '2.13.0+cpu')
  const cache = fakeCache('cache', '2.13.0', 'cpu', managed)
  const find = (env: NodeJS.ProcessEnv) => findRuntimeLibtorch(build, { ...empty, ...env }, prebuilt)
  assert.equal(find({ LIBTORCH: right, Torch_DIR: path.join(older, 'share/cmake/Torch') })?.root, right)
  assert.equal(find({ Torch_DIR: path.join(right, 'share/cmake/Torch'), VIDEOVAE_CACHE: cache })?.source, 'Torch_DIR')
  assert.equal(find({ VIDEOVAE_PYTHON: fakePython('py-right', right), VIDEOVAE_CACHE: cache })?.root, right)
  // A Python with another torch: the setup copy of the right one wins.
  const viaCache = find({ VIDEOVAE_PYTHON: fakePython('py-older', older), VIDEOVAE_CACHE: cache })
  assert.equal(viaCache?.root, managed)
  assert.match(viaCache!.source, /^videovae setup \(/)
  // VIDEOVAE_CACHE unset: $XDG_CACHE_HOME/videovae.
  const xdg = path.join(dir, 'xdg')
  fs.cpSync(cache, path.join(xdg, 'videovae'), { recursive: true })
  assert.equal(find({ VIDEOVAE_CACHE: undefined, XDG_CACHE_HOME: xdg })?.root, managed)
  // Without VIDEOVAE_PYTHON: a clone's .venv, then python3 and python on PATH.
  const bin = path.join(dir, 'bin')
  fs.mkdirSync(bin)
  fs.copyFileSync(fakePython('py3', right), path.join(bin, 'python3'))
  const clone = fs.existsSync(venvPython) ? [venvPython] : []
  assert.deepEqual(locator.pythonCandidates({ PATH: bin }), [...clone, path.join(bin, 'python3')])
  assert.deepEqual(locator.pythonCandidates({ PATH: bin, VIDEOVAE_PYTHON: '/my/python' }), ['/my/python'])
})

test('only a libtorch of another version: ERR_LIBTORCH_MISMATCH with both versions; an explicit LIBTORCH is never skipped', () => {
  const older = fakeLibtorch('older2', '2.11.0+cpu')
  const viaPython = libtorchProblem(prebuilt, build, { ...empty, VIDEOVAE_PYTHON: fakePython('py-older2', older) })
  assert.equal(viaPython?.code, 'ERR_LIBTORCH_MISMATCH')
  assert.match(viaPython!.message, /compiled against libtorch 2\.13\.0 \(cpu\).*libtorch 2\.11\.0 \(cpu\)/)
  assert.match(viaPython!.message, /`npx videovae setup`/)
  const managed = fakeLibtorch('managed2', '2.13.0+cpu')
  const explicit = libtorchProblem(prebuilt, build, { ...empty, LIBTORCH: older, VIDEOVAE_CACHE: fakeCache('cache2', '2.13.0', 'cpu', managed) })
  assert.equal(explicit?.code, 'ERR_LIBTORCH_MISMATCH')
  assert.match(explicit!.message, /found by LIBTORCH/)
  const cuda = libtorchProblem(prebuilt, build, { ...empty, LIBTORCH: fakeLibtorch('cuda', '2.13.0+cu128') })
  assert.match(cuda!.message, /libtorch 2\.13\.0 \(cu128\)/)
  const broken = libtorchProblem(prebuilt, build, { ...empty, LIBTORCH: path.join(dir, 'nothing-here') })
  assert.equal(broken?.code, 'ERR_LIBTORCH_NOT_FOUND')
  assert.match(broken!.message, /LIBTORCH points at .*nothing-here, which has no lib\/libtorch\.so/)
})

/** Runs `script` against the package in a child with `env`, the addon being `binary`. */
function child(binary: string, env: NodeJS.ProcessEnv, script: string): { code?: string; message?: string; library?: string; data?: number[] } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: dir, OMP_NUM_THREADS: '1', VIDEOVAE_ADDON: binary, ...env },
    encoding: 'utf8',
  })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout.trim())
}

const LOAD = `
const v = require('./lib/index.ts')
v.VideoVAE.load().then(async (vae) => {
  const t = v.Tensor.from(new Float32Array([1, 2, 3]), [3])
  console.log(JSON.stringify({ library: v.libtorchInfo().runtime.library, data: Array.from(await t.data()) }))
}, (e) => console.log(JSON.stringify({ code: e.code, message: e.message })))
`

const compiled = path.join(ROOT, 'build', 'Release', 'videovae.node')
const skip = !fs.existsSync(compiled) || !fs.existsSync(venvPython) ? 'needs npm run build and the .venv' : false

test('the first call of a prebuilt binary without libtorch: ERR_LIBTORCH_NOT_FOUND, not a bundle error', { skip }, () => {
  fs.mkdirSync(path.dirname(prebuilt), { recursive: true })
  fs.copyFileSync(compiled, prebuilt)
  const out = child(prebuilt, { VIDEOVAE_PYTHON: noPython, VIDEOVAE_CACHE: path.join(dir, 'no-cache') }, LOAD)
  assert.equal(out.code, 'ERR_LIBTORCH_NOT_FOUND', out.message)
  assert.match(out.message!, /npx videovae setup/)
})

test('a prebuilt binary runs on the libtorch the setup copy records (loaded first, by absolute path)', { skip }, () => {
  fs.mkdirSync(path.dirname(prebuilt), { recursive: true })
  fs.copyFileSync(compiled, prebuilt)
  // A libtorch reached only through a symlinked path: the library proves which copy loaded.
  const torch = spawnSync(venvPython, ['-c', 'import os, torch; print(os.path.dirname(torch.__file__))'], { encoding: 'utf8' }).stdout.trim()
  const link = path.join(dir, 'linked-torch')
  fs.symlinkSync(torch, link)
  const cache = fakeCache('cache-real', '2.13.0', 'cpu', link)
  const out = child(prebuilt, { VIDEOVAE_PYTHON: noPython, VIDEOVAE_CACHE: cache }, LOAD)
  assert.equal(out.code, undefined, out.message)
  assert.deepEqual(out.data, [1, 2, 3])
  assert.ok(out.library!.startsWith(path.join(link, 'lib') + path.sep), out.library)
})

test('videovae setup: the exact wheel, --cuda flavours, and a coded error when Python cannot make the venv', async () => {
  assert.equal(cudaFlavour('12.8'), 'cu128')
  assert.throws(() => cudaFlavour('cuda12'), { code: 'ERR_ARGUMENT' })
  const cpu = pipInstallArgs({ version: '2.13.0', flavour: 'cpu', pipArgs: ['--retries', '0'] })
  assert.deepEqual(cpu.slice(-4), ['https://download.pytorch.org/whl/cpu', '--retries', '0', 'torch==2.13.0+cpu'])
  assert.ok(cpu.includes('--no-deps'))
  const cu = pipInstallArgs({ version: '2.13.0', flavour: 'cu128', indexUrl: 'https://mirror/simple' })
  assert.ok(!cu.includes('--no-deps'), 'CUDA wheels need their nvidia-* dependencies')
  assert.deepEqual(cu.slice(-3), ['--index-url', 'https://mirror/simple', 'torch==2.13.0+cu128'])
  const cache = path.join(dir, 'setup-cache')
  const failing = fakePython('python-no-venv', '') // prints a line, exits 0, creates nothing
  fs.writeFileSync(failing, '#!/bin/sh\nexit 1\n')
  await assert.rejects(
    setupLibtorch({ version: '2.13.0', flavour: 'cpu', python: failing, env: { VIDEOVAE_CACHE: cache }, output: fs.createWriteStream('/dev/null') }),
    (e: { code: string; message: string }) => e.code === 'ERR_SETUP' && /python3-venv/.test(e.message),
  )
  await assert.rejects(
    setupLibtorch({ version: '2.13.0', flavour: 'cpu', python: path.join(dir, 'no-such-python'), env: { VIDEOVAE_CACHE: cache } }),
    (e: { code: string; message: string }) => e.code === 'ERR_SETUP' && /--python/.test(e.message),
  )
  // Nothing unfinished is left for later loads to take.
  assert.deepEqual(fs.readdirSync(cache), [])
  // --force that fails keeps the working copy.
  const working = fakeCache('setup-working', '2.13.0', 'cpu', fakeLibtorch('working', '2.13.0+cpu'))
  await assert.rejects(
    setupLibtorch({
      version: '2.13.0',
      flavour: 'cpu',
      python: failing,
      force: true,
      env: { VIDEOVAE_CACHE: working },
      output: fs.createWriteStream('/dev/null'),
    }),
    { code: 'ERR_SETUP' },
  )
  assert.deepEqual(fs.readdirSync(working), ['libtorch-2.13.0-cpu'])
  assert.equal(locator.managedRoot(path.join(working, 'libtorch-2.13.0-cpu')), path.join(dir, 'working'))
})

test('a missing ffmpeg names the fix: apt, brew, FFMPEG_PATH', () => {
  assert.equal(findTool('ffmpeg', { PATH: dir }), null)
  const message = missingToolMessage('ffprobe', {})
  assert.match(message, /ffprobe not found on PATH/)
  assert.match(message, /apt install ffmpeg/)
  assert.match(message, /brew install ffmpeg/)
  assert.match(message, /FFPROBE_PATH=\/path\/to\/ffprobe/)
  assert.match(missingToolMessage('ffmpeg', { FFMPEG_PATH: '/nope' }), /FFMPEG_PATH=\/nope is not an executable file/)
  const fake = path.join(dir, 'my-ffmpeg')
  fs.writeFileSync(fake, '#!/bin/sh\n', { mode: 0o755 })
  assert.deepEqual(findTool('ffmpeg', { FFMPEG_PATH: fake, PATH: '' }), { path: fake, source: 'FFMPEG_PATH' })
})

test('videovae setup installs nothing when a fitting libtorch is already found', { skip }, () => {
  fs.mkdirSync(path.dirname(prebuilt), { recursive: true })
  fs.copyFileSync(compiled, prebuilt)
  const cache = path.join(dir, 'setup-untouched')
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'videovae.js'), 'setup', '--json'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: dir, VIDEOVAE_ADDON: prebuilt, VIDEOVAE_PYTHON: venvPython, VIDEOVAE_CACHE: cache },
    encoding: 'utf8',
  })
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout) as { libtorch: { installed: boolean; source: string; version: string } }
  assert.deepEqual([out.libtorch.installed, out.libtorch.source, out.libtorch.version], [false, `python ${venvPython}`, '2.13.0'])
  assert.ok(!fs.existsSync(cache), 'setup wrote into the cache')
})

test("npm's install step: the prebuilt binary means no compile; without one, no libtorch is a clear failure", () => {
  const pkg = path.join(dir, 'installed')
  fs.mkdirSync(path.join(pkg, 'scripts'), { recursive: true })
  fs.mkdirSync(path.join(pkg, 'node_modules'))
  for (const f of ['package.json', 'scripts/install.js', 'scripts/libtorch.js']) fs.copyFileSync(path.join(ROOT, f), path.join(pkg, f))
  fs.symlinkSync(path.join(ROOT, 'node_modules', 'node-gyp-build'), path.join(pkg, 'node_modules', 'node-gyp-build'))
  const install = (env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [path.join(pkg, 'scripts', 'install.js')], {
      cwd: pkg,
      env: { PATH: '', HOME: dir, VIDEOVAE_PYTHON: noPython, VIDEOVAE_CACHE: path.join(dir, 'no-cache'), ...env },
      encoding: 'utf8',
    })
  const none = install()
  assert.equal(none.status, 1)
  const platform = `${process.platform}-${process.arch}`
  assert.ok(none.stdout.includes(`no prebuilt binary for ${platform}; compiling`), none.stdout)
  assert.match(none.stderr, /libtorch not found: set LIBTORCH=.*`npx videovae setup`/)
  const prebuilds = path.join(pkg, 'prebuilds', platform)
  fs.mkdirSync(prebuilds, { recursive: true })
  fs.writeFileSync(path.join(prebuilds, 'videovae.libtorch-2.13.0-cpu.glibc.node'), '')
  const found = install()
  assert.equal(found.status, 0, found.stderr)
  assert.ok(found.stdout.includes(`using the prebuilt prebuilds/${platform}/videovae.libtorch-2.13.0-cpu.glibc.node (no compile)`), found.stdout)
  // --build-from-source compiles anyway (and here fails the same clear way: no libtorch).
  assert.match(install({ npm_config_build_from_source: 'true' }).stdout, /building from source/)
})
