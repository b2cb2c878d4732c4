/**
 * Finds and loads the compiled addon: node-gyp-build picks build/Release or a prebuild;
 * the libtorch check runs first so that a missing libtorch is explained, not dlopen()ed.
 * A prebuilt binary carries no usable rpath: the libtorch it finds is loaded first, by
 * absolute path (preloadLibtorch), and the addon's libtorch dependencies resolve to it.
 * VIDEOVAE_ADDON=/path/to/videovae.node loads one specific binary (tests use it to run the
 * cmake-js build).
 */
import fs from 'node:fs'
import path from 'node:path'

import nodeGypBuild from 'node-gyp-build'

import { VideoVaeError } from './errors.js'
import { findRuntimeLibtorch, libtorchProblem, preloadLibtorch, readBuildInfo } from './libtorch_check.js'
import { packageRoot } from './package_root.js'

/** Among prebuilds for this platform, prefer one whose libtorch tag matches what is installed. */
function preferMatchingPrebuild(found: string): string {
  const dir = path.dirname(found)
  if (path.basename(path.dirname(dir)) !== 'prebuilds') return found
  const candidates = fs.readdirSync(dir).filter((f) => f.endsWith('.node') && f.includes('.libtorch-'))
  for (const file of candidates) {
    const binary = path.join(dir, file)
    const build = readBuildInfo(binary)
    if (build && !libtorchProblem(binary, build)) return binary
  }
  return found
}

export function resolveAddonPath(): string {
  if (process.env.VIDEOVAE_ADDON) return path.resolve(process.env.VIDEOVAE_ADDON)
  const root = packageRoot()
  try {
    return preferMatchingPrebuild(nodeGypBuild.path(root))
  } catch (error) {
    throw new VideoVaeError(
      'ERR_ADDON_NOT_FOUND',
      `no compiled videovae addon for ${process.platform}-${process.arch} in ${root}. Build it from source ` +
        'against a libtorch: LIBTORCH=/path/to/libtorch npm rebuild videovae (in a clone: npm run build)',
      { cause: error },
    )
  }
}

export function loadAddon(): unknown {
  const binary = resolveAddonPath()
  if (!fs.existsSync(binary)) {
    throw new VideoVaeError('ERR_ADDON_NOT_FOUND', `VIDEOVAE_ADDON points at ${binary}, which does not exist`)
  }
  const build = readBuildInfo(binary)
  if (build) {
    const problem = libtorchProblem(binary, build)
    if (problem) throw problem
    const found = findRuntimeLibtorch(build, process.env, binary)
    if (found?.via === 'search') preloadLibtorch(found)
  }
  let addon: { runtimeInfo(): { torchVersion: string } }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the addon binary found at run time
    addon = require(binary)
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error)
    throw new VideoVaeError(
      'ERR_ADDON_LOAD',
      `could not load ${binary} (${detail.split('\n')[0]}). It was built for libtorch ` +
        `${build?.torchVersion ?? '?'} (${build?.flavour ?? '?'}) at ${build?.libdir ?? '?'}; rebuild it against the ` +
        'libtorch you have: LIBTORCH=/path/to/libtorch npm rebuild videovae (or, for the prebuilt binary, `npx videovae setup`)',
      { cause: error },
    )
  }
  const loaded = addon.runtimeInfo().torchVersion
  if (build && loaded && loaded !== build.torchVersion) {
    throw new VideoVaeError(
      'ERR_LIBTORCH_MISMATCH',
      `${binary} was compiled against libtorch ${build.torchVersion} but libtorch ${loaded} got loaded ` +
        '(is another libtorch already in this process, or on LD_PRELOAD?)',
    )
  }
  return addon
}
