/** `videovae stats OUTDIR`: per-channel mean and std of a latent dataset made by `videovae batch`. */
import type { Command } from 'commander'

import { datasetStats } from '../../batch/stats.js'
import { writeJsonAtomic } from '../../batch/json_file.js'
import type { Context } from '../context.js'
import type { Runner } from '../runner.js'
import { addOutputFlags } from '../options.js'
import { checkInput, checkWritableFile } from '../outputs.js'

interface StatsFlags {
  output?: string
}

export function registerStats(program: Command, run: Runner): Command {
  const cmd = program
    .command('stats')
    .description('per-channel mean and std of a latent dataset (what diffusion training normalises with)')
    .argument('<outdir>', 'output directory of `videovae batch` or `videovae worker`')
    .option('-o, --output <file>', 'also write the statistics to this JSON file')
  addOutputFlags(cmd)
  return cmd.action(run(stats))
}

async function stats(ctx: Context, outdir: string, flags: StatsFlags): Promise<void> {
  checkInput(outdir, true)
  if (flags.output !== undefined) checkWritableFile(flags.output)
  const bar = ctx.progress('stats', 'items')
  let s
  try {
    s = await datasetStats(outdir, (done, total) => bar.update(done, total))
  } finally {
    bar.finish()
  }
  if (flags.output !== undefined) await writeJsonAtomic(flags.output, s)
  const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(4)).join(' ')
  ctx.print(`${s.items} item(s), ${s.channels} channels of '${s.tensor}', ${s.count} values each`)
  ctx.print(`mean  ${fmt(s.mean)}`)
  ctx.print(`std   ${fmt(s.std)}`)
  if (s.sampleStd) ctx.print(`sample std ${fmt(s.sampleStd)}`)
  ctx.print(`overall mean ${s.overall.mean.toFixed(4)}, std ${s.overall.std.toFixed(4)}, scale factor ${s.overall.scaleFactor.toFixed(4)}`)
  ctx.result(s)
}
