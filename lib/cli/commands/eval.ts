/**
 * `videovae eval REF TEST`: PSNR and SSIM with the official protocol (per frame on 8-bit RGB,
 * frame-weighted means), optionally LPIPS through a user-supplied TorchScript module.
 */
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'

import { Option, type Command } from 'commander'

import { VideoIOError } from '../../io/ffmpeg.js'
import { readVideoWithPlan, type FrameChunk } from '../../io/video_reader.js'
import { compareFrames, SSIM_WINDOW, ssimUndefinedReason } from '../../metrics/index.js'
import { TorchModule } from '../../module.js'
import type { HtmlReport, PairRecorder } from '../../report/index.js'
import { setNumThreads } from '../../runtime.js'
import { Tensor } from '../../tensor.js'
import { jsonReplacer, type Context } from '../context.js'
import { CliError, EXIT, errorCode, formatError, isAbort, oneLine, usageError } from '../errors.js'
import { frameToUnitCHW, IMAGE_EXTENSIONS } from '../frames.js'
import type { Runner } from '../runner.js'
import { deviceArg, addOutputFlags, intArg, threadsArg, TRUSTED_INPUT_HELP } from '../options.js'
import { checkInput } from '../outputs.js'
import { addReportOption, openReport } from '../report_option.js'

interface EvalFlags {
  lpips?: string
  device: string
  threads?: number
  frames?: number
  report?: string
  trustedInput?: boolean
}

interface PairScores {
  ref: string
  test: string
  frames: number
  width: number
  height: number
  psnr: number
  /** Absent when the frames are smaller than SSIM's 7x7 window (then ssimOmitted says so). */
  ssim?: number
  ssimOmitted?: string
  lpips?: number
  perFrame: { psnr: number[]; ssim: number[]; lpips?: number[] }
}

/** `SSIM 0.9123`, or `SSIM n/a (why)` for frames it is not defined on. */
function ssimText(ssim: number | undefined, omitted: string | undefined): string {
  return ssim === undefined ? `SSIM n/a (${omitted})` : `SSIM ${ssim.toFixed(4)}`
}

export function registerEval(program: Command, run: Runner): Command {
  const cmd = program
    .command('eval')
    .description('PSNR/SSIM (and LPIPS) of reconstructions against references, with the official protocol')
    .argument('<ref>', 'reference video, or a directory of them')
    .argument('<test>', 'reconstructed video, or a directory of them')
    .option('--lpips <file.pt>', 'also LPIPS: a TorchScript module called as m(x, y) on [1,3,H,W] frames in [-1,1] (mean of its output per frame)')
    .option('--frames <n>', 'score only the first n frames of each video', intArg('--frames', 1))
    .option('--trusted-input', TRUSTED_INPUT_HELP)
    .addOption(new Option('--device <device>', "device of the LPIPS module: 'cpu', 'cuda' or 'cuda:N'").argParser(deviceArg).default('cpu'))
    .option('--threads <n>', 'libtorch intra-op threads for LPIPS', threadsArg)
  addReportOption(cmd)
  addOutputFlags(cmd)
  cmd.addHelpText(
    'after',
    '\nDirectories are paired by sorted position, like the official evaluation script: the k-th file of\n' +
      'sorted(REF) with the k-th file of sorted(TEST); names may differ, e.g. 8.mp4 and 8_reconstructed.mp4.\n' +
      'Only video and image files count (captions and hidden files are skipped) and the counts must match.\n' +
      'Both videos of a pair must have the same frame count and size.\n' +
      'Means are over all frames of all pairs (frame-weighted). A failed pair does not stop the others (exit 3).',
  )
  return cmd.action(run(evaluate))
}

/** File extensions taken from directories (captions, notes and the like are skipped). */
const MEDIA_EXTENSIONS = new Set(['.mp4', '.m4v', '.mov', '.mkv', '.webm', '.avi', '.mpg', '.mpeg', '.ts', '.wmv', '.flv', '.gif', '.y4m', ...IMAGE_EXTENSIONS])

/** Non-hidden video and image files of a directory, sorted like Python's sorted() (by code point). */
function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.') && MEDIA_EXTENSIONS.has(path.extname(n).toLowerCase()) && statSync(path.join(dir, n)).isFile())
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((n) => path.join(dir, n))
}

/** The pairs to score: two files, or two directories paired by sorted position. */
export function pairInputs(ref: string, test: string): [string, string][] {
  checkInput(ref, true)
  checkInput(test, true)
  const refDir = statSync(ref).isDirectory()
  const testDir = statSync(test).isDirectory()
  if (refDir !== testDir) throw usageError(`REF and TEST must both be files or both be directories (${refDir ? ref : test} is a directory)`)
  if (!refDir) return [[ref, test]]
  const a = listFiles(ref)
  const b = listFiles(test)
  if (a.length === 0) throw new CliError('ERR_NOT_FOUND', `${ref} holds no files`)
  if (a.length !== b.length) {
    throw new CliError('ERR_MISMATCH', `${ref} holds ${a.length} files but ${test} holds ${b.length}; pairing is by sorted position, so the counts must match`)
  }
  return a.map((f, i) => [f, b[i]!])
}

