/** `videovae reconstruct VIDEO -o OUT.mp4`: encode + decode, with PSNR/SSIM against the input. */
import type { Command } from 'commander'

import { compareFrames } from '../../metrics/index.js'
import { Tensor } from '../../tensor.js'
import type { Context } from '../context.js'
import { CliError } from '../errors.js'
import { checkFrameCount, cropFrames, isImagePath, readClip, sideBySide, writeFrames } from '../frames.js'
import type { Runner } from '../main.js'
import { loadModel } from '../model.js'
import {
  addModelOptions,
  addOutputFlags,
  addReadOptions,
  addRunOptions,
  intArg,
  readOptions,
  runOptions,
  type ModelFlags,
  type ReadFlags,
  type RunFlags,
} from '../options.js'
import { checkInput, checkWritableFile } from '../outputs.js'
import { loadTextEmbedding, requireTextFlag, type TextInputs } from '../text.js'

interface ReconstructFlags extends ModelFlags, ReadFlags, RunFlags {
  output: string
  sideBySide?: string
  crf: number
  textEmbedding?: string
}

export function registerReconstruct(program: Command, run: Runner): Command {
  const cmd = program
    .command('reconstruct')
    .description('encode and decode a video (or image), write the result and print PSNR/SSIM against the input')
    .argument('<video>', 'video or image file')
    .requiredOption('-o, --output <path>', 'OUT.mp4 (any ffmpeg container), OUT_%04d.png (sequence), or OUT.png for one frame')
    .option('--side-by-side <path>', 'also write input | reconstruction next to each other')
    .option('--crf <n>', 'x264 constant rate factor of video outputs (0 = lossless)', intArg('--crf', 0), 15)
    .option('--text-embedding <file>', 'caption embeddings for text bundles: .safetensors with text_emb [1,L,1024] and text_mask [1,L]')
  addReadOptions(cmd)
  addRunOptions(cmd)
  addModelOptions(cmd)
  addOutputFlags(cmd)
  cmd.addHelpText(
    'after',
    '\nPSNR and SSIM are computed per frame on 8-bit RGB (the official protocol) between the frames as read\n' +
      '(after --start/--frames/--fps/--fit, padding cropped) and the reconstruction before video encoding;\n' +
      "use 'videovae eval' to score the written file instead.",
  )
  return cmd.action(run(reconstruct))
}

async function reconstruct(ctx: Context, input: string, flags: ReconstructFlags): Promise<void> {
  checkInput(input)
  checkWritableFile(flags.output)
  if (flags.sideBySide !== undefined) checkWritableFile(flags.sideBySide)
  const image = flags.image === true || isImagePath(input)
  const run = runOptions(flags, image)
  const started = performance.now()
  const vae = await loadModel(flags)
  let text: TextInputs | undefined
  try {
    requireTextFlag(vae.info, flags.textEmbedding)
    if (flags.textEmbedding !== undefined) text = await loadTextEmbedding(flags.textEmbedding, vae.info, vae.device)
    const clip = await readClip(ctx, input, readOptions(flags))
    const rules = vae.info.rules
    if (clip.h % rules.hwMultiple !== 0 || clip.w % rules.hwMultiple !== 0) {
      throw new CliError('ERR_SHAPE', `${input}: frames are ${clip.w}x${clip.h}, not multiples of ${rules.hwMultiple}; use --fit pad, crop or resize`)
    }
    if (!image && clip.t < rules.tMin) {
      throw new CliError('ERR_SHAPE', `${input}: the video path needs at least ${rules.tMin} frames, got ${clip.t}; use --image for stills`)
    }
    checkFrameCount(flags.output, clip.t)
    if (flags.sideBySide !== undefined) checkFrameCount(flags.sideBySide, clip.t)
    const video = Tensor.from(clip.frames, [1, clip.t, clip.h, clip.w, 3], { dtype: 'uint8' })
    const bar = ctx.progress('reconstruct', 'frames', clip.t)
    let out: Tensor
    try {
      // encode and decode report their units separately: the bar covers both halves.
      let half = 0
      out = await vae.reconstruct(video, {
        ...run,
        ...(text ? { textEmbedding: text.textEmbedding, ...(text.textMask ? { textMask: text.textMask } : {}) } : {}),
        output: 'uint8',
        signal: ctx.signal,
        onProgress: (done, total) => {
          bar.update(Math.round(((half + done / total) / 2) * clip.t))
          if (done >= total) half = 1
        },
      })
    } finally {
      bar.finish()
      video.dispose()
    }
    let recon: Uint8Array
    try {
      recon = (await out.data()) as Uint8Array
    } finally {
      out.dispose()
    }
    const { t, width, height } = { t: clip.t, width: clip.width, height: clip.height }
    const original = cropFrames(clip.frames, t, clip.h, clip.w, width, height)
    const result = cropFrames(recon, t, clip.h, clip.w, width, height)
    const size = width * height * 3
    const psnrs: number[] = []
    const ssims: number[] = []
    for (let f = 0; f < t; f++) {
      const s = compareFrames(original.subarray(f * size, (f + 1) * size), result.subarray(f * size, (f + 1) * size), width, height)
      psnrs.push(s.psnr)
      ssims.push(s.ssim)
    }
    const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length
    await writeFrames(ctx, flags.output, result, t, height, width, { fps: clip.fps, crf: flags.crf })
    if (flags.sideBySide !== undefined) {
      await writeFrames(ctx, flags.sideBySide, sideBySide(original, result, t, height, width), t, height, width * 2, { fps: clip.fps, crf: flags.crf })
    }
    const seconds = (performance.now() - started) / 1000
    const summary = {
      input,
      output: flags.output,
      ...(flags.sideBySide === undefined ? {} : { sideBySide: flags.sideBySide }),
      frames: t,
      width,
      height,
      fps: clip.fps,
      bundle: { variant: vae.info.variant, sha256: vae.info.sha256 },
      psnr: mean(psnrs),
      ssim: mean(ssims),
      perFrame: { psnr: psnrs, ssim: ssims },
      seconds,
    }
    ctx.result(summary)
    ctx.print(
      `${input} -> ${flags.output}: ${t} frame(s) ${width}x${height} in ${seconds.toFixed(1)} s\n` +
        `PSNR ${summary.psnr.toFixed(2)} dB  SSIM ${summary.ssim.toFixed(4)}  (vs the input frames as read, before video encoding)`,
    )
  } finally {
    text?.textEmbedding.dispose()
    text?.textMask?.dispose()
    vae.dispose()
  }
}
