/** `videovae reconstruct VIDEO -o OUT.mp4`: encode + decode, with PSNR/SSIM against the input. */
import path from 'node:path'

import type { Command } from 'commander'

import { compareFrames, ssimUndefinedReason } from '../../metrics/index.js'
import { jsonReplacer, type Context } from '../context.js'
import { checkFrameCount, cropFrames, IMAGE_EXTENSIONS, isSingleImagePath, sideBySide, writeFrameStream } from '../frames.js'
import type { Runner } from '../runner.js'
import { bundleRules, loadModel } from '../model.js'
import {
  addModelOptions,
  addLimitOptions,
  addOutputFlags,
  addReadOptions,
  addRunOptions,
  chunkOf,
  intArg,
  readOptions,
  runOptions,
  type LimitFlags,
  type ModelFlags,
  type ReadFlags,
  type RunFlags,
} from '../options.js'
import { checkInput, checkWritableFile } from '../outputs.js'
import { addReportOption, openReport } from '../report_option.js'
import { reconstructStream, type ReconstructStreamOptions } from '../../engine/streams.js'
import { cudnnBenchmarkState, memory, transfersSince } from '../../runtime.js'
import { checkGeometry, checkReadMemory, engineOptions, FrameQueue, readChunks, type ReadInfo } from '../pipeline.js'
import { resolveText, type TextInputs } from '../text.js'

interface ReconstructFlags extends ModelFlags, ReadFlags, RunFlags, LimitFlags {
  output: string
  sideBySide?: string
  crf: number
  textEmbedding?: string
  caption?: string
  report?: string
}

export function registerReconstruct(program: Command, run: Runner): Command {
  const cmd = program
    .command('reconstruct')
    .description('encode and decode a video (or image), write the result and print PSNR/SSIM against the input')
    .argument('<video>', 'video or image file')
    .requiredOption('-o, --output <path>', 'OUT.mp4 (any ffmpeg container), OUT_%04d.png (sequence), or OUT.png for one frame')
    .option('--side-by-side <path>', 'also write input | reconstruction next to each other')
    .option('--crf <n>', 'x264 constant rate factor of video outputs (0 = lossless)', intArg('--crf', 0), 15)
    .option('--caption <text>', 'caption for text bundles exported with --t5 (default: the empty caption, like the official inference)')
    .option('--text-embedding <file>', 'caption embeddings for text bundles: .safetensors with text_emb [1,L,1024] and text_mask [1,L]')
  addReportOption(cmd)
  addReadOptions(cmd)
  addRunOptions(cmd)
  addLimitOptions(cmd)
  addModelOptions(cmd)
  addOutputFlags(cmd)
  cmd.addHelpText(
    'after',
    '\nPSNR and SSIM are computed per frame on 8-bit RGB (the official protocol) between the frames as read\n' +
      '(after --start/--frames/--fps/--fit, padding cropped) and the reconstruction before video encoding;\n' +
      "use 'videovae eval' to score the written file instead. Chunks are read, reconstructed and written one\n" +
      'at a time (the official process_in_chunks), so memory does not grow with the length of the video.',
  )
  return cmd.action(run(reconstruct))
}

