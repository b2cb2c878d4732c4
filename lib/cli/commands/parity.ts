/** `videovae parity --bundle DIR --case CASEDIR`: a bundle against a golden parity case. */
import path from 'node:path'

import type { Command } from 'commander'

import type { Context } from '../context.js'
import { EXIT } from '../errors.js'
import type { Runner } from '../runner.js'
import { loadModel } from '../model.js'
import { addModelOptions, addOutputFlags, numberArg, type ModelFlags } from '../options.js'
import { checkInput } from '../outputs.js'
import { readCase, runParity } from '../parity.js'

interface ParityFlags extends ModelFlags {
  case: string
  tolerance: number
}

export function registerParity(program: Command, run: Runner): Command {
  const cmd = program
    .command('parity')
    .description('run a bundle on a parity case (tensors.safetensors + case.json) and compare every stored tensor')
    .requiredOption('--case <dir>', 'case directory, e.g. ../shared/parity/cases/16z-ch32-video')
    .option('--tolerance <x>', 'pass when every max |difference| is at most this', numberArg('--tolerance'), 1e-4)
  addModelOptions(cmd, true)
  addOutputFlags(cmd)
  cmd.addHelpText(
    'after',
    '\nPrints the max abs error of every stored output tensor and pass/fail; exit 0 on pass, 3 on a mismatch.\n' +
      "--threads defaults to the case's thread count (2 for the shared fixtures), which bit parity needs.\n" +
      'Encoder tensors are computed from the stored input, decoder tensors (dec_temporal_out, reconstruction)\n' +
      "from the stored latent, the chunked ones end to end with --chunk-frames = the case's chunk_size.\n" +
      'With --json: {"case", "tolerance", "tensors": {name: {"max_abs", "shape"}}, "max_abs", "pass"}.',
  )
  return cmd.action(run(parity))
}

async function parity(ctx: Context, flags: ParityFlags): Promise<number> {
  checkInput(path.join(flags.case, 'case.json'))
  const meta = await readCase(flags.case)
  const threads = flags.threads ?? meta.threads
  const vae = await loadModel({ ...flags, ...(threads === undefined ? {} : { threads }) })
  try {
    const report = await runParity(vae.info.dir, flags.case, {
      tolerance: flags.tolerance,
      model: vae,
      device: vae.device,
      onTensor: (name, r) => {
        const verdict = r.max_abs !== null && r.max_abs <= flags.tolerance ? 'ok' : 'FAIL'
        ctx.print(`${name.padEnd(24)} ${String(r.max_abs ?? r.error).padEnd(24)} [${r.shape.join(', ')}]  ${verdict}`)
      },
    })
    ctx.throwIfAborted()
    ctx.result(report)
    ctx.print(`${report.case}: max abs error ${report.max_abs ?? 'n/a'} (tolerance ${report.tolerance}) -> ${report.pass ? 'PASS' : 'FAIL'}`)
    return report.pass ? EXIT.OK : EXIT.MISMATCH
  } finally {
    vae.dispose()
  }
}
