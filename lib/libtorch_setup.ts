/**
 * `videovae setup`: a managed libtorch for installed packages. pip installs the exact torch
 * wheel the addon needs into a private venv under the cache directory (the torch package
 * directory is a complete libtorch), and libtorch.json records it for every later load
 * (scripts/libtorch.js, search step 4). Nothing is written into the user's own Python.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { VideoVaeError } from './errors.js'
import { packageRoot } from './package_root.js'

/** scripts/libtorch.js, the locator every other step uses. */
interface LocatorScript {
  cacheDir(env: NodeJS.ProcessEnv): string
  managedDir(version: string, flavour: string, env: NodeJS.ProcessEnv): string
  managedRoot(dir: string): string | null
  pythonTorchRoot(python: string): string | null
  describeLibtorch(root: string): { version: string; flavour: string; libdir: string }
}

function locator(): LocatorScript {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path known at run time (lib/ or dist/cjs/): no static import can name it
  return require(path.join(packageRoot(), 'scripts', 'libtorch.js')) as LocatorScript
}

export interface SetupOptions {
  /** torch version, e.g. '2.13.0'. */
  version: string
  /** 'cpu' or 'cuXYZ'. */
  flavour: string
  /** The Python that creates the private venv (default python3). */
  python?: string
  /** A pip index to use instead of download.pytorch.org/whl/<flavour> (a mirror). */
  indexUrl?: string
  /** Extra pip arguments (e.g. from VIDEOVAE_PIP_ARGS: --retries 0 --timeout 5). */
  pipArgs?: string[]
  /** Reinstall even when the copy exists. */
  force?: boolean
  env?: NodeJS.ProcessEnv
  /** Step messages; pip's own output (its download progress bar) goes to `output`. */
  onStep?: (step: number, total: number, message: string) => void
  output?: NodeJS.WritableStream
}

export interface ManagedLibtorch {
  /** The copy's directory: <cache>/libtorch-<version>-<flavour>. */
  dir: string
  /** The libtorch root (torch's package directory inside the venv). */
  root: string
  version: string
  flavour: string
  /** True when it was there already and nothing was installed. */
  reused: boolean
}

/** '12.8' -> 'cu128'. */
export function cudaFlavour(cuda: string): string {
  if (!/^\d{2}\.\d$/.test(cuda)) {
    throw new VideoVaeError('ERR_ARGUMENT', `--cuda takes a CUDA version like 12.8 (the cu128 wheels), not '${cuda}'`)
  }
  return `cu${cuda.replace('.', '')}`
}

function run(command: string, args: string[], options: { env: NodeJS.ProcessEnv; output: NodeJS.WritableStream }): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.pipe(options.output, { end: false })
    child.stderr.pipe(options.output, { end: false })
    child.on('error', reject)
    child.on('close', (code) => resolve(code ?? 1))
  })
}

/** The pip arguments that install exactly torch==<version>+<flavour>. */
export function pipInstallArgs(options: Pick<SetupOptions, 'version' | 'flavour' | 'indexUrl' | 'pipArgs'>): string[] {
  const index = options.indexUrl ? ['--index-url', options.indexUrl] : ['--extra-index-url', `https://download.pytorch.org/whl/${options.flavour}`]
  // The CPU wheel's libraries need nothing from its Python dependencies; CUDA wheels need
  // the nvidia-* packages (cuDNN, cuBLAS, ...) that pip installs as dependencies.
  const deps = options.flavour === 'cpu' ? ['--no-deps'] : []
  // --no-compile: torch's Python files are never imported, only its libraries are loaded.
  return [
    '-m',
    'pip',
    'install',
    '--no-input',
    '--disable-pip-version-check',
    '--no-compile',
    ...deps,
    ...index,
    ...(options.pipArgs ?? []),
    `torch==${options.version}+${options.flavour}`,
  ]
}

export async function setupLibtorch(options: SetupOptions): Promise<ManagedLibtorch> {
  const env = options.env ?? process.env
  const output = options.output ?? process.stderr
  const step = options.onStep ?? (() => undefined)
  const script = locator()
  const { version, flavour } = options
  const dir = script.managedDir(version, flavour, env)
  const existing = script.managedRoot(dir)
  if (existing && !options.force) return { dir, root: existing, version, flavour, reused: true }

  // Built in a staging directory and renamed into place when complete: a failed or interrupted
  // setup never leaves a half-installed copy, nor removes a working one (--force).
  fs.mkdirSync(path.dirname(dir), { recursive: true })
  const staging = fs.mkdtempSync(`${dir}.partial-`)
  try {
    const root = await install()
    const old = `${dir}.old-${process.pid}`
    if (fs.existsSync(dir)) fs.renameSync(dir, old)
    try {
      fs.renameSync(staging, dir)
    } catch (error) {
      if (fs.existsSync(old) && !fs.existsSync(dir)) fs.renameSync(old, dir) // the previous copy stays
      // Another setup finished first: take its copy.
      const other = script.managedRoot(dir)
      if (!other) throw error
      return { dir, root: other, version, flavour, reused: true }
    }
    fs.rmSync(old, { recursive: true, force: true })
    return { dir, root, version, flavour, reused: false }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true })
  }

  async function install(): Promise<string> {
    const venv = path.join(staging, 'venv')
    const python = options.python ?? 'python3'
    step(1, 3, `creating a private Python environment: ${venv}`)
    let code: number
    try {
      code = await run(python, ['-m', 'venv', venv], { env, output })
    } catch (error) {
      throw new VideoVaeError(
        'ERR_SETUP',
        `cannot run ${python} (${(error as Error).message}): videovae setup needs Python 3.10+ with venv ` +
          '(apt install python3-venv, brew install python), or --python /path/to/python3',
        { cause: error },
      )
    }
    if (code !== 0) {
      throw new VideoVaeError('ERR_SETUP', `${python} -m venv failed (exit ${code}): install Python's venv module (apt install python3-venv), or pass --python`)
    }

    const venvPython = path.join(venv, 'bin', 'python')
    const spec = `torch==${version}+${flavour}`
    step(2, 3, `pip install ${spec} (a download of ${flavour === 'cpu' ? 'about 200 MB' : 'several GB with the CUDA libraries'})`)
    code = await run(venvPython, pipInstallArgs(options), { env: { ...env, PIP_PROGRESS_BAR: 'on' }, output })
    if (code !== 0) {
      throw new VideoVaeError(
        'ERR_SETUP',
        `pip could not install ${spec} (exit ${code}; its output is above). Check the network, or pass --index-url ` +
          'for a mirror (extra pip arguments: VIDEOVAE_PIP_ARGS)',
      )
    }

    step(3, 3, 'checking the installed libtorch')
    const root = script.pythonTorchRoot(venvPython)
    const found = root ? script.describeLibtorch(root) : null
    if (!root || !found || found.version !== version || found.flavour !== flavour) {
      throw new VideoVaeError(
        'ERR_SETUP',
        `pip installed ${found ? `libtorch ${found.version} (${found.flavour})` : 'no usable libtorch'} in ${venv}, not ${version} (${flavour})`,
      )
    }
    // Recorded with the path it will have once renamed into place.
    const finalRoot = path.join(dir, path.relative(staging, root))
    fs.writeFileSync(
      path.join(staging, 'libtorch.json'),
      JSON.stringify({ root: finalRoot, version, flavour, installed: new Date().toISOString() }, null, 2) + '\n',
    )
    return finalRoot
  }
}
