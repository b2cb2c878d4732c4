/**
 * `videovae export`: a checkpoint to a bundle, through the Python exporter in the project's
 * venv (`.venv/bin/python -m videovae export`, PYTHONPATH=python). Build-time tool: it needs a
 * clone of the repository with its venv, not just the installed package.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'

import { Option, type Command } from 'commander'

import { packageRoot } from '../../package_root.js'
import type { Context } from '../context.js'
import { CliError, EXIT } from '../errors.js'
import type { Runner } from '../runner.js'
import { addOutputFlags } from '../options.js'
import { checkInput } from '../outputs.js'

interface ExportFlags {
  checkpoint?: string
  t5?: string
  t5Dtype: string
  output?: string
  out?: string
  config?: string
  attention: string
  mode: string
  engine: string
  dtype: string
  device?: string
  cpuIsa: string
  weightsStorage: string
  force?: boolean
}

export const CONFIGS = ['config_16z', 'config_4z', 'config_16z_cap', 'config_4z_cap']

export function registerExport(program: Command, run: Runner): Command {
  const cmd = program
    .command('export')
    .description('export a VideoVAE+ checkpoint and/or a Flan-T5 text encoder to a bundle (runs the Python exporter of the project venv)')
    .option('--checkpoint <file>', '.ckpt (Lightning), .safetensors or .pt/.pth state dict')
    .option('--t5 <dir>', 'Hugging Face T5 directory (config.json, weights, spiece.model) for captions; alone: a text-only bundle')
    .addOption(
      new Option('--t5-dtype <dtype>', 'compute dtype of T5 (bfloat16 like the official embedder)').choices(['bfloat16', 'float32']).default('bfloat16'),
    )
    .option('-o, --output <dir>', 'bundle directory to create')
    .addOption(new Option('--out <dir>', 'same as --output').hideHelp())
    .addOption(new Option('--config <name>', 'expected config; must agree with the checkpoint (detected from it otherwise)').choices(CONFIGS))
    .addOption(
      new Option('--attention <mode>', 'mid-block attention: exact (reference) or chunked (less memory, same results)')
        .choices(['exact', 'chunked'])
        .default('exact'),
    )
    .addOption(
      new Option('--mode <mode>', 'exact (bit-exact with the official model) or fast (faster layers, within 1e-4 of exact)')
        .choices(['exact', 'fast'])
        .default('exact'),
    )
    .addOption(
      new Option('--engine <engine>', 'torchscript (four TorchScript stages) or aoti (torch.export + AOTInductor packages compiled for --device)')
        .choices(['torchscript', 'aoti'])
        .default('torchscript'),
    )
    .addOption(new Option('--dtype <dtype>', 'aoti: compute dtype compiled into the packages').choices(['float32', 'bfloat16']).default('float32'))
    .addOption(
      new Option('--device <device>', 'aoti: device the packages run on (default: cuda when the exporter sees one, else cpu)').choices(['cpu', 'cuda']),
    )
    .addOption(
      new Option('--cpu-isa <level>', 'aoti on cpu: instruction level of the compiled kernels (native: this CPU only)')
        .choices(['avx2', 'avx512', 'none', 'native'])
        .default('avx2'),
    )
    .addOption(
      new Option('--weights-storage <storage>', 'aoti: weights in the side files as compute (the compute dtype), float16 (half the size) or int8 (a quarter)')
        .choices(['compute', 'float16', 'int8'])
        .default('compute'),
    )
    .option('--force', 'replace an existing bundle directory')
  addOutputFlags(cmd)
  cmd.addHelpText('after', '\nNeeds a clone of the repository with its Python environment (.venv, made by npm test or scripts/setup.sh).')
  return cmd.action(run(exportBundle))
}

/** The project's venv python and its exporter package; a clear error when either is missing. */
export function exporterPaths(): { python: string; pythonPath: string; root: string } {
  const root = packageRoot()
  const python = path.join(root, '.venv', 'bin', 'python')
  const pythonPath = path.join(root, 'python')
  if (!existsSync(path.join(pythonPath, 'videovae', 'export.py'))) {
    throw new CliError(
      'ERR_NO_EXPORTER',
      `the Python exporter is not here (${pythonPath}/videovae is missing): export needs a clone of the videovae repository`,
    )
  }
  if (!existsSync(python)) {
    throw new CliError('ERR_NO_VENV', `the project's Python environment is missing (${python}); create it with npm test or bash scripts/setup.sh`)
  }
  return { python, pythonPath, root }
}

/**
 * The exporter's error from its stderr: the last `error: ` line and the lines after it (a
 * checkpoint mismatch lists missing, unexpected and misshapen keys on lines of their own), or
 * the last line (a traceback's exception).
 */
