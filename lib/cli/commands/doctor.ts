/** `videovae doctor`: what this installation runs on, and what is missing. */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import type { Command } from 'commander'

import { findTool, missingToolMessage } from '../../io/ffmpeg_path.js'
import { findRuntimeLibtorch, readBuildInfo } from '../../libtorch_check.js'
import { resolveAddonPath } from '../../native_loader.js'
import { packageRoot } from '../../package_root.js'
import { cuda, getNumThreads, libtorchInfo, memory } from '../../runtime.js'
import { defaultBundleDir } from '../../vae.js'
import type { Context } from '../context.js'
import { EXIT, errorCode, oneLine } from '../errors.js'
import type { Runner } from '../runner.js'
import { addOutputFlags } from '../options.js'
import { version } from '../version.js'

function attempt<T>(fn: () => T): { value?: T; error?: { code: string; message: string } } {
  try {
    return { value: fn() }
  } catch (err) {
    return { error: { code: errorCode(err), message: oneLine(err) } }
  }
}

function toolVersion(file: string): string | null {
  const r = spawnSync(file, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000 })
  if (r.status !== 0) return null
  return /version\s+(\S+)/.exec(r.stdout)?.[1] ?? r.stdout.split('\n')[0] ?? null
}

/** The caption tokenizer's library beside the addon, and whether what it links resolves (ldd). */
function sentencepieceReport(addonPath: string | null): { bridge: string | null; library: string | null; error?: string } {
  if (!addonPath) return { bridge: null, library: null, error: 'no addon' }
  const bridge = path.join(path.dirname(addonPath), 'videovae_spm.so')
  if (!existsSync(bridge))
    return {
      bridge: null,
      library: null,
      error: `${bridge} is missing: captions need a build with SentencePiece (apt install libsentencepiece-dev, then npm rebuild videovae)`,
    }
  const r = spawnSync('ldd', [bridge], { encoding: 'utf8', timeout: 10_000 })
  const line = /^\s*libsentencepiece\.so\S*\s+=>\s+(.*)$/m.exec(r.stdout ?? '')?.[1]?.trim()
  if (!line || line.startsWith('not found')) {
    return { bridge, library: null, error: 'libsentencepiece.so.0 not found: captions (text bundles) need it (apt install libsentencepiece0)' }
  }
  return { bridge, library: line.replace(/\s*\(0x[0-9a-f]+\)$/, '') }
}

function pythonVersion(python: string): string | null {
  const r = spawnSync(python, ['-c', 'import sys, torch; print(sys.version.split()[0], torch.__version__)'], { encoding: 'utf8', timeout: 60_000 })
  return r.status === 0 ? r.stdout.trim() : null
}

function libtorchSource(binary: string): string | null {
  const build = readBuildInfo(binary)
  if (!build) return null
  const found = attempt(() => findRuntimeLibtorch(build, process.env, binary)).value
  return found ? found.source : null
}

export function registerDoctor(program: Command, run: Runner): Command {
  const cmd = program.command('doctor').description('report libtorch, CUDA, ffmpeg, the addon, threads, node and the Python venv (what is missing)')
  addOutputFlags(cmd)
  cmd.addHelpText('after', '\nExit code 1 when something needed at run time (addon, libtorch, ffmpeg) is missing.')
  return cmd.action(run(doctor))
}

