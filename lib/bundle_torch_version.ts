/**
 * A bundle's TorchScript can name ops that only the torch it was exported with knows: an archive
 * from torch 2.13 may not load in libtorch 2.11. When a stage fails to load that way, say which
 * versions met and what to do, instead of leaving only libtorch's "Unknown builtin op".
 */
import { VideoVaeError } from './errors.js'
import { libtorchInfo } from './runtime.js'

// What libtorch says when an archive uses an op, type or schema it does not know.
const NEWER_ARCHIVE = /Unknown builtin op|Unknown type name|unknown (operator|schema)|version .* not supported/i

/** [major, minor, patch] of '2.13.0+cpu' style versions; null when unreadable. */
export function torchRelease(version: string): [number, number, number] | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version)
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null
}

function newer(a: string, b: string): boolean {
  const x = torchRelease(a)
  const y = torchRelease(b)
  if (!x || !y) return false
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! > y[i]!
  return false
}

/** The load error, explained when the bundle comes from a newer torch than the libtorch loaded. */
export function explainTorchVersionSkew(error: unknown, exportedWith: string): unknown {
  if (!(error instanceof VideoVaeError) || !NEWER_ARCHIVE.test(error.message)) return error
  const loaded = libtorchInfo().runtime.torchVersion
  if (!newer(exportedWith, loaded)) return error
  const release = torchRelease(loaded)!.slice(0, 2).join('.')
  return new VideoVaeError(
    error.code,
    `${error.message}. The bundle was exported with torch ${exportedWith}, newer than the libtorch ${loaded} ` +
      `loaded here: re-export it with torch ${release} (videovae export), or build the addon against ` +
      `libtorch ${exportedWith.split('+')[0]} or newer`,
    { cause: error },
  )
}
