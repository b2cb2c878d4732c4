// Both build paths (node-gyp, cmake-js) give a working addon that loads without
// LD_LIBRARY_PATH; the loader explains missing or mismatched libtorch; the published ESM and
// CommonJS entry points share one implementation; prebuild names carry the libtorch tag.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import nodeGypBuild from 'node-gyp-build'

import { libtorchProblem, readBuildInfo } from '../../lib/libtorch_check.js'
import { fixtures, tempDir } from './helpers/fixtures.js'
import { repoRoot } from './helpers/python.js'

const dir = tempDir()
const builds = {
  'node-gyp': path.join(repoRoot, 'build', 'Release', 'videovae.node'),
  'cmake-js': path.join(repoRoot, 'build-cmake', 'Release', 'videovae.node'),
}

function envWithout(...names: string[]): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of names) delete env[name]
  return env
}

/** Runs fixtures/smoke.ts in a child process against `binary`. */
function smoke(binary: string, env: NodeJS.ProcessEnv = envWithout('LD_LIBRARY_PATH')) {
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures', 'smoke.ts'), fixtures().toolbox], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...env, VIDEOVAE_ADDON: binary },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return JSON.parse(out.trim().split('\n').pop()!)
}

for (const [system, binary] of Object.entries(builds)) {
  test(`the ${system} build passes the core smoke test without LD_LIBRARY_PATH`, () => {
    assert.ok(fs.existsSync(binary), `${binary} is missing: run npm run build`)
    const result = smoke(binary)
    assert.equal(result.error, undefined, JSON.stringify(result.error))
    assert.equal(result.build.buildSystem, system)
    assert.equal(result.build.torchVersion, result.runtime.torchVersion)
    assert.match(result.runtime.library, /libtorch_cpu|libtorch/)
    assert.deepEqual(result.data, [2, 4, 6])
    assert.equal(result.tensors, 0)
  })
}

test('the build info embedded in the binary is readable without loading it', () => {
  const info = readBuildInfo(builds['node-gyp'])
  assert.ok(info)
  assert.match(info.torchVersion, /^\d+\.\d+\.\d+/)
  assert.ok(fs.existsSync(info.libdir))
  assert.equal(libtorchProblem(builds['node-gyp'], info, {}), null)
})

/** A directory that looks like an unpacked libtorch of another version. */
function fakeLibtorch(version: string): string {
  const root = path.join(dir, `libtorch-${version}`)
  fs.mkdirSync(path.join(root, 'lib'), { recursive: true })
  fs.writeFileSync(path.join(root, 'lib', 'libtorch.so'), '')
  fs.writeFileSync(path.join(root, 'build-version'), version)
  return root
}

test('a missing libtorch is reported with what to install, not as a dlopen error', () => {
  const build = { torchVersion: '2.13.0', flavour: 'cpu', libdir: path.join(dir, 'gone', 'lib'), buildSystem: 'node-gyp' }
  const problem = libtorchProblem('/x/videovae.node', build, {})
  assert.equal(problem?.code, 'ERR_LIBTORCH_NOT_FOUND')
  assert.match(problem!.message, /pip install torch==2\.13\.0 --index-url https:\/\/download\.pytorch\.org\/whl\/cpu/)
  assert.match(problem!.message, /LD_LIBRARY_PATH=\/path\/to\/libtorch\/lib/)
  assert.match(problem!.message, /LIBTORCH=\/path\/to\/libtorch npm rebuild videovae/)
})

