/**
 * Before the addon is dlopen()ed: which libtorch will the dynamic linker pick, and is it the
 * one the addon was compiled against? A missing or different libtorch becomes an error that
 * says what to install or set, instead of a bare "cannot open shared object file".
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { VideoVaeError } from './errors.js'
import type { NativeBuildInfo } from './native.js'
import { packageRoot } from './package_root.js'

export interface LibtorchDescription {
  root: string
  libdir: string
  version: string
  flavour: string
}

/** scripts/libtorch.js: the same locator binding.gyp, CMakeLists.txt and `videovae setup` use. */
interface LibtorchScript {
  describeLibtorch(root: string): LibtorchDescription
  libraryFile(name: string): string
  libtorchCandidates(env: NodeJS.ProcessEnv, wanted: { version: string; flavour: string } | null): { root: string; source: string; explicit: boolean }[]
}

function libtorchScript(): LibtorchScript {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path known at run time (lib/ or dist/cjs/): no static import can name it
  return require(path.join(packageRoot(), 'scripts', 'libtorch.js')) as LibtorchScript
}

const MARKER = 'VIDEOVAE_BUILD_INFO'

/** The build facts embedded in a compiled addon (see cpp/runtime_info.cc), read as text. */
export function readBuildInfo(binary: string): NativeBuildInfo | null {
  const bytes = fs.readFileSync(binary)
  const start = bytes.indexOf(MARKER + '{')
  if (start < 0) return null
  const end = bytes.indexOf('}', start)
  try {
    return JSON.parse(bytes.subarray(start + MARKER.length, end + 1).toString('utf8')) as NativeBuildInfo
  } catch {
    return null
  }
}

export interface RuntimeLibtorch extends LibtorchDescription {
  /**
   * How the addon reaches it: the dynamic linker (LD_LIBRARY_PATH, or the rpath of a binary
   * compiled on this machine), or the search order of a prebuilt binary (`source` says which
   * rule), whose libraries are then loaded before the addon (see preloadLibtorch).
   */
  via: 'LD_LIBRARY_PATH' | 'rpath' | 'search'
  /** Which rule found it, in words (e.g. `LIBTORCH`, `python /usr/bin/python3`). */
  source: string
}

/** A prebuilt binary (prebuilds/<platform>-<arch>/): its rpath is the build machine's, not ours. */
export function isPrebuilt(binary: string): boolean {
  return path.basename(path.dirname(path.dirname(binary))) === 'prebuilds'
}

/**
 * The libtorch this addon will run on. LD_LIBRARY_PATH wins, as in the dynamic linker; a binary
 * compiled here then uses its rpath; a prebuilt binary searches LIBTORCH, Torch_DIR, a Python's
 * torch and `videovae setup`'s copy, taking the first of the version and flavour it needs (or,
 * when none fits, the first found, so that the mismatch is reported).
 */
export function findRuntimeLibtorch(build: NativeBuildInfo, env: NodeJS.ProcessEnv = process.env, binary = ''): RuntimeLibtorch | null {
  const script = libtorchScript()
  const has = (dir: string) => fs.existsSync(path.join(dir, script.libraryFile('torch')))
  const searchPath = (env.LD_LIBRARY_PATH ?? '').split(path.delimiter).filter(Boolean)
  const fromEnv = searchPath.find(has)
  if (fromEnv) return { ...script.describeLibtorch(path.dirname(fromEnv)), libdir: fromEnv, via: 'LD_LIBRARY_PATH', source: 'LD_LIBRARY_PATH' }
  if (!isPrebuilt(binary)) {
    if (!build.libdir || !has(build.libdir)) return null
    return { ...script.describeLibtorch(path.dirname(build.libdir)), libdir: build.libdir, via: 'rpath', source: 'rpath' }
  }
  let candidates: { root: string; source: string; explicit: boolean }[]
  try {
    candidates = script.libtorchCandidates(env, { version: build.torchVersion, flavour: build.flavour })
  } catch (error) {
    // LIBTORCH or Torch_DIR set to a directory without libtorch: say so.
    throw new VideoVaeError('ERR_LIBTORCH_NOT_FOUND', `${(error as Error).message}. ${setupAdvice(build.torchVersion, build.flavour)}`)
  }
  let first: RuntimeLibtorch | null = null
  for (const candidate of candidates) {
    const found: RuntimeLibtorch = { ...script.describeLibtorch(candidate.root), via: 'search', source: candidate.source }
    if (candidate.explicit) return found
    if (found.version === build.torchVersion && sameFlavour(found.flavour, build.flavour)) return found
    first ??= found
  }
  return first
}

function sameFlavour(a: string, b: string): boolean {
  if (a === b || a === 'unknown' || b === 'unknown') return true
  const isCuda = (f: string) => f === 'cuda' || /^cu\d+$/.test(f)
  return (a === 'cuda' || b === 'cuda') && isCuda(a) && isCuda(b)
}

/** The flavour `videovae setup` takes: --cuda 12.8 for cu128, nothing for cpu. */
function setupCommand(flavour: string): string {
  const cuda = /^cu(\d+)(\d)$/.exec(flavour)
  return `npx videovae setup${cuda ? ` --cuda ${cuda[1]}.${cuda[2]}` : ''}`
}

