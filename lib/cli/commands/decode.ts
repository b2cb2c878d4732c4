/** `videovae decode LATENT.safetensors -o OUT.mp4|OUT_%04d.png`: a latent file back to frames. */
import type { Command } from 'commander'

import { checkMemoryLimit } from '../../memory_limit.js'
import { readSafetensors } from '../../safetensors.js'
import type { Tensor } from '../../tensor.js'
import type { Context } from '../context.js'
import { CliError } from '../errors.js'
import { checkFrameCount, writeFrameStream } from '../frames.js'
import { decodeHints } from '../latent_file.js'
import type { Runner } from '../runner.js'
import { loadModel } from '../model.js'
import {
  addLimitOptions,
  addModelOptions,
  addOutputFlags,
  addRunOptions,
  intArg,
  rateArg,
  runOptions,
  type LimitFlags,
  type ModelFlags,
  type RunFlags,
} from '../options.js'
import { checkInput, checkWritableFile } from '../outputs.js'
import { latentChunks } from '../../engine/latent_ops.js'
import { decodeStream } from '../../engine/streams.js'
import { readAhead } from '../../io/read_ahead.js'
import { memory, transfersSince } from '../../runtime.js'
import { engineOptions } from '../pipeline.js'
import { checkText, requireTextFlag, resolveText, type TextInputs } from '../text.js'

interface DecodeFlags extends ModelFlags, RunFlags, LimitFlags {
  output: string
  crf: number
  fps?: string
  crop: boolean
  textEmbedding?: string
  caption?: string
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
    .option('--caption <text>', 'caption for text bundles exported with --t5 (default: the one stored in the latent file)')
    .option('--text-embedding <file>', 'caption embeddings for text bundles (default: the ones stored in the latent file)')
  addRunOptions(cmd, 'latent chunking in output frames, as --chunk-frames of encode (default: what the latent was encoded with; 0 = the whole latent at once)')
  addLimitOptions(cmd)
  addModelOptions(cmd)
  addOutputFlags(cmd)
  cmd.addHelpText(
    'after',
    "\nUses the latent file's metadata: fps, the frame count (the encoder pads T to a multiple of 4), the\n" +
      'original frame size (to crop --fit pad padding) and the chunking. Frames are written as they are decoded.',
  )
  return cmd.action(run(decode))
}

async function decode(ctx: Context, latentFile: string, flags: DecodeFlags): Promise<void> {
  checkInput(latentFile)
  checkWritableFile(flags.output)
  const started = performance.now()
  const vae = await loadModel(flags)
  const owned: Tensor[] = []
  const before = memory().transfers
  try {
    const { tensors, metadata } = await readSafetensors(latentFile, { device: vae.device })
    owned.push(...Object.values(tensors))
    const latent = tensors.latent
    if (latent === undefined) {
      throw new CliError('ERR_LATENT', `${latentFile} has no tensor "latent" (it has: ${Object.keys(tensors).join(', ') || 'none'})`)
    }
    const hints = decodeHints(metadata)
    if (flags.fps === undefined && hints.fpsProblem !== undefined) {
      throw new CliError(
        'ERR_LATENT',
        `${latentFile}: the frame rate in its metadata cannot be used: ${hints.fpsProblem}; pass --fps RATE to choose the output's`,
      )
    }
    if (hints.sha256 !== undefined && hints.sha256 !== vae.info.sha256) {
      ctx.warn(
        `${latentFile} was encoded with another bundle (${hints.variant ?? '?'} ${hints.sha256.slice(0, 12)}) than this one (${vae.info.variant} ${vae.info.sha256.slice(0, 12)}); the output will not be a faithful decode`,
      )
    }
    let text: TextInputs | undefined
    if (flags.textEmbedding !== undefined || flags.caption !== undefined) {
      text = await resolveText(vae.info, flags, vae.device)
      if (text?.textEmbedding) owned.push(text.textEmbedding, ...(text.textMask ? [text.textMask] : []))
    } else if (vae.info.text && tensors.text_emb !== undefined) {
      text = checkText(tensors, metadata, vae.info, latentFile)
    } else if (vae.info.text) {
      // The caption the latent was encoded with (a bundle with T5 embeds it again).
      requireTextFlag(vae.info, undefined)
      text = metadata.caption === undefined ? undefined : { caption: metadata.caption }
    }
    const image = hints.image ?? false
    const chunk = flags.chunkFrames ?? hints.chunkFrames ?? 0
    const run = runOptions({ ...flags, chunkFrames: chunk }, image, vae.info)
    const s = latent.shape
    if (s.length !== 5 || s[0] !== 1) throw new CliError('ERR_LATENT', `${latentFile}: latent must be [1, z, T, h, w], got [${s}]`)
    const latentT = s[2]!
    const factor = image ? 1 : vae.info.compression.t
    const total = flags.crop && hints.frames !== undefined && hints.frames <= latentT * factor ? hints.frames : latentT * factor
    checkFrameCount(flags.output, total)
    const fullH = s[3]! * vae.info.compression.h
    const fullW = s[4]! * vae.info.compression.w
    const crop =
      flags.crop && hints.width !== undefined && hints.height !== undefined && hints.width <= fullW && hints.height <= fullH
        ? { width: hints.width, height: hints.height }
        : undefined
    const width = crop?.width ?? fullW
    const height = crop?.height ?? fullH
    const fps = flags.fps ?? hints.fps ?? '25'
    const step = chunk > 0 ? Math.max(1, Math.floor(chunk / factor)) : latentT
    // The decode job's memory, checked here to phrase the advice as flags (the API checks it too).
    checkMemoryLimit(
      vae.info,
      { batch: 1, frames: step * factor, height: fullH, width: fullW },
      { image, ...(run.tile ? { tile: run.tile } : {}) },
      { ...(flags.memoryLimit === undefined ? {} : { limit: flags.memoryLimit }), device: vae.device, subject: latentFile, style: 'cli' },
    )
    const bar = ctx.progress('decode', 'frames', total)
    let written = 0
    // Native views of the latent, one chunk each; the next chunk decodes while this one is written.
    const frames = readAhead(
      decodeStream(vae, latentChunks(latent, { step, factor, frames: total }), {
        ...engineOptions({ image, tile: run.tile, text, memoryLimit: flags.memoryLimit, signal: ctx.signal }),
        ...(crop ?? {}),
        onProgress: (f) => bar.update(f),
      }),
    )
    async function* counted(): AsyncGenerator<{ frames: Uint8Array; shape: [number, number, number, 3] }> {
      for await (const out of frames) {
        written += out.shape[0]
        bar.update(written)
        yield out
      }
    }
    try {
      await writeFrameStream(ctx, flags.output, counted(), { fps, crf: flags.crf, width, height })
    } finally {
      bar.finish()
    }
    const seconds = (performance.now() - started) / 1000
    ctx.result({
      input: latentFile,
      output: flags.output,
      frames: written,
      width,
      height,
      fps,
      chunkFrames: chunk,
      latentShape: s,
      seconds,
      transfers: transfersSince(before),
    })
    ctx.print(`${latentFile} -> ${flags.output}: ${written} frame(s) ${width}x${height} at ${fps} fps in ${seconds.toFixed(1)} s`)
  } finally {
    for (const t of owned) t.dispose()
    vae.dispose()
  }
}