test('a different libtorch version or flavour is reported with both versions and the fix', () => {
  const other = fakeLibtorch('2.12.1+cu121')
  const build = { torchVersion: '2.13.0', flavour: 'cpu', libdir: path.join(other, 'lib'), buildSystem: 'node-gyp' }
  const problem = libtorchProblem('/x/videovae.node', build, {})
  assert.equal(problem?.code, 'ERR_LIBTORCH_MISMATCH')
  assert.match(problem!.message, /compiled against libtorch 2\.13\.0 \(cpu\)/)
  assert.match(problem!.message, /libtorch 2\.12\.1 \(cu121\)/)
  assert.ok(problem!.message.includes(`LIBTORCH=${other} npm rebuild videovae`), problem!.message)
  // LD_LIBRARY_PATH wins over the rpath, as in the dynamic linker.
  const real = readBuildInfo(builds['node-gyp'])!
  const viaEnv = libtorchProblem('/x/videovae.node', real, { LD_LIBRARY_PATH: path.join(other, 'lib') })
  assert.equal(viaEnv?.code, 'ERR_LIBTORCH_MISMATCH')
  assert.match(viaEnv!.message, /via LD_LIBRARY_PATH/)
})

test('end to end: the first call raises the libtorch error with its code, the process lives', () => {
  const mismatch = smoke(builds['node-gyp'], { ...process.env, LD_LIBRARY_PATH: path.join(fakeLibtorch('2.1.0+cpu'), 'lib') })
  assert.equal(mismatch.error?.code, 'ERR_LIBTORCH_MISMATCH')
  // A binary whose recorded libtorch directory no longer exists (marker patched, same length).
  const bytes = fs.readFileSync(builds['node-gyp'])
  const info = readBuildInfo(builds['node-gyp'])!
  const moved = '/' + 'x'.repeat(info.libdir.length - 1)
  const patched = path.join(dir, 'moved.node')
  fs.writeFileSync(patched, Buffer.from(bytes.toString('latin1').replace(`"libdir":"${info.libdir}"`, `"libdir":"${moved}"`), 'latin1'))
  const missing = smoke(patched)
  assert.equal(missing.error?.code, 'ERR_LIBTORCH_NOT_FOUND')
  assert.match(missing.error.message, /pip install torch==/)
})

test('ESM and CommonJS entry points load one implementation', () => {
  assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'esm', 'index.mjs')), 'dist/ is missing: run npm run build')
  const script = `
    import * as esm from 'videovae'
    import { createRequire } from 'node:module'
    const cjs = createRequire(import.meta.url)('videovae')
    const t = esm.Tensor.from(new Float32Array([1, 2]), [2])
    console.log(JSON.stringify({ same: esm.Tensor === cjs.Tensor, isCjsTensor: t instanceof cjs.Tensor,
      names: Object.keys(esm).sort(), data: Array.from(await t.data()) }))`
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' })
  const result = JSON.parse(out)
  assert.equal(result.same, true)
  assert.equal(result.isCjsTensor, true)
  assert.deepEqual(result.data, [1, 2])
  for (const name of ['Tensor', 'TorchModule', 'memory', 'cuda', 'setNumThreads', 'getNumThreads', 'readSafetensors', 'writeSafetensors']) {
    assert.ok(result.names.includes(name), `ESM entry lacks ${name}`)
  }
  for (const file of ['dist/cjs/index.d.ts', 'dist/esm/index.d.mts']) assert.ok(fs.existsSync(path.join(repoRoot, file)), file)
})

test('prebuild names carry the libtorch tag, and node-gyp-build still finds them', () => {
  const out = execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'prebuild.js'), '--dry-run'], { encoding: 'utf8' })
  const { args } = JSON.parse(out)
  const info = readBuildInfo(builds['node-gyp'])!
  const name = `videovae.libtorch-${info.torchVersion}-${info.flavour}`
  assert.ok(args.includes(`--name=${name}`), args.join(' '))
  assert.ok(args.includes('--napi') && args.includes('--tag-libc'))
  // The file prebuildify would produce, in a package without build/: node-gyp-build picks it.
  const pkg = path.join(dir, 'pkg')
  const prebuilds = path.join(pkg, 'prebuilds', `${process.platform}-${process.arch}`)
  fs.mkdirSync(prebuilds, { recursive: true })
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'videovae' }))
  fs.copyFileSync(builds['node-gyp'], path.join(prebuilds, `${name}.glibc.node`))
  assert.equal(nodeGypBuild.path(pkg), path.join(prebuilds, `${name}.glibc.node`))
})