/** Hands out single frames of a chunked read. */
class Frames {
  #chunk: FrameChunk | undefined
  #index = 0
  constructor(private readonly it: AsyncGenerator<FrameChunk, void, undefined>) {}

  async next(): Promise<{ data: Uint8Array; width: number; height: number } | null> {
    while (this.#chunk === undefined || this.#index >= this.#chunk.shape[0]) {
      const r = await this.it.next()
      if (r.done === true) return null
      this.#chunk = r.value
      this.#index = 0
    }
    const [, h, w] = this.#chunk.shape
    const size = h * w * 3
    const data = this.#chunk.frames.subarray(this.#index * size, (this.#index + 1) * size)
    this.#index++
    return { data, width: w, height: h }
  }

  async close(): Promise<void> {
    await this.it.return(undefined)
  }
}

async function lpipsOf(module: TorchModule, a: Uint8Array, b: Uint8Array, w: number, h: number): Promise<number> {
  const x = Tensor.from(frameToUnitCHW(a, h, w), [1, 3, h, w], { device: module.device })
  const y = Tensor.from(frameToUnitCHW(b, h, w), [1, 3, h, w], { device: module.device })
  try {
    const out = await module.forward(x, y)
    const t = Array.isArray(out) ? out[0] : out
    if (!(t instanceof Tensor)) throw new CliError('ERR_LPIPS', 'the LPIPS module did not return a tensor')
    try {
      const f = t.dtype === 'float32' ? t : await t.to({ dtype: 'float32' })
      let values: Float32Array
      try {
        values = (await f.data()) as Float32Array
      } finally {
        if (f !== t) f.dispose()
      }
      let s = 0
      for (const v of values) s += v
      return s / values.length
    } finally {
      t.dispose()
    }
  } finally {
    x.dispose()
    y.dispose()
  }
}

async function scorePair(
  ctx: Context,
  ref: string,
  test: string,
  flags: EvalFlags,
  lpips: TorchModule | undefined,
  perFrame: { psnr: number[]; ssim: number[]; lpips: number[] },
  recorder?: PairRecorder,
): Promise<PairScores> {
  const opts = {
    chunkFrames: 16,
    signal: ctx.signal,
    ...(flags.frames === undefined ? {} : { count: flags.frames }),
    ...(flags.trustedInput === true ? { trusted: true } : {}),
  }
  const a = new Frames(
    readVideoWithPlan(ref, opts, (plan) => {
      if (recorder) recorder.fps = plan.fps
    }),
  )
  const b = new Frames(readVideoWithPlan(test, opts))
  const scores = { psnr: [] as number[], ssim: [] as number[], lpips: [] as number[] }
  let width = 0
  let height = 0
  const bar = ctx.progress('eval', 'frames')
  try {
    for (;;) {
      const [x, y] = await Promise.all([a.next(), b.next()])
      if (x === null || y === null) {
        if (x !== null || y !== null) {
          const n = scores.psnr.length
          throw new VideoIOError('ERR_MISMATCH', `frame counts differ: ${x === null ? ref : test} ends after ${n} frames, ${x === null ? test : ref} has more`)
        }
        break
      }
      if (x.width !== y.width || x.height !== y.height) {
        throw new VideoIOError('ERR_MISMATCH', `frame sizes differ: ${ref} is ${x.width}x${x.height}, ${test} is ${y.width}x${y.height}`)
      }
      width = x.width
      height = x.height
      const s = compareFrames(x.data, y.data, width, height)
      scores.psnr.push(s.psnr)
      if (!Number.isNaN(s.ssim)) scores.ssim.push(s.ssim)
      if (lpips) scores.lpips.push(await lpipsOf(lpips, x.data, y.data, width, height))
      await recorder?.add(scores.psnr.length - 1, x.data, y.data, width, height)
      bar.update(scores.psnr.length)
    }
  } finally {
    bar.finish()
    await Promise.all([a.close(), b.close()])
  }
  perFrame.psnr.push(...scores.psnr)
  perFrame.ssim.push(...scores.ssim)
  perFrame.lpips.push(...scores.lpips)
  return {
    ref,
    test,
    frames: scores.psnr.length,
    width,
    height,
    psnr: mean(scores.psnr),
    ...(scores.psnr.length > 0 && scores.ssim.length === 0 ? { ssimOmitted: ssimUndefinedReason(width, height)! } : { ssim: mean(scores.ssim) }),
    ...(lpips ? { lpips: mean(scores.lpips) } : {}),
    perFrame: { psnr: scores.psnr, ssim: scores.ssim, ...(lpips ? { lpips: scores.lpips } : {}) },
  }
}

/**
 * Puts a scored pair in the report, pointing it at the pair's numbers in the JSON result. Its
 * failure (ERR_REPORT) fails the run: the pair itself was scored.
 */