async function doctor(ctx: Context): Promise<number> {
  const problems: string[] = []
  const root = packageRoot()
  const addonPath = attempt(() => resolveAddonPath())
  const torch = attempt(() => libtorchInfo())
  const addon = {
    path: addonPath.value ?? null,
    buildSystem: torch.value?.build.buildSystem ?? null,
    loaded: torch.value !== undefined,
    ...(torch.error ? { error: torch.error } : addonPath.error ? { error: addonPath.error } : {}),
  }
  if (!addon.loaded) problems.push(`addon/libtorch: ${(torch.error ?? addonPath.error)?.message ?? 'not loaded'}`)
  const libtorch = torch.value
    ? {
        version: torch.value.runtime.torchVersion,
        flavour: torch.value.build.flavour,
        path: torch.value.runtime.library ?? torch.value.build.libdir,
        libdir: torch.value.build.libdir,
        compiledAgainst: torch.value.build.torchVersion,
        cudaCompiled: torch.value.runtime.cudaCompiled,
        // Which rule found it: LD_LIBRARY_PATH, the rpath of a local build, or the search of a prebuilt binary.
        foundBy: addonPath.value ? libtorchSource(addonPath.value) : null,
      }
    : null
  let cudaInfo: Record<string, unknown> = { available: false, deviceCount: 0, devices: [] }
  if (torch.value) {
    const available = attempt(() => cuda.isAvailable())
    const count = attempt(() => cuda.deviceCount())
    const mem = attempt(() => memory())
    cudaInfo = {
      available: available.value ?? false,
      deviceCount: count.value ?? 0,
      devices: Array.from({ length: count.value ?? 0 }, (_, i) => ({
        device: `cuda:${i}`,
        ...(mem.value?.cuda?.find((d) => d.device === `cuda:${i}`) ?? {}),
      })),
      ...(available.error ? { error: available.error } : {}),
    }
  }
  const tools: Record<string, { path: string | null; version: string | null; source?: string; error?: { code: string; message: string } }> = {}
  for (const tool of ['ffmpeg', 'ffprobe'] as const) {
    const found = findTool(tool)
    const error = found ? undefined : { code: 'ERR_FFMPEG_MISSING', message: missingToolMessage(tool) }
    tools[tool] = { path: found?.path ?? null, version: found ? toolVersion(found.path) : null, ...(found ? { source: found.source } : { error }) }
    if (error) problems.push(`${tool}: ${error.message}`)
  }
  const sentencepiece = sentencepieceReport(addonPath.value ?? null)
  const threads = {
    intraOp: torch.value ? (attempt(() => getNumThreads()).value ?? null) : null,
    cpus: os.availableParallelism(),
    OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? null,
    MKL_NUM_THREADS: process.env.MKL_NUM_THREADS ?? null,
  }
  const python = path.join(root, '.venv', 'bin', 'python')
  const venvPresent = existsSync(python)
  const venv = {
    path: path.join(root, '.venv'),
    present: venvPresent,
    python: venvPresent ? pythonVersion(python) : null,
    exporter: existsSync(path.join(root, 'python', 'videovae', 'export.py')),
  }
  const bundleDir = defaultBundleDir()
  const defaultModel = { path: bundleDir, present: existsSync(path.join(bundleDir, 'manifest.json')) }
  const report = {
    videovae: version(),
    node: { version: process.version, platform: process.platform, arch: process.arch, napi: process.versions.napi ?? null },
    packageRoot: root,
    addon,
    libtorch,
    cuda: cudaInfo,
    threads,
    ffmpeg: tools.ffmpeg,
    ffprobe: tools.ffprobe,
    sentencepiece,
    venv,
    defaultModel,
    problems,
    ok: problems.length === 0,
  }
  ctx.result(report)
  ctx.print(
    [
      `videovae      ${report.videovae} (${root})`,
      `node          ${process.version} ${process.platform}-${process.arch}, N-API ${report.node.napi ?? '?'}`,
      `addon         ${addon.path ?? 'not found'}${addon.buildSystem ? ` (built with ${addon.buildSystem})` : ''}${addon.loaded ? '' : ' - NOT LOADED'}`,
      `libtorch      ${libtorch ? `${libtorch.version} (${libtorch.flavour}) at ${libtorch.path}${libtorch.foundBy ? ` (found by ${libtorch.foundBy})` : ''}` : torch.error?.code === 'ERR_LIBTORCH_NOT_FOUND' ? 'NOT FOUND: run npx videovae setup (see problems)' : 'not loaded (see problems)'}`,
      `cuda          ${cudaInfo.available ? `available, ${String(cudaInfo.deviceCount)} device(s)` : `not available${libtorch && !libtorch.cudaCompiled ? ' (CPU libtorch)' : ''}`}`,
      `threads       libtorch intra-op ${threads.intraOp ?? '?'}, ${threads.cpus} CPUs, OMP_NUM_THREADS=${threads.OMP_NUM_THREADS ?? 'unset'}`,
      `ffmpeg        ${tools.ffmpeg!.path ? `${tools.ffmpeg!.path} (${tools.ffmpeg!.version ?? '?'})` : 'NOT FOUND'}`,
      `ffprobe       ${tools.ffprobe!.path ? `${tools.ffprobe!.path} (${tools.ffprobe!.version ?? '?'})` : 'NOT FOUND'}`,
      `sentencepiece ${sentencepiece.library ? `${sentencepiece.library} (captions)` : `not usable: ${sentencepiece.error}`}`,
      `python venv   ${venv.present ? `${venv.path} (python, torch: ${venv.python ?? '?'})` : 'absent (only needed for videovae export, in a clone: bash scripts/setup.sh)'}`,
      `default model ${defaultModel.present ? defaultModel.path : `not installed (${defaultModel.path}); pass --bundle DIR`}`,
      ...(problems.length ? ['', 'problems:', ...problems.map((p) => `  - ${p}`)] : ['', 'no problems found']),
    ].join('\n'),
  )
  return problems.length === 0 ? EXIT.OK : EXIT.FAILURE
}