async function reconstruct(ctx: Context, input: string, flags: ReconstructFlags): Promise<void> {
  checkInput(input)
  checkWritableFile(flags.output)
  if (flags.sideBySide !== undefined) checkWritableFile(flags.sideBySide)
  const report = openReport(flags.report, 1, [input, flags.output, flags.sideBySide])
  const recorder = report?.recorder(input)
  const image = flags.image === true || isSingleImagePath(input)
  const run = runOptions(flags, image, await bundleRules(flags))
  const chunk = chunkOf(flags, image)
  const started = performance.now()
  const vae = await loadModel(flags)
  let text: TextInputs | undefined
  const queues: FrameQueue[] = []
  const writers: Promise<void>[] = []
  let writeFailure: unknown
  try {
    text = await resolveText(vae.info, flags, vae.device)
    let info: ReadInfo | undefined
    const bar = ctx.progress('reconstruct', 'frames')
    const psnrs: number[] = []
    const ssims: number[] = []
    const startWriters = (i: ReadInfo): void => {
      const targets: [string, number][] = [[flags.output, i.width]]
      if (flags.sideBySide !== undefined) targets.push([flags.sideBySide, i.width * 2])
      for (const [file, width] of targets) {
        const queue = new FrameQueue()
        queues.push(queue)
        const writer = writeFrameStream(ctx, file, queue, { fps: i.fps, crf: flags.crf, width, height: i.height })
        writer.catch((err: unknown) => (writeFailure ??= err))
        writers.push(writer)
      }
    }
    let frames = 0
    const before = memory().transfers
    try {
      const options: ReconstructStreamOptions = {
        ...engineOptions({ image, tile: run.tile, text, memoryLimit: flags.memoryLimit, signal: ctx.signal }),
        chunkFrames: chunk,
        onProgress: (f) => bar.update(f),
      }
      const blocks = readChunks(ctx, input, readOptions(flags, vae.info), chunk, (i) => {
        checkGeometry(input, i, vae)
        checkReadMemory(input, i, vae, readOptions(flags, vae.info), { image, chunk, ...(run.tile ? { tile: run.tile } : {}), memoryLimit: flags.memoryLimit })
        if (i.total !== undefined) checkFrameCount(flags.output, i.total)
        info = i
        // The engine crops its output to the size before --fit pad (natively); set before the first chunk runs.
        options.height = i.height
        options.width = i.width
        bar.update(0, i.total)
      })
      const chunks = reconstructStream(vae, blocks, options)
      for await (const c of chunks) {
        const i = info as ReadInfo
        if (writers.length === 0) startWriters(i)
        if (recorder && frames === 0) recorder.fps = i.plan.fps
        const [t, h, w] = c.input.shape
        const decoded = { frames: c.frames, shape: c.shape }
        const original = cropFrames(c.input.frames, t, h, w, i.width, i.height)
        const size = i.width * i.height * 3
        for (let f = 0; f < t; f++) {
          const s = compareFrames(original.subarray(f * size, (f + 1) * size), decoded.frames.subarray(f * size, (f + 1) * size), i.width, i.height)
          psnrs.push(s.psnr)
          if (!Number.isNaN(s.ssim)) ssims.push(s.ssim)
          await recorder?.add(frames + f, original.subarray(f * size, (f + 1) * size), decoded.frames.subarray(f * size, (f + 1) * size), i.width, i.height)
        }
        if (writeFailure !== undefined) throw writeFailure
        queues[0]!.push(decoded)
        queues[1]?.push({ frames: sideBySide(original, decoded.frames, t, i.height, i.width), shape: [t, i.height, i.width * 2, 3] })
        frames += t
        bar.update(frames)
      }
    } finally {
      bar.finish()
    }
    for (const q of queues) q.close()
    await Promise.all(writers)
    const i = info as ReadInfo
    const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length
    const seconds = (performance.now() - started) / 1000
    // Frames below SSIM's 7x7 window: PSNR alone, and the output says why.
    const ssimOmitted = ssimUndefinedReason(i.width, i.height)
    const summary = {
      input,
      output: flags.output,
      ...(flags.sideBySide === undefined ? {} : { sideBySide: flags.sideBySide }),
      frames,
      width: i.width,
      height: i.height,
      fps: i.fps,
      chunkFrames: chunk,
      crf: flags.crf,
      bundle: { variant: vae.info.variant, sha256: vae.info.sha256 },
      device: vae.device,
      cudnnBenchmark: cudnnBenchmarkState(vae.device),
      psnr: mean(psnrs),
      ...(ssimOmitted === null ? { ssim: mean(ssims) } : { ssimOmitted }),
      perFrame: { psnr: psnrs, ...(ssimOmitted === null ? { ssim: ssims } : {}) },
      seconds,
      transfers: transfersSince(before),
      ...(report ? { report: report.file } : {}),
    }
    const printed =
      `${input} -> ${flags.output}: ${frames} frame(s) ${i.width}x${i.height} in ${seconds.toFixed(1)} s\n` +
      `PSNR ${summary.psnr.toFixed(2)} dB  ${ssimOmitted === null ? `SSIM ${mean(ssims).toFixed(4)}` : `SSIM n/a (${ssimOmitted})`}  (vs the input frames as read, before video encoding)\n`
    if (report && recorder) {
      await report.addPair(recorder, { name: path.basename(input), ref: input, test: flags.output, result: '' })
      await report.write({
        title: `videovae reconstruct ${input}`,
        protocol:
          `Per-frame PSNR and SSIM on 8-bit RGB between the input frames as read and the reconstruction before video encoding; ` +
          `${image ? 'the image path (every frame a still)' : chunk === 0 ? 'the whole clip in one pass' : `independent chunks of ${chunk} frames (process_in_chunks)`}` +
          `${IMAGE_EXTENSIONS.has(path.extname(flags.output).toLowerCase()) ? '' : `, video output at crf ${flags.crf}`}.`,
        result: summary,
        transcript: printed,
        index: false,
        replacer: jsonReplacer,
      })
    }
    ctx.result(summary)
    ctx.print(printed)
  } catch (err) {
    // The writers discard their temporaries when their source fails.
    for (const q of queues) q.close(err)
    await Promise.allSettled(writers)
    throw err
  } finally {
    report?.abort()
    text?.textEmbedding?.dispose()
    text?.textMask?.dispose()
    vae.dispose()
  }
}
