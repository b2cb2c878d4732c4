#!/usr/bin/env node
'use strict'
// Finds libtorch and describes it. One source of truth for binding.gyp, CMakeLists.txt,
// the prebuild tag and the run-time check in lib/ (which require()s this file).
//
// Search order (first hit wins):
//   1. env LIBTORCH   an unpacked libtorch (the directory holding include/, lib/, share/)
//   2. env Torch_DIR  its share/cmake/Torch directory
//   3. the project's Python torch: torch.utils.cmake_prefix_path from .venv/bin/python
//
// CLI: node scripts/libtorch.js <field>   prints one field for build tools:
//   root | libdir | include | isystem | ldflags | libs | version | flavour | tag | cmake-prefix | json

const fs = require('fs')
const path = require('path')
const { execFileSync } = require('child_process')

const projectRoot = path.resolve(__dirname, '..')

/** Where libtorch is, per the search order above, and which rule found it. */
function locateLibtorch(env = process.env) {
  if (env.LIBTORCH) return checkRoot(path.resolve(env.LIBTORCH), 'LIBTORCH')
  if (env.Torch_DIR) return checkRoot(path.resolve(env.Torch_DIR, '../../..'), 'Torch_DIR')
  const python = path.join(projectRoot, '.venv', 'bin', 'python')
  if (!fs.existsSync(python)) {
    throw new Error(
      'libtorch not found: set LIBTORCH=/path/to/libtorch (unpacked from https://pytorch.org), ' +
        'or Torch_DIR=/path/to/libtorch/share/cmake/Torch, or create .venv with torch ' +
        '(bash scripts/setup.sh)'
    )
  }
  let prefix
  try {
    prefix = execFileSync(python, ['-c', 'import torch.utils; print(torch.utils.cmake_prefix_path)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe']
    }).trim()
  } catch (err) {
    throw new Error(`libtorch not found: ${python} cannot import torch (${err.message.split('\n')[0]})`)
  }
  return checkRoot(path.resolve(prefix, '../..'), '.venv python torch')
}

function checkRoot(root, source) {
  const libdir = path.join(root, 'lib')
  if (!fs.existsSync(path.join(libdir, libraryFile('torch')))) {
    throw new Error(`libtorch not found: ${source} points at ${root}, which has no lib/${libraryFile('torch')}`)
  }
  return { root, source }
}

function libraryFile(name) {
  if (process.platform === 'darwin') return `lib${name}.dylib`
  if (process.platform === 'win32') return `${name}.lib`
  return `lib${name}.so`
}

/**
 * Version and flavour of the libtorch in `root`: { version: '2.13.0', flavour: 'cpu' | 'cu124' | 'cuda' }.
 * Sources, most precise first: build-version (libtorch zips), version.py (pip torch), the C++ header.
 */
function describeLibtorch(root) {
  const libdir = path.join(root, 'lib')
  let version = null
  let flavour = null

  const buildVersion = readIfExists(path.join(root, 'build-version'))
  if (buildVersion) [version, flavour] = splitVersion(buildVersion.trim())

  const versionPy = readIfExists(path.join(root, 'version.py'))
  if (versionPy) {
    const v = /__version__\s*=\s*'([^']+)'/.exec(versionPy)
    if (v) [version, flavour] = splitVersion(v[1])
    const cuda = /^cuda\s*(?::[^=]*)?=\s*'([\d.]+)'/m.exec(versionPy)
    if (cuda && !flavour) flavour = 'cu' + cuda[1].split('.').slice(0, 2).join('')
  }

  if (!version) {
    for (const header of ['include/torch/headeronly/version.h', 'include/torch/csrc/api/include/torch/version.h']) {
      const m = /#define TORCH_VERSION\s+\\?\s*"([^"]+)"/.exec(readIfExists(path.join(root, header)) || '')
      if (m) {
        version = m[1]
        break
      }
    }
  }
  const hasCuda = fs.existsSync(path.join(libdir, libraryFile('torch_cuda')))
  if (!flavour) flavour = hasCuda ? 'cuda' : 'cpu'

  return {
    root,
    libdir,
    version: version || 'unknown',
    flavour,
    hasCuda,
    includeDirs: [path.join(root, 'include'), path.join(root, 'include/torch/csrc/api/include')],
    // torch_cuda registers the CUDA backend from static initialisers only: keep it linked.
    libraries: hasCuda ? ['torch', 'torch_cpu', 'c10', 'torch_cuda', 'c10_cuda'] : ['torch', 'torch_cpu', 'c10']
  }
}

/** '2.13.0+cpu' -> ['2.13.0', 'cpu']; '2.5.1' -> ['2.5.1', null] */
function splitVersion(text) {
  const [version, local] = text.split('+')
  return [version, local && /^(cpu|cu\d+|rocm[\d.]+)$/.test(local) ? local : null]
}

function readIfExists(file) {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return null
  }
}

/** Prebuild file tag naming the libtorch a binary needs, e.g. 'libtorch-2.13.0-cpu'. */
function libtorchTag(info) {
  return `libtorch-${info.version}-${info.flavour}`
}

function fieldFor(name, info) {
  switch (name) {
    case 'root':
      return info.root
    case 'libdir':
      return info.libdir
    case 'include':
      return info.includeDirs.join(' ')
    case 'isystem': // as system headers: their warnings are not ours
      return info.includeDirs.map((dir) => `-isystem ${dir}`).join(' ')
    case 'ldflags': // the rpath lets the addon load without LD_LIBRARY_PATH
      return [`-L${info.libdir}`, `-Wl,-rpath,${info.libdir}`].join(' ')
    case 'libs': // --no-as-needed: torch_cuda is only reached through static registration
      return ['-Wl,--no-as-needed', ...info.libraries.map((l) => `-l${l}`), '-Wl,--as-needed'].join(' ')
    case 'version':
      return info.version
    case 'flavour':
      return info.flavour
    case 'tag':
      return libtorchTag(info)
    case 'cmake-prefix':
      return path.join(info.root, 'share', 'cmake')
    case 'json':
      return JSON.stringify(info)
    default:
      throw new Error(`unknown field '${name}'`)
  }
}

module.exports = { locateLibtorch, describeLibtorch, libtorchTag, libraryFile }

if (require.main === module) {
  try {
    const { root } = locateLibtorch()
    process.stdout.write(fieldFor(process.argv[2] || 'json', describeLibtorch(root)) + '\n')
  } catch (err) {
    process.stderr.write(`videovae: ${err.message}\n`)
    process.exit(1)
  }
}