async function addToReport(report: HtmlReport, recorder: PairRecorder, s: PairScores, index: number, pairCount: number): Promise<void> {
  const name = pairCount > 1 ? `${path.basename(s.ref)} ~ ${path.basename(s.test)}` : path.basename(s.ref)
  try {
    await report.addPair(recorder, { name, ref: s.ref, test: s.test, result: `/pairs/${index}` })
  } catch (err) {
    throw new CliError('ERR_REPORT', `cannot make the report ${report.file}: ${oneLine(err)}`, EXIT.FAILURE, { cause: err })
  }
}

function mean(v: number[]): number {
  return v.length === 0 ? NaN : v.reduce((a, b) => a + b, 0) / v.length
}

async function evaluate(ctx: Context, ref: string, test: string, flags: EvalFlags): Promise<number> {
  const pairs = pairInputs(ref, test)
  const report = openReport(flags.report, pairs.length, pairs.flat())
  if (report) ctx.recordTranscript()
  let lpips: TorchModule | undefined
  if (flags.lpips !== undefined) {
    checkInput(flags.lpips)
    if (flags.threads !== undefined) setNumThreads(flags.threads)
    lpips = await TorchModule.load(path.resolve(flags.lpips), { device: flags.device })
  }
  try {
    const all = { psnr: [] as number[], ssim: [] as number[], lpips: [] as number[] }
    const results: PairScores[] = []
    const failed: { ref: string; test: string; code: string; message: string }[] = []
    for (const [r, t] of pairs) {
      const recorder = report?.recorder(`${r} ~ ${t}`)
      try {
        const s = await scorePair(ctx, r, t, flags, lpips, all, recorder)
        results.push(s)
        if (recorder) await addToReport(report!, recorder, s, results.length - 1, pairs.length)
        if (pairs.length > 1) {
          ctx.print(
            `${path.basename(r)} ~ ${path.basename(t)}: PSNR ${s.psnr.toFixed(4)} dB  ${ssimText(s.ssim, s.ssimOmitted)}${s.lpips === undefined ? '' : `  LPIPS ${s.lpips.toFixed(4)}`}  (${s.frames} frames)`,
          )
        }
      } catch (err) {
        if (recorder) report!.drop(recorder)
        if (isAbort(err) || ctx.signal.aborted || pairs.length === 1 || errorCode(err) === 'ERR_REPORT') throw err
        failed.push({ ref: r, test: t, code: errorCode(err), message: oneLine(err) })
        process.stderr.write(`${formatError(err, ctx.verbose)}\n`)
      }
    }
    // SSIM's mean is over the frames that have one (at least 7x7).
    const ssimFrames = all.ssim.length
    const total: { pairs: number; frames: number; psnr: number; ssim?: number; ssimOmitted?: string; ssimFrames?: number; lpips?: number } = {
      pairs: results.length,
      frames: all.psnr.length,
      psnr: mean(all.psnr),
      ...(ssimFrames === 0 && all.psnr.length > 0
        ? { ssimOmitted: results.length === 1 ? results[0]!.ssimOmitted! : `every pair's frames are smaller than SSIM's ${SSIM_WINDOW}x${SSIM_WINDOW} window` }
        : { ssim: mean(all.ssim) }),
      ...(ssimFrames > 0 && ssimFrames < all.psnr.length ? { ssimFrames } : {}),
      ...(lpips ? { lpips: mean(all.lpips) } : {}),
    }
    const partial =
      total.ssimFrames === undefined
        ? ''
        : ` over ${total.ssimFrames} of ${total.frames} frames (the others are smaller than its ${SSIM_WINDOW}x${SSIM_WINDOW} window)`
    const directories = pairs.length > 1 || statSync(ref).isDirectory()
    const result = { pairing: directories ? 'sorted-position' : 'files', pairs: results, failed, mean: total, ...(report ? { report: report.file } : {}) }
    const summary =
      `${pairs.length > 1 ? `mean over ${total.frames} frames of ${total.pairs} pair(s), paired by sorted position: ` : ''}` +
      `PSNR ${total.psnr.toFixed(4)} dB  ${ssimText(total.ssim, total.ssimOmitted)}${partial}${total.lpips === undefined ? '' : `  LPIPS ${total.lpips.toFixed(4)}`}` +
      `${pairs.length > 1 ? '' : `  (${total.frames} frames)`}\n` +
      (failed.length === 0 ? '' : `${failed.length} of ${pairs.length} pair(s) failed\n`)
    // The page is written before anything is printed, so a failed write leaves no success on stdout.
    await report?.write({
      title: `videovae eval ${ref} ${test}`,
      protocol: 'Per-frame PSNR and SSIM on 8-bit RGB, means over all frames of all pairs (the VideoVAE+ evaluation protocol).',
      result,
      transcript: ctx.transcript + summary,
      index: directories,
      replacer: jsonReplacer,
    })
    ctx.result(result)
    ctx.print(summary)
    if (failed.length === 0) return EXIT.OK
    return failed.length === pairs.length ? EXIT.FAILURE : EXIT.MISMATCH
  } finally {
    report?.abort()
    lpips?.dispose()
  }
}
