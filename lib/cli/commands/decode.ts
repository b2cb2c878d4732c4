/** `videovae decode LATENT.safetensors -o OUT.mp4|OUT_%04d.png`: a latent file back to frames. */
import type { Command } from 'commander'

import { readSafetensors } from '../../safetensors.js'
import type { Tensor } from '../../tensor.js'
import type { Context } from '../context.js'
import { CliError } from '../errors.js'
import { checkFrameCount, cropFrames, writeFrames } from '../frames.js'
import { decodeHints } from '../latent_file.js'
import type { Runner } from '../main.js'
import { loadModel } from '../model.js'
import { addModelOptions, addOutputFlags, addRunOptions, intArg, rateArg, runOptions, type ModelFlags, type RunFlags } from '../options.js'
import { checkInput, checkWritableFile } from '../outputs.js'
import { checkText, loadTextEmbedding, requireTextFlag, type TextInputs } from '../text.js'

interface DecodeFlags extends ModelFlags, RunFlags {
  output: string
  crf: number
  fps?: string
  crop: boolean
  textEmbedding?: string
}

export function registerDecode(program: Command, run: Runner): Command {
  const cmd = program
    .command('decode')
    .description('decode a latent file (from videovae encode) to a video, an image sequence or an image')
    .argument('<latent>', '.safetensors latent file (tensor "latent" [1,z,T,h,w])')
    .requiredOption('-o, --output <path>', 'OUT.mp4 (any ffmpeg container), OUT_%04d.png / .jpg (sequence), or OUT.png for one frame')
    .option('--crf <n>', 'x264 constant rate factor of video outputs (0 = lossless)', intArg('--crf', 0), 15)
    .option('--fps <rate>', 'frame rate of the output (default: the one stored in the latent file, else 25)', rateArg)
    .option('--no-crop', 'keep the padding the encoder added (frames to a multiple of 4, --fit pad pixels)')
    .option('--text-embedding <file>', 'caption embeddings for text bundles (default: the ones stored in the latent file)')
  addRunOptions(cmd)
  addModelOptions(cmd)
  addOutputFlags(cmd)
  cmd.addHelpText('after', '\nUses the latent file\'s metadata: fps, the frame count (the encoder pads T to a multiple of 4) and the\noriginal frame size (to crop --fit pad padding).')
  return cmd.action(run(decode))
}

async function decode(ctx: Context, latentFile: string, flags: DecodeFlags): Promise<void> {
  checkInput(latentFile)
  checkWritableFile(flags.output)
  const started = performance.now()
  const vae = await loadModel(flags)
  const owned: Tensor[] = []
  try {
    const { tensors, metadata } = await readSafetensors(latentFile, { device: vae.device })
    owned.push(...Object.values(tensors))
    const latent = tensors.latent
    if (latent === undefined) {
      throw new CliError('ERR_LATENT', `${latentFile} has no tensor "latent" (it has: ${Object.keys(tensors).join(', ') || 'none'})`)
    }
    const hints = decodeHints(metadata)
    if (hints.sha256 !== undefined && hints.sha256 !== vae.info.sha256) {
      ctx.warn(`${latentFile} was encoded with another bundle (${hints.variant ?? '?'} ${hints.sha256.slice(0, 12)}) than this one (${vae.info.variant} ${vae.info.sha256.slice(0, 12)}); the output will not be a faithful decode`)
    }
    let text: TextInputs | undefined
    if (flags.textEmbedding !== undefined) {
      requireTextFlag(vae.info, flags.textEmbedding)
      text = await loadTextEmbedding(flags.textEmbedding, vae.info, vae.device)
      owned.push(text.textEmbedding, ...(text.textMask ? [text.textMask] : []))
    } else if (vae.info.text) {
      if (tensors.text_emb === undefined) requireTextFlag(vae.info, undefined)
      text = checkText(tensors, metadata, vae.info, latentFile)
    }
    const image = hints.image ?? false
    const run = runOptions(flags, image)
    const latentT = latent.shape[2] ?? 0
    const frames = flags.crop && hints.frames !== undefined && !image && hints.frames <= latentT * 4 ? hints.frames : undefined
    checkFrameCount(flags.output, image ? latentT : (frames ?? latentT * 4))
    const bar = ctx.progress('decode', 'frames', image ? latentT : latentT * 4)
    let out: Tensor
    try {
      out = await vae.decode(latent, {
        ...run,
        ...(frames === undefined ? {} : { frames }),
        ...(text ? { textEmbedding: text.textEmbedding, ...(text.textMask ? { textMask: text.textMask } : {}) } : {}),
        output: 'uint8',
        signal: ctx.signal,
        onProgress: (done, total) => bar.update(Math.round((done / total) * (image ? latentT : latentT * 4))),
      })
    } finally {
      bar.finish()
    }
    owned.push(out)
    const [, t, h, w] = out.shape as [number, number, number, number, number]
    let width = w
    let height = h
    if (flags.crop && hints.width !== undefined && hints.height !== undefined && hints.width <= w && hints.height <= h) {
      width = hints.width
      height = hints.height
    }
    const pixels = cropFrames((await out.data()) as Uint8Array, t, h, w, width, height)
    const fps = flags.fps ?? hints.fps ?? '25'
    await writeFrames(ctx, flags.output, pixels, t, height, width, { fps, crf: flags.crf })
    const seconds = (performance.now() - started) / 1000
    ctx.result({ input: latentFile, output: flags.output, frames: t, width, height, fps, latentShape: latent.shape, seconds })
    ctx.print(`${latentFile} -> ${flags.output}: ${t} frame(s) ${width}x${height} at ${fps} fps in ${seconds.toFixed(1)} s`)
  } finally {
    for (const t of owned) t.dispose()
    vae.dispose()
  }
}
