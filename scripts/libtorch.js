#!/usr/bin/env node
'use strict'
// Finds libtorch and describes it. One source of truth for binding.gyp, CMakeLists.txt,
// the prebuild tag, `videovae setup` and the run-time search in lib/ (which require()s this file).
//
// Search order (first hit wins):
//   1. env LIBTORCH   an unpacked libtorch (the directory holding include/, lib/, share/)
//   2. env Torch_DIR  its share/cmake/Torch directory
//   3. a Python's torch: VIDEOVAE_PYTHON, else the project's .venv (a clone), else python3 and
//      python on PATH (the torch package directory is a libtorch: lib/, include/, share/cmake)
//   4. the managed copy that `videovae setup` installs: <cache>/libtorch-<version>-<flavour>,
//      cache = VIDEOVAE_CACHE, else $XDG_CACHE_HOME/videovae, else ~/.cache/videovae
//
// CLI: node scripts/libtorch.js <field>   prints one field for build tools:
//   root | libdir | include | isystem | ldflags | libs | version | flavour | tag | cmake-prefix | json

const fs = require('fs')
const os = require('os')
const path = require('path')
const { execFileSync } = require('child_process')

const projectRoot = path.resolve(__dirname, '..')

/** The libtorch version the package is built and prebuilt against (package.json "libtorch"). */
function pinnedVersion() {
  return JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')).libtorch
}

/** Where `videovae setup` keeps its libtorch copies. */
function cacheDir(env = process.env) {
  if (env.VIDEOVAE_CACHE) return path.resolve(env.VIDEOVAE_CACHE)
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(env.HOME || os.homedir(), '.cache')
  return path.join(base, 'videovae')
}

/** The managed copy of one libtorch version and flavour (it may not exist yet). */
function managedDir(version, flavour, env = process.env) {
  return path.join(cacheDir(env), `libtorch-${version}-${flavour}`)
}

/** The root recorded by `videovae setup` in a managed copy, or null. */
function managedRoot(dir) {
  const record = readIfExists(path.join(dir, 'libtorch.json'))
  if (!record) return null
  try {
    const root = JSON.parse(record).root
    return typeof root === 'string' && fs.existsSync(path.join(root, 'lib', libraryFile('torch'))) ? root : null
  } catch {
    return null
  }
}

/** The Pythons to ask for torch, in order. */
function pythonCandidates(env = process.env) {
  if (env.VIDEOVAE_PYTHON) return [env.VIDEOVAE_PYTHON]
  const list = []
  const venv = path.join(projectRoot, '.venv', 'bin', 'python')
  if (fs.existsSync(venv)) list.push(venv)
  for (const name of ['python3', 'python']) {
    const found = onPath(name, env)
    if (found && !list.includes(found)) list.push(found)
  }
  return list
}

function onPath(name, env) {
  for (const dir of (env.PATH || '').split(path.delimiter)) {
    if (!dir || !path.isAbsolute(dir)) continue
    const file = path.join(dir, name)
    try {
      fs.accessSync(file, fs.constants.X_OK)
      if (fs.statSync(file).isFile()) return file
    } catch {
      // not there, or not executable: the next directory
    }
  }
  return null
}

const pythonRoots = new Map()

/**
 * The torch package directory of `python`, or null when it has none. find_spec does not
 * import torch (an import takes seconds; this takes milliseconds).
 */
function pythonTorchRoot(python) {
  if (pythonRoots.has(python)) return pythonRoots.get(python)
  let root = null
  try {
    const out = execFileSync(python, ['-c', "import importlib.util as u; s = u.find_spec('torch'); print(s.submodule_search_locations[0] if s else '')"], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 30_000,
    }).trim()
    if (out && fs.existsSync(path.join(out, 'lib', libraryFile('torch')))) root = out
  } catch {
    // not a working Python: no torch there
  }
  pythonRoots.set(python, root)
  return root
}

/**
 * Every libtorch the search order reaches, first first: { root, source, explicit }.
 * `explicit` marks LIBTORCH / Torch_DIR, which the user chose (never skipped for another).
 * `wanted` ({ version, flavour }) selects the managed copy; without it, every managed copy.
 */
function libtorchCandidates(env = process.env, wanted = null) {
  const found = []
  if (env.LIBTORCH) found.push({ ...checkRoot(path.resolve(env.LIBTORCH), 'LIBTORCH'), explicit: true })
  if (env.Torch_DIR) found.push({ ...checkRoot(path.resolve(env.Torch_DIR, '../../..'), 'Torch_DIR'), explicit: true })
  if (found.length) return found
  for (const python of pythonCandidates(env)) {
    const root = pythonTorchRoot(python)
    if (root) found.push({ root, source: `python ${python}`, explicit: false })
  }
  let dirs = []
  if (wanted) dirs = [managedDir(wanted.version, wanted.flavour, env)]
  else if (fs.existsSync(cacheDir(env))) {
    dirs = fs
      .readdirSync(cacheDir(env))
      .filter((d) => d.startsWith('libtorch-'))
      .sort()
      .reverse()
    dirs = dirs.map((d) => path.join(cacheDir(env), d))
  }
  for (const dir of dirs) {
    const root = managedRoot(dir)
    if (root) found.push({ root, source: `videovae setup (${dir})`, explicit: false })
  }
  return found
}

/** Where libtorch is to build against, per the search order above, and which rule found it. */
function locateLibtorch(env = process.env) {
  const version = pinnedVersion()
  const all = libtorchCandidates(env, null)
  // Prefer the pinned version (what the prebuilds use), else take the first one found.
  const hit = all.find((c) => c.explicit) || all.find((c) => describeLibtorch(c.root).version === version) || all[0]
  if (!hit) {
    throw new Error(
      'libtorch not found: set LIBTORCH=/path/to/libtorch (unpacked from https://pytorch.org), ' +
        'or Torch_DIR=/path/to/libtorch/share/cmake/Torch, or VIDEOVAE_PYTHON=/path/to/python with torch ' +
        `installed, or run \`npx videovae setup\` (installs libtorch ${version} into ${cacheDir(env)}); ` +
        'in a clone: bash scripts/setup.sh',
    )
  }
  return { root: hit.root, source: hit.source }
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
    libraries: hasCuda ? ['torch', 'torch_cpu', 'c10', 'torch_cuda', 'c10_cuda'] : ['torch', 'torch_cpu', 'c10'],
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

module.exports = {
  locateLibtorch,
  libtorchCandidates,
  describeLibtorch,
  libtorchTag,
  libraryFile,
  cacheDir,
  managedDir,
  managedRoot,
  pythonCandidates,
  pythonTorchRoot,
  pinnedVersion,
}

if (require.main === module) {
  try {
    const { root } = locateLibtorch()
    process.stdout.write(fieldFor(process.argv[2] || 'json', describeLibtorch(root)) + '\n')
  } catch (err) {
    process.stderr.write(`videovae: ${err.message}\n`)
    process.exit(1)
  }
}