/** What a prebuilt binary's user can do: the managed copy, or point at a libtorch they have. */
export function setupAdvice(version: string, flavour: string): string {
  return (
    `Run \`${setupCommand(flavour)}\` (installs libtorch ${version} (${flavour}) into a private cache ` +
    `directory), or point at one you have: LIBTORCH=/path/to/libtorch, Torch_DIR=/path/to/libtorch/share/cmake/Torch, ` +
    `or VIDEOVAE_PYTHON=/path/to/python whose torch is ${version}`
  )
}

/** Exactly what to install for a libtorch version and flavour. */
export function installAdvice(version: string, flavour: string): string {
  const wheelIndex = flavour === 'cpu' || /^cu\d+$/.test(flavour) ? ` --index-url https://download.pytorch.org/whl/${flavour}` : ''
  return (
    `install libtorch ${version} (${flavour}): either \`pip install torch==${version}${wheelIndex}\` into ` +
    `${path.join(packageRoot(), '.venv')}, or unpack the libtorch ${version} ${flavour} zip from ` +
    'https://pytorch.org/get-started/locally/ and start node with LD_LIBRARY_PATH=/path/to/libtorch/lib. ' +
    'To use a libtorch you already have, rebuild against it: LIBTORCH=/path/to/libtorch npm rebuild videovae'
  )
}

/** Null when the addon can load; otherwise the error to raise instead of a dlopen failure. */
export function libtorchProblem(binary: string, build: NativeBuildInfo, env: NodeJS.ProcessEnv = process.env): VideoVaeError | null {
  const wanted = `libtorch ${build.torchVersion} (${build.flavour})`
  let found: RuntimeLibtorch | null
  try {
    found = findRuntimeLibtorch(build, env, binary)
  } catch (error) {
    if (error instanceof VideoVaeError) return error
    throw error
  }
  if (!found && isPrebuilt(binary)) {
    return new VideoVaeError(
      'ERR_LIBTORCH_NOT_FOUND',
      `videovae (${binary}) needs ${wanted}, and none was found (LD_LIBRARY_PATH, LIBTORCH, Torch_DIR, ` +
        `the torch of VIDEOVAE_PYTHON or python3/python on PATH, videovae setup's cache). ${setupAdvice(build.torchVersion, build.flavour)}`,
    )
  }
  if (!found) {
    return new VideoVaeError(
      'ERR_LIBTORCH_NOT_FOUND',
      `videovae (${binary}) needs ${wanted}, but there is no libtorch at ${build.libdir || '(no rpath)'}` +
        ` nor on LD_LIBRARY_PATH. To fix it, ${installAdvice(build.torchVersion, build.flavour)}`,
    )
  }
  if (found.version !== build.torchVersion || !sameFlavour(found.flavour, build.flavour)) {
    const how = found.via === 'search' ? `found by ${found.source}` : `via ${found.via}`
    return new VideoVaeError(
      'ERR_LIBTORCH_MISMATCH',
      `videovae (${binary}) was compiled against ${wanted}, but the dynamic linker would load ` +
        `libtorch ${found.version} (${found.flavour}) from ${found.libdir} (${how}). ` +
        `Either rebuild for that one: LIBTORCH=${found.root} npm rebuild videovae, or ` +
        (found.via === 'search' ? setupAdvice(build.torchVersion, build.flavour) : installAdvice(build.torchVersion, build.flavour)),
    )
  }
  return null
}

/** libtorch's libraries that the addon links, in load order (dependencies first). */
function linkedLibraries(found: RuntimeLibtorch): string[] {
  const script = libtorchScript()
  const names = ['c10', 'torch_cpu', ...(fs.existsSync(path.join(found.libdir, script.libraryFile('torch_cuda'))) ? ['c10_cuda', 'torch_cuda'] : []), 'torch']
  return names.map((n) => path.join(found.libdir, script.libraryFile(n)))
}

const RTLD_NODELETE = 0x1000 // glibc: not in os.constants.dlopen

/**
 * Loads a found libtorch's libraries by absolute path, so that the addon's DT_NEEDED entries
 * (libtorch.so, libc10.so, ...) are satisfied by these already-loaded sonames instead of a
 * library-path search. process.dlopen fails on them ("did not self-register") and dlclose()s
 * them; RTLD_NODELETE keeps them mapped. RTLD_LOCAL, not GLOBAL: libc10's symbols must not
 * reach the caption tokenizer's SentencePiece (cpp/spm/spm_bridge.h).
 */
export function preloadLibtorch(found: RuntimeLibtorch): void {
  if (process.platform !== 'linux') return
  const flags = os.constants.dlopen.RTLD_NOW! | os.constants.dlopen.RTLD_LOCAL! | RTLD_NODELETE
  for (const file of linkedLibraries(found)) {
    try {
      process.dlopen({ exports: {} }, file, flags)
    } catch (error) {
      if (/did not self-register/.test((error as Error).message)) continue
      throw new VideoVaeError('ERR_ADDON_LOAD', `could not load ${file} (${(error as Error).message.split('\n')[0]})`, {
        cause: error,
      })
    }
  }
}