export function exporterMessage(stderr: string, code: number | null): string {
  const lines = stderr.trimEnd().split('\n')
  const at = lines.map((l) => l.startsWith('error: ')).lastIndexOf(true)
  if (at >= 0) return lines.slice(at).join('\n').slice('error: '.length)
  return lines[lines.length - 1] || `exit code ${code}`
}

async function exportBundle(ctx: Context, flags: ExportFlags): Promise<number> {
  const output = flags.output ?? flags.out
  if (output === undefined) throw new CliError('ERR_USAGE', "required option '-o, --output <dir>' not specified", EXIT.USAGE)
  if (flags.checkpoint === undefined && flags.t5 === undefined) {
    throw new CliError('ERR_USAGE', 'give --checkpoint, --t5 (a text-only bundle), or both', EXIT.USAGE)
  }
  if (flags.checkpoint !== undefined) checkInput(flags.checkpoint)
  if (flags.t5 !== undefined) checkInput(flags.t5, true)
  const out = path.resolve(output)
  if (existsSync(out) && !flags.force) {
    throw new CliError('ERR_EXISTS', `${output} already exists; use --force to replace it`)
  }
  const { python, pythonPath, root } = exporterPaths()
  const args = ['-m', 'videovae', 'export', '--out', out, '--attention', flags.attention, '--mode', flags.mode]
  if (flags.checkpoint !== undefined) args.push('--checkpoint', path.resolve(flags.checkpoint))
  if (flags.t5 !== undefined) args.push('--t5', path.resolve(flags.t5), '--t5-dtype', flags.t5Dtype)
  if (flags.config) args.push('--config', flags.config)
  if (flags.engine !== 'torchscript') {
    args.push('--engine', flags.engine, '--dtype', flags.dtype, '--cpu-isa', flags.cpuIsa, '--weights-storage', flags.weightsStorage)
    if (flags.device) args.push('--device', flags.device)
  } else if (flags.weightsStorage !== 'compute') {
    throw new CliError(
      'ERR_USAGE',
      '--weights-storage is an option of --engine aoti (the side files of AOTInductor packages); TorchScript stages keep their weights inside',
      EXIT.USAGE,
    )
  } else if (flags.dtype !== 'float32' || flags.device !== undefined || flags.cpuIsa !== 'avx2') {
    throw new CliError('ERR_USAGE', '--dtype, --device and --cpu-isa are options of --engine aoti', EXIT.USAGE)
  }
  if (flags.force) args.push('--force')
  const env = { ...process.env, PYTHONPATH: [pythonPath, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) }
  ctx.debug(`running ${python} ${args.join(' ')}`)
  const started = performance.now()
  const child = spawn(python, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString('utf8')
    if (ctx.verbose) process.stderr.write(b)
  })
  child.stdout.on('data', (b: Buffer) => ctx.debug(b.toString('utf8').trimEnd()))
  // SIGINT: the exporter gets a KeyboardInterrupt and removes its temporary directory itself.
  const onAbort = (): void => void child.kill('SIGINT')
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', (err) => reject(new CliError('ERR_EXPORT', `cannot run ${python}: ${err.message}`)))
    child.on('close', (c) => resolve(c))
  }).finally(() => ctx.signal.removeEventListener('abort', onAbort))
  ctx.throwIfAborted()
  if (code !== 0) throw new CliError('ERR_EXPORT', `export failed: ${exporterMessage(stderr, code)}`, EXIT.FAILURE)
  const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as Record<string, unknown>
  const seconds = (performance.now() - started) / 1000
  ctx.result({ bundle: out, manifest, seconds })
  const t5 = manifest.t5 as { dtype: string; d_model: number } | undefined
  const what =
    manifest.kind === 'text'
      ? `text-only, T5 ${t5?.d_model}-d ${t5?.dtype}`
      : `${String(manifest.variant)}, ${String(manifest.config)}, ${aotiWhat(manifest)}mode ${String(manifest.mode)}, attention ${String(manifest.attention)}${t5 ? `, T5 ${t5.dtype}` : ''}`
  ctx.print(`wrote ${output} (${what}) in ${seconds.toFixed(1)} s`)
  return EXIT.OK
}

function aotiWhat(manifest: Record<string, unknown>): string {
  if (manifest.engine !== 'aoti') return ''
  const a = manifest.aoti as { device: string; dtype: string; cpu_isa: string; weights_storage?: string }
  return `aoti ${a.device} ${a.dtype}${a.device === 'cpu' ? ` ${a.cpu_isa}` : ''}, weights ${a.weights_storage ?? 'compute'}, `
}
