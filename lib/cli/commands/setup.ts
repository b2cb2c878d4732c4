/** `videovae setup`: install the libtorch the addon needs into videovae's own cache. */
import path from 'node:path'

import type { Command } from 'commander'

import { findRuntimeLibtorch, libtorchProblem, readBuildInfo, type RuntimeLibtorch } from '../../libtorch_check.js'
import { cudaFlavour, setupLibtorch } from '../../libtorch_setup.js'
import { resolveAddonPath } from '../../native_loader.js'
import { packageRoot } from '../../package_root.js'
import type { Context } from '../context.js'
import { usageError } from '../errors.js'
import type { Runner } from '../runner.js'
import { addOutputFlags } from '../options.js'

interface SetupFlags {
  cuda?: string
  python?: string
  indexUrl?: string
  force?: boolean
}

export function registerSetup(program: Command, run: Runner): Command {
  const cmd = program
    .command('setup')
    .description('install the libtorch the addon needs (pip, into a private venv in the cache directory)')
    .option('--cuda <version>', 'the CUDA flavour, e.g. 12.8 for the cu128 wheels (default: the CPU libtorch)')
    .option('--python <file>', 'the Python 3 that creates the private venv (default: python3)')
    .option('--index-url <url>', 'a pip index to use instead of download.pytorch.org/whl/<flavour> (a mirror)')
    .option('--force', 'reinstall even when the copy exists')
  addOutputFlags(cmd)
  cmd.addHelpText(
    'after',
    '\nNeeded only when no libtorch was found (LIBTORCH, Torch_DIR, the torch of VIDEOVAE_PYTHON or python3).\n' +
      'The copy goes to $VIDEOVAE_CACHE, else $XDG_CACHE_HOME/videovae, else ~/.cache/videovae; later loads find it\n' +
      'there. Extra pip arguments: VIDEOVAE_PIP_ARGS (e.g. "--retries 0 --timeout 5").',
  )
  return cmd.action(run(setup))
}

/** The libtorch version the addon was compiled against (or the pinned one without an addon). */
function wantedVersion(): string {
  try {
    const build = readBuildInfo(resolveAddonPath())
    if (build) return build.torchVersion
  } catch {
    // no addon for this platform yet: the version the package builds against
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path known at run time (lib/ or dist/cjs/): no static import can name it
  return (require(path.join(packageRoot(), 'scripts', 'libtorch.js')) as { pinnedVersion(): string }).pinnedVersion()
}

/** A fitting libtorch the addon already finds elsewhere (LIBTORCH, a Python's torch, ...), or null. */
function foundElsewhere(flavour: string): RuntimeLibtorch | null {
  try {
    const binary = resolveAddonPath()
    const build = readBuildInfo(binary)
    if (!build || build.flavour !== flavour || libtorchProblem(binary, build)) return null
    const found = findRuntimeLibtorch(build, process.env, binary)
    return found && !found.source.startsWith('videovae setup') ? found : null
  } catch {
    return null
  }
}

async function setup(ctx: Context, flags: SetupFlags): Promise<void> {
  let flavour = 'cpu'
  try {
    if (flags.cuda !== undefined) flavour = cudaFlavour(flags.cuda)
  } catch (error) {
    throw usageError((error as Error).message)
  }
  const version = wantedVersion()
  const found = flags.force ? null : foundElsewhere(flavour)
  if (found) {
    ctx.result({ libtorch: { version: found.version, flavour: found.flavour, root: found.root, source: found.source, installed: false } })
    ctx.print(`libtorch ${found.version} (${found.flavour}) is already found (${found.source}): nothing to install (--force installs a private copy anyway)`)
    return
  }
  const pipArgs = (process.env.VIDEOVAE_PIP_ARGS ?? '').split(/\s+/).filter(Boolean)
  const result = await setupLibtorch({
    version,
    flavour,
    python: flags.python,
    indexUrl: flags.indexUrl,
    pipArgs,
    force: flags.force,
    onStep: (step, total, message) => {
      if (!ctx.quiet) process.stderr.write(`videovae setup [${step}/${total}] ${message}\n`)
    },
    // pip's output (and its download progress bar) on stderr: stdout stays for --json.
    output: process.stderr,
  })
  ctx.result({ libtorch: { ...result, source: `videovae setup (${result.dir})`, installed: !result.reused } })
  ctx.print(
    result.reused
      ? `libtorch ${version} (${flavour}) is already installed: ${result.root}`
      : `installed libtorch ${version} (${flavour}): ${result.root}\nvideovae finds it there from now on (videovae doctor shows it).`,
  )
}
