/**
 * `videovae batch MANIFEST -o OUTDIR`: encode a dataset to latent shards plus an index, exactly
 * once (a rerun continues where a killed run stopped); `--shard i/N` takes one part of the
 * manifest; `--queue redis://HOST:PORT/NAME` enqueues the items for `videovae worker` instead.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'

import { InvalidArgumentError, Option, type Command } from 'commander'

import type { EncodeSettings } from '../../batch/batch_encoder.js'
import { readManifest } from '../../batch/manifest.js'
import { parseShardSpec, selectShard, type ShardSpec } from '../../batch/partition.js'
import { enqueueItems, waitForQueue, type QueueJobSettings } from '../../batch/queue.js'
import { runBatch } from '../../batch/runner.js'
import { checkFrameCount, type ShapeRules } from '../../rules.js'
import { cudnnBenchmarkState, memory, transfersSince } from '../../runtime.js'
import type { Context } from '../context.js'
import { EXIT, usageError } from '../errors.js'
import type { Runner } from '../runner.js'
import { bundleRules, loadModel } from '../model.js'
import {
  addLimitOptions,
  addModelOptions,
  addOutputFlags,
  addRunOptions,
  asFlagError,
  checkRunFlags,
  chunkOf,
  frameSizeArg,
  intArg,
  rateArg,
  runOptions,
  TRUSTED_INPUT_HELP,
  type LimitFlags,
  type ModelFlags,
  type RunFlags,
} from '../options.js'
import { checkWritableDir } from '../outputs.js'

interface BatchFlags extends ModelFlags, RunFlags, LimitFlags {
  trustedInput?: boolean
  output?: string
  shard?: ShardSpec
  shardItems: number
  perItem?: boolean
  batchSize: number
  prefetch?: number
  sampleSeed?: number
  start?: number
  frames?: number
  fps?: string
  maxSize?: { width: number; height: number }
  fit: 'pad' | 'crop' | 'resize' | 'none'
  queue?: string
  attempts: number
  backoff: number
  wait?: boolean
  verify?: boolean
}

function shardArg(value: string): ShardSpec {
  try {
    return parseShardSpec(value)
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
}

/** --start, --frames, --fps, --fit: how clips are read (the video path only). */
export function addClipReadOptions(cmd: Command): Command {
  return cmd
    .option('--trusted-input', `${TRUSTED_INPUT_HELP} (with --queue: give it to \`videovae worker\`)`)
    .option('--start <n>', 'first frame of each clip', intArg('--start', 0))
    .option('--frames <n>', 'read this many frames of each clip; shorter clips fail as ERR_TOO_SHORT', intArg('--frames', 1))
    .option('--fps <rate>', 'resample clips to this frame rate first (e.g. 8 or 30000/1001)', rateArg)
    .option('--max-size <WxH>', 'cap each side independently, scaling without keeping the aspect ratio (the official script reads at 1280x720)', frameSizeArg)
    .addOption(
      new Option('--fit <mode>', 'bring frame sizes to multiples of 8: pad (edge pixels), crop (centre), resize, or none (such clips fail)')
        .choices(['pad', 'crop', 'resize', 'none'])
        .default('pad'),
    )
}

/** The encode and read settings of a run, from the flags, checked against the bundle's shape rules (exit 2). */
export function jobSettings(flags: BatchFlags, rules: ShapeRules): QueueJobSettings {
  const run = runOptions(flags, false, rules)
  if (flags.frames !== undefined) {
    try {
      checkFrameCount(rules, flags.frames, '--frames')
    } catch (err) {
      throw asFlagError(err)
    }
  }
  return {
    store: flags.sampleSeed === undefined ? 'posterior' : 'sample',
    ...(flags.sampleSeed === undefined ? {} : { sampleSeed: flags.sampleSeed }),
    chunkFrames: chunkOf(flags, false),
    ...(run.tile ? { tile: run.tile } : {}),
    read: {
      fit: flags.fit,
      ...(flags.start === undefined ? {} : { start: flags.start }),
      ...(flags.frames === undefined ? {} : { count: flags.frames }),
      ...(flags.fps === undefined ? {} : { fps: flags.fps }),
      ...(flags.maxSize === undefined ? {} : { maxSize: flags.maxSize }),
    },
  }
}

