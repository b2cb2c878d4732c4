#!/usr/bin/env node
'use strict'
// `npm run prebuild`: the binaries that ship in the package, in prebuilds/<platform>-<arch>/:
//   videovae.libtorch-<version>-<flavour>.glibc.node  the addon, named after the libtorch it needs
//                                   (node-gyp-build ignores the extra tags; lib/native_loader.ts reads them)
//   videovae_spm.so                 the caption tokenizer bridge (cpp/spm/spm_bridge.h)
//   libsentencepiece.so.0           what the bridge links, so users need no libsentencepiece-dev
//
// The addon gets no rpath: it would name the build machine's libtorch. At run time lib/ finds
// libtorch (LIBTORCH, Torch_DIR, a Python's torch, `videovae setup`) and loads it first.
// The bridge gets rpath $ORIGIN, so it finds the libsentencepiece beside it.
//
// Where the addon comes from:
//   default     build/Release, when it was built against the libtorch found now (what
//               `npm run build` made: no second compile of the same sources)
//   --compile   prebuildify, a fresh compile (the release workflow)
// `--dry-run` prints the plan only. Needs patchelf (apt-get install patchelf).

const { execFileSync } = require('child_process')
const { createHash } = require('crypto')
const fs = require('fs')
const path = require('path')
const { locateLibtorch, describeLibtorch, libtorchTag } = require('./libtorch.js')
const sentencepiece = require('./sentencepiece.js')

const root = path.resolve(__dirname, '..')
const release = path.join(root, 'build', 'Release')
const outDir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`)

function log(message) {
  console.log(`[prebuild] ${message}`)
}

/** The build facts embedded in an addon (cpp/runtime_info.cc), or null. */
function buildInfo(binary) {
  const bytes = fs.readFileSync(binary)
  const start = bytes.indexOf('VIDEOVAE_BUILD_INFO{')
  if (start < 0) return null
  return JSON.parse(bytes.subarray(start + 'VIDEOVAE_BUILD_INFO'.length, bytes.indexOf('}', start) + 1).toString('utf8'))
}

function sha256(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

/** build/Release's addon when it was compiled against `libtorch`, else null. */
function reusableBuild(libtorch) {
  const binary = path.join(release, 'videovae.node')
  if (!fs.existsSync(binary) || !fs.existsSync(path.join(release, 'videovae_spm.so'))) return null
  const info = buildInfo(binary)
  return info && info.torchVersion === libtorch.version && info.flavour === libtorch.flavour ? binary : null
}

/** prebuildify's arguments: N-API, the libc tag, and a name that says which libtorch. */
function prebuildifyArgs(libtorch) {
  return ['--napi', '--strip', '--tag-libc', `--target=node@${process.versions.node}`, `--name=videovae.${libtorchTag(libtorch)}`]
}

function compile(libtorch) {
  const env = { ...process.env }
  const prefix = path.resolve(path.dirname(process.execPath), '..')
  if (!env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
    env.npm_config_nodedir = prefix // local headers: no download
  }
  if (process.env.npm_config_node_gyp) env.PREBUILD_NODE_GYP = process.env.npm_config_node_gyp
  env.JOBS = env.JOBS || '2'
  execFileSync(process.execPath, [require.resolve('prebuildify/bin.js', { paths: [root] }), ...prebuildifyArgs(libtorch)], {
    cwd: root,
    stdio: 'inherit',
    env,
  })
  const name = fs.readdirSync(outDir).find((f) => f.startsWith(`videovae.${libtorchTag(libtorch)}.`) && f.endsWith('.node'))
  return path.join(outDir, name)
}

function patchelf(args) {
  try {
    execFileSync('patchelf', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    const why = error.code === 'ENOENT' ? 'patchelf is not installed (apt-get install patchelf)' : String(error.stderr || error.message)
    throw new Error(`patchelf ${args.join(' ')}: ${why}`)
  }
}

/** The real file of libsentencepiece.so.0 that the bridge was linked against. */
function sentencepieceLibrary() {
  const { libdir } = sentencepiece.locate()
  return fs.realpathSync(path.join(libdir, 'libsentencepiece.so.0'))
}

function main() {
  const libtorch = describeLibtorch(locateLibtorch().root)
  const compileWanted = process.argv.includes('--compile')
  const reuse = compileWanted ? null : reusableBuild(libtorch)
  const name = `videovae.${libtorchTag(libtorch)}.glibc.node`
  if (process.argv.includes('--dry-run')) {
    const plan = { libtorch: libtorchTag(libtorch), from: reuse ?? 'prebuildify', out: path.join(outDir, name), args: prebuildifyArgs(libtorch) }
    console.log(JSON.stringify(plan))
    return
  }
  log(`libtorch ${libtorch.version} (${libtorch.flavour}); addon from ${reuse ? path.relative(root, reuse) : 'a prebuildify compile'}`)
  fs.mkdirSync(outDir, { recursive: true })
  const spmSource = path.join(release, 'videovae_spm.so')
  const stampFile = path.join(root, 'build', '.prebuild.json') // not in prebuilds/: not shipped
  let stamp = null
  if (reuse) {
    stamp = JSON.stringify({ name, addon: sha256(reuse), spm: sha256(spmSource), sentencepiece: sha256(sentencepieceLibrary()) })
    const target = path.join(outDir, name)
    if (fs.existsSync(target) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) {
      log(`${path.relative(root, target)} is up to date`)
      return
    }
    fs.copyFileSync(reuse, target)
    execFileSync('strip', ['--strip-unneeded', target])
  } else {
    compile(libtorch)
  }
  const addon = path.join(outDir, name)
  patchelf(['--remove-rpath', addon])
  const spm = path.join(outDir, 'videovae_spm.so')
  fs.copyFileSync(spmSource, spm)
  patchelf(['--set-rpath', '$ORIGIN', spm])
  fs.copyFileSync(sentencepieceLibrary(), path.join(outDir, 'libsentencepiece.so.0'))
  if (stamp) fs.writeFileSync(stampFile, stamp)
  for (const file of fs.readdirSync(outDir).filter((f) => !f.startsWith('.'))) {
    log(`${path.relative(root, path.join(outDir, file))} (${(fs.statSync(path.join(outDir, file)).size / 1e6).toFixed(1)} MB)`)
  }
}

try {
  main()
} catch (error) {
  console.error(`[prebuild] failed: ${error.message}`)
  process.exit(1)
}
