/** `videovae worker --queue redis://HOST:PORT/NAME -o OUTDIR`: process the jobs `videovae batch --queue` enqueued. */
import type { Command } from 'commander'

import { runWorker } from '../../batch/worker.js'
import type { Context } from '../context.js'
import { EXIT } from '../errors.js'
import type { Runner } from '../runner.js'
import { loadModel } from '../model.js'
import { addLimitOptions, addModelOptions, addOutputFlags, intArg, TRUSTED_INPUT_HELP, type LimitFlags, type ModelFlags } from '../options.js'
import { prepareOutdir } from './batch.js'

interface WorkerFlags extends ModelFlags, LimitFlags {
  trustedInput?: boolean
  queue: string
  output: string
  concurrency: number
  batchSize?: number
  shardItems: number
  perItem?: boolean
  workerId?: string
  lockMs: number
  stalledMs: number
  untilEmpty?: boolean
}

export function registerWorker(program: Command, run: Runner): Command {
  const cmd = program
    .command('worker')
    .description('encode the items of a queue filled by `videovae batch --queue` (one worker per GPU or process)')
    .requiredOption('--queue <url>', 'the queue: redis://HOST:PORT/NAME')
    .requiredOption('-o, --output <dir>', 'output directory (shared by all workers; each writes its own index and shards)')
    .option('--concurrency <n>', 'jobs held at once: clips decoded while the model runs, batched together', intArg('--concurrency', 1), 2)
    .option('--batch-size <n>', 'most same-size clips per model call (default: --concurrency; 1: latents bitwise reproducible)', intArg('--batch-size', 1))
    .option('--shard-items <n>', 'most items per .safetensors shard (a shard holds at most --concurrency items)', intArg('--shard-items', 1), 64)
    .option('--per-item', 'one .safetensors file per item (items/) instead of shards')
    .option('--worker-id <name>', "names this worker's index and shards (default: host-pid)")
    .option('--lock-ms <ms>', "a dead worker's jobs go back to the queue after this long", intArg('--lock-ms', 1000), 30000)
    .option('--stalled-ms <ms>', 'how often to look for jobs of dead workers', intArg('--stalled-ms', 500), 30000)
    .option('--until-empty', 'exit once the queue has nothing left (default: wait for jobs until ^C)')
    .option('--trusted-input', TRUSTED_INPUT_HELP)
  addLimitOptions(cmd)
  addModelOptions(cmd)
  addOutputFlags(cmd)
  return cmd.action(run(worker))
}

async function worker(ctx: Context, flags: WorkerFlags): Promise<number> {
  prepareOutdir(flags.output)
  const vae = await loadModel(flags)
  const bar = ctx.progress('worker', 'items')
  let report
  try {
    report = await runWorker(vae, {
      url: flags.queue,
      outdir: flags.output,
      concurrency: flags.concurrency,
      ...(flags.batchSize === undefined ? {} : { batchSize: flags.batchSize }),
      itemsPerShard: flags.shardItems,
      perItem: flags.perItem === true,
      ...(flags.workerId === undefined ? {} : { workerId: flags.workerId }),
      lockMs: flags.lockMs,
      stalledMs: flags.stalledMs,
      untilEmpty: flags.untilEmpty === true,
      ...(flags.memoryLimit === undefined ? {} : { memoryLimit: flags.memoryLimit }),
      ...(flags.trustedInput === true ? { trusted: true } : {}),
      signal: ctx.signal,
      onItem: (_id, done) => bar.update(done),
      onFailure: (f) => process.stderr.write(`videovae: ${f.id}: ${f.error} (${f.code})\n`),
    })
  } finally {
    bar.finish()
    vae.dispose()
  }
  ctx.print(
    `worker ${report.worker}: ${report.processed} item(s) encoded, ${report.skipped} already committed by others, ` +
      `${report.lost > 0 ? `${report.lost} lost to other workers after a stall, ` : ''}${report.failed.length} failed (${report.itemsPerSecond.toFixed(2)} items/s); index ${report.index}`,
  )
  ctx.result(report)
  if (ctx.signal.aborted) return EXIT.INTERRUPTED
  return report.failed.length > 0 ? EXIT.MISMATCH : EXIT.OK
}