export function registerBatch(program: Command, run: Runner): Command {
  const cmd = program
    .command('batch')
    .description('encode a dataset (CSV/JSONL manifest, directory or glob) to latent shards plus an index, resumably')
    .argument('<manifest>', "CSV or JSONL with 'path' and optional 'caption', 'id'; or a directory; or a quoted glob like 'clips/**/*.mp4'")
    .option('-o, --output <dir>', 'output directory (created when missing; rerun the same command to continue)')
    .option('--shard <i/N>', 'take only part i of N (0-based) of the manifest: for Slurm job arrays and Kubernetes indexed jobs', shardArg)
    .option('--shard-items <n>', 'items per .safetensors shard', intArg('--shard-items', 1), 64)
    .option('--per-item', 'one .safetensors file per item (items/) instead of shards')
    .option(
      '--batch-size <n>',
      'most same-size clips per model call (1: latents bitwise reproducible, each equal to encoding its clip alone)',
      intArg('--batch-size', 1),
      4,
    )
    .option('--prefetch <n>', 'clips decoded ahead while the model runs (default: batch size + 2)', intArg('--prefetch', 1))
    .option(
      '--sample-seed <n>',
      'store one latent drawn from the posterior per item (seed derived from n and the id) instead of mean and logvar',
      intArg('--sample-seed', 0),
    )
    .option('--queue <url>', 'enqueue the items as BullMQ jobs at redis://HOST:PORT/NAME for `videovae worker` instead of encoding here')
    .option('--attempts <n>', 'with --queue: tries per item before it counts as failed', intArg('--attempts', 1), 3)
    .option('--backoff <ms>', 'with --queue: first retry delay, doubled on each retry', intArg('--backoff', 0), 2000)
    .option('--wait', 'with --queue: wait until the queue is done and report completed and failed items')
    .option(
      '--verify',
      're-read every committed item first; items that do not read back (a full disk, a damaged file) are taken out of the index and encoded again',
    )
  addClipReadOptions(cmd)
  addRunOptions(cmd)
  addLimitOptions(cmd)
  addModelOptions(cmd)
  addOutputFlags(cmd)
  cmd.addHelpText(
    'after',
    '\nOutput: OUTDIR/data/*.safetensors (tensors <offset>/mean and <offset>/logvar [z,T/4,H/8,W/8], or <offset>/latent\n' +
      'with --sample-seed), OUTDIR/index.jsonl (one line per committed item: id, source, caption, shard, offset,\n' +
      'shapes, fps, frames, width, height, bundle), OUTDIR/failures.jsonl, OUTDIR/dataset.json. Killed at any\n' +
      'moment, the same command continues where it stopped. Exit 3 when some items failed.',
  )
  return cmd.action(run(batch))
}

/** The output directory must be writable, or creatable in a writable parent. */
export function prepareOutdir(outdir: string): void {
  if (existsSync(outdir)) checkWritableDir(outdir)
  else checkWritableDir(path.dirname(path.resolve(outdir)), 'parent directory of the output')
}

