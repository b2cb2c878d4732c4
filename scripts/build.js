#!/usr/bin/env node
'use strict'
// `npm run build [-- gyp|cmake|ts]`: incremental builds of the addon, both ways, and of lib/.
//   gyp    node-gyp   -> build/Release/videovae.node        (what `npm install` uses)
//   cmake  cmake-js   -> build-cmake/Release/videovae.node  (CMakeLists.txt, find_package(Torch))
//   ts     tsc        -> dist/cjs (CommonJS + .d.ts), then the ESM entry dist/esm/index.mjs
// Reconfigures when the libtorch found by scripts/libtorch.js changes. JOBS=n sets parallelism.

const { execFileSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { locateLibtorch, describeLibtorch } = require('./libtorch.js')

const root = path.resolve(__dirname, '..')
// Each libtorch translation unit takes ~1 GB of compiler memory.
const jobs = Number(process.env.JOBS) || Math.max(1, Math.min(os.availableParallelism(), Math.floor(os.totalmem() / 1.5e9)))

function run(command, args, env = {}) {
  console.log(`[build] ${[command, ...args].join(' ')}`)
  execFileSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } })
}

/** node-gyp from npm (npm_config_node_gyp under `npm run`), else next to this node. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ]
  const found = candidates.find((c) => c && fs.existsSync(c))
  if (!found) throw new Error('node-gyp not found: run the build through npm (npm run build)')
  return found
}

/** Node's own headers when installed (e.g. /usr/include/node): node-gyp then downloads nothing. */
function localNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir
  const prefix = path.resolve(path.dirname(process.execPath), '..')
  const headers = path.join(prefix, 'include', 'node')
  return fs.existsSync(path.join(headers, 'node_api.h')) && fs.existsSync(path.join(headers, 'common.gypi')) ? prefix : null
}

/** True when `stampFile` records a different libtorch than now (so the build must reconfigure). */
function libtorchChanged(stampFile, libtorch) {
  const now = JSON.stringify(libtorch)
  const before = fs.existsSync(stampFile) ? fs.readFileSync(stampFile, 'utf8') : null
  return { changed: before !== now, save: () => fs.writeFileSync(stampFile, now) }
}

function buildGyp(libtorch) {
  const nodedir = localNodeDir()
  const env = nodedir ? { npm_config_nodedir: nodedir } : {}
  const stamp = libtorchChanged(path.join(root, 'build', '.libtorch.json'), libtorch)
  if (stamp.changed || !fs.existsSync(path.join(root, 'build', 'Makefile'))) {
    run(process.execPath, [nodeGyp(), 'configure', '--release'], env)
    stamp.save()
  }
  run(process.execPath, [nodeGyp(), 'build', '--release', '--jobs', String(jobs)], env)
}

function buildCmake(libtorch) {
  const out = path.join(root, 'build-cmake')
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] })
  fs.mkdirSync(out, { recursive: true })
  const stamp = libtorchChanged(path.join(out, '.libtorch.json'), libtorch)
  if (stamp.changed) run(process.execPath, [cmakeJs, 'configure', '--out', out])
  run(process.execPath, [cmakeJs, 'build', '--out', out, '--parallel', String(jobs)])
  stamp.save()
}

function buildTs() {
  fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true })
  run(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [root] }), '-p', 'tsconfig.build.json'])
  // One implementation, two entry points: the ESM file re-exports the CommonJS build, so
  // `import` and `require` users share one addon instance and one Tensor class.
  const names = Object.keys(require(path.join(root, 'dist/cjs/index.js'))).filter((n) => n !== '__esModule')
  const esm = path.join(root, 'dist', 'esm')
  fs.mkdirSync(esm, { recursive: true })
  fs.writeFileSync(path.join(esm, 'index.mjs'), `import cjs from '../cjs/index.js'\n\nexport const { ${names.join(', ')} } = cjs\n`)
  fs.writeFileSync(path.join(esm, 'index.d.mts'), "export * from '../cjs/index.js'\n")
}

const steps = process.argv.slice(2)
const all = steps.length === 0 || steps.includes('all')
try {
  if (all || steps.includes('gyp') || steps.includes('cmake')) {
    const libtorch = describeLibtorch(locateLibtorch().root)
    console.log(`[build] libtorch ${libtorch.version} (${libtorch.flavour}) at ${libtorch.root}; ${jobs} job(s)`)
    if (all || steps.includes('gyp')) buildGyp(libtorch)
    if (all || steps.includes('cmake')) buildCmake(libtorch)
  }
  if (all || steps.includes('ts')) buildTs()
} catch (error) {
  console.error(`[build] failed: ${error.message}`)
  process.exit(1)
}
