/**
 * Before the addon is dlopen()ed: which libtorch will the dynamic linker pick, and is it the
 * one the addon was compiled against? A missing or different libtorch becomes an error that
 * says what to install or set, instead of a bare "cannot open shared object file".
 */
import fs from 'node:fs'
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

/** scripts/libtorch.js: the same locator binding.gyp and CMakeLists.txt use. */
interface LibtorchScript {
  describeLibtorch(root: string): LibtorchDescription
  libraryFile(name: string): string
}

function libtorchScript(): LibtorchScript {
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
  /** How the dynamic linker reaches it. */
  via: 'LD_LIBRARY_PATH' | 'rpath'
}

/** The libtorch the dynamic linker will load for this addon: LD_LIBRARY_PATH wins over RUNPATH. */
export function findRuntimeLibtorch(build: NativeBuildInfo, env: NodeJS.ProcessEnv = process.env): RuntimeLibtorch | null {
  const script = libtorchScript()
  const has = (dir: string) => fs.existsSync(path.join(dir, script.libraryFile('torch')))
  const searchPath = (env.LD_LIBRARY_PATH ?? '').split(path.delimiter).filter(Boolean)
  const fromEnv = searchPath.find(has)
  const libdir = fromEnv ?? (build.libdir && has(build.libdir) ? build.libdir : undefined)
  if (!libdir) return null
  const description = script.describeLibtorch(path.dirname(libdir))
  return { ...description, libdir, via: fromEnv ? 'LD_LIBRARY_PATH' : 'rpath' }
}

function sameFlavour(a: string, b: string): boolean {
  if (a === b || a === 'unknown' || b === 'unknown') return true
  const isCuda = (f: string) => f === 'cuda' || /^cu\d+$/.test(f)
  return (a === 'cuda' || b === 'cuda') && isCuda(a) && isCuda(b)
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
export function libtorchProblem(
  binary: string,
  build: NativeBuildInfo,
  env: NodeJS.ProcessEnv = process.env
): VideoVaeError | null {
  const wanted = `libtorch ${build.torchVersion} (${build.flavour})`
  const found = findRuntimeLibtorch(build, env)
  if (!found) {
    return new VideoVaeError(
      'ERR_LIBTORCH_NOT_FOUND',
      `videovae (${binary}) needs ${wanted}, but there is no libtorch at ${build.libdir || '(no rpath)'}` +
        ` nor on LD_LIBRARY_PATH. To fix it, ${installAdvice(build.torchVersion, build.flavour)}`
    )
  }
  if (found.version !== build.torchVersion || !sameFlavour(found.flavour, build.flavour)) {
    return new VideoVaeError(
      'ERR_LIBTORCH_MISMATCH',
      `videovae (${binary}) was compiled against ${wanted}, but the dynamic linker would load ` +
        `libtorch ${found.version} (${found.flavour}) from ${found.libdir} (via ${found.via}). ` +
        `Either rebuild for that one: LIBTORCH=${found.root} npm rebuild videovae, or ` +
        installAdvice(build.torchVersion, build.flavour)
    )
  }
  return null
}
