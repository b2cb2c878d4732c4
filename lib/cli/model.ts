/** Loading the model a command runs: --bundle, or the embedded default model when it exists. */
import { existsSync } from 'node:fs'
import path from 'node:path'

import { readBundle } from '../bundle.js'
import type { ShapeRules } from '../rules.js'
import { cuda } from '../runtime.js'
import { defaultBundleDir, VideoVAE } from '../vae.js'
import { CliError } from './errors.js'
import type { ModelFlags } from './options.js'

/** The bundle directory a command will use; a clear error when the default model is not installed. */
export function bundleDirOf(flags: ModelFlags): string {
  if (flags.bundle !== undefined) return path.resolve(flags.bundle)
  const dir = defaultBundleDir()
  if (!existsSync(path.join(dir, 'manifest.json'))) {
    throw new CliError(
      'ERR_NO_DEFAULT_MODEL',
      `no --bundle given and the embedded default model is not installed (${dir} has no manifest.json); ` +
        "pass --bundle DIR with a bundle made by 'videovae export'",
    )
  }
  return dir
}

/** The shape rules of the bundle a command will use, from its manifest alone (no model loaded, nothing hashed). */
export async function bundleRules(flags: ModelFlags): Promise<ShapeRules> {
  return readBundle(bundleDirOf(flags), { verify: false })
}

/** Loads the bundle onto the device (sha256 of every file verified). */
export async function loadModel(flags: ModelFlags): Promise<VideoVAE> {
  const dir = bundleDirOf(flags)
  const device = flags.device ?? 'cpu'
  if (device !== 'cpu') {
    if (!cuda.isAvailable()) {
      throw new CliError(
        'ERR_DEVICE',
        `--device ${device}: CUDA is not available (the loaded libtorch has no CUDA, or no GPU is visible); see 'videovae doctor'`,
      )
    }
    const index = device === 'cuda' ? 0 : Number(device.slice(5))
    const count = cuda.deviceCount()
    if (index >= count) throw new CliError('ERR_DEVICE', `--device ${device}: only ${count} CUDA device(s) visible`)
  }
  return VideoVAE.load(dir, {
    device: device as 'cpu',
    ...(flags.threads === undefined ? {} : { threads: flags.threads }),
    ...(flags.dtype === undefined || flags.dtype === 'float32' ? {} : { dtype: flags.dtype }),
    ...(flags.cudnnBenchmark === true ? { cudnnBenchmark: true } : {}),
  })
}