async function batch(ctx: Context, manifest: string, flags: BatchFlags): Promise<number> {
  checkRunFlags(flags)
  if (flags.queue === undefined && flags.output === undefined) throw usageError('batch needs -o OUTDIR (or --queue to enqueue for workers)')
  if (flags.queue !== undefined && flags.output !== undefined) throw usageError('with --queue the workers write the output: give -o to `videovae worker`')
  if (flags.queue !== undefined && flags.verify === true) throw usageError('--verify checks an output directory: run it without --queue, with -o OUTDIR')
  if (flags.queue !== undefined && (flags.trustedInput || flags.memoryLimit !== undefined)) {
    throw usageError('with --queue the workers read the items: give --trusted-input and --memory-limit to `videovae worker`')
  }
  // The manifest's rules alone: with --queue no model is loaded here.
  const settings = jobSettings(flags, await bundleRules(flags))
  const items = selectShard(await readManifest(manifest), flags.shard)

  if (flags.queue !== undefined) {
    const queued = await enqueueItems(flags.queue, items, settings, { attempts: flags.attempts, backoffMs: flags.backoff })
    ctx.debug(`queue ${queued.queue}: ${queued.added} added, ${queued.existing} already there`)
    if (!flags.wait) {
      ctx.print(`${queued.added} item(s) enqueued on ${flags.queue} (${queued.existing} were already there)`)
      ctx.result({ url: flags.queue, ...queued })
      return EXIT.OK
    }
    const bar = ctx.progress('queue', 'items')
    let report
    try {
      report = await waitForQueue(flags.queue, { signal: ctx.signal, onProgress: (done, total) => bar.update(done, total) })
    } finally {
      bar.finish()
    }
    ctx.print(`${report.completed} item(s) completed, ${report.failed.length} failed`)
    for (const f of report.failed) ctx.print(`failed: ${f.id}: ${f.error}`)
    ctx.result({ url: flags.queue, ...queued, ...report })
    if (ctx.signal.aborted) return EXIT.INTERRUPTED
    return report.failed.length > 0 ? EXIT.MISMATCH : EXIT.OK
  }

  const outdir = flags.output!
  prepareOutdir(outdir)
  const vae = await loadModel(flags)
  const runtime = { device: vae.device, cudnnBenchmark: cudnnBenchmarkState(vae.device) }
  const encode: EncodeSettings = {
    store: settings.store,
    ...(settings.sampleSeed === undefined ? {} : { sampleSeed: settings.sampleSeed }),
    chunkFrames: settings.chunkFrames,
    ...(settings.tile ? { tile: settings.tile } : {}),
    batchSize: flags.batchSize,
    ...(flags.memoryLimit === undefined ? {} : { memoryLimit: flags.memoryLimit }),
  }
  const bar = ctx.progress('batch', 'items')
  const before = memory().transfers
  let report
  try {
    report = await runBatch(vae, {
      outdir,
      writer: flags.shard === undefined ? '' : `part-${flags.shard.index}-of-${flags.shard.count}`,
      items,
      encode,
      read: {
        read: { ...settings.read, ...(flags.trustedInput === true ? { trusted: true } : {}) },
        minFrames: Math.max(vae.info.rules.tMin, settings.read.count ?? 0),
      },
      itemsPerShard: flags.shardItems,
      perItem: flags.perItem === true,
      verify: flags.verify === true,
      ...(flags.prefetch === undefined ? {} : { prefetch: flags.prefetch }),
      signal: ctx.signal,
      onProgress: (done, total) => bar.update(done, total),
      onFailure: (f) => process.stderr.write(`videovae: ${f.id}: ${f.error} (${f.code})\n`),
    })
  } finally {
    bar.finish()
    vae.dispose()
  }
  if (report.verified !== undefined) {
    for (const b of report.verified.bad) process.stderr.write(`videovae: ${b.id} did not read back, encoding it again: ${b.problem}\n`)
    ctx.print(`verify: ${report.verified.checked} committed item(s) read back, ${report.verified.bad.length} bad (taken out of the index and encoded again)`)
  }
  ctx.print(
    `${report.encoded} item(s) encoded, ${report.skipped} already done, ${report.failed.length} failed ` +
      `(${report.itemsPerSecond.toFixed(2)} items/s); index ${report.index}` +
      (report.failed.length > 0 ? `; failures in ${report.failures}` : ''),
  )
  ctx.result({ ...report, ...runtime, transfers: transfersSince(before) })
  if (report.interrupted) return EXIT.INTERRUPTED
  if (report.failed.length === 0) return EXIT.OK
  return report.encoded === 0 && report.skipped === 0 ? EXIT.FAILURE : EXIT.MISMATCH
}
