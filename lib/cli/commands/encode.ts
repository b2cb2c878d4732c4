/** `videovae encode INPUT... -o OUT`: videos or images to latent .safetensors files. */
import path from 'node:path'

import type { Command } from 'commander'

import { catT } from '../../engine/latent_ops.js'
import { encodeStream, type LatentChunk } from '../../engine/streams.js'
import { memory, transfersSince, type TransferCounts } from '../../runtime.js'
import { type SafetensorsValue, writeSafetensors } from '../../safetensors.js'
import type { Tensor } from '../../tensor.js'
import type { VideoVAE } from '../../vae.js'
import type { Context } from '../context.js'
import { CliError, EXIT, errorCode, formatError, isAbort, oneLine } from '../errors.js'
import { isSingleImagePath } from '../frames.js'
import { latentMetadata } from '../latent_file.js'
import type { Runner } from '../runner.js'
import { loadModel } from '../model.js'
import {
  addModelOptions,
  addLimitOptions,
  addOutputFlags,
  addReadOptions,
  addRunOptions,
  checkRunFlags,
  chunkOf,
  intArg,
  readOptions,
  runOptions,
  type LimitFlags,
  type ModelFlags,
  type ReadFlags,
  type RunFlags,
} from '../options.js'
import { checkInput, outputsFor } from '../outputs.js'
import { checkGeometry, checkReadMemory, engineOptions, readChunks, type ReadInfo } from '../pipeline.js'
import { resolveText, type TextInputs } from '../text.js'

interface EncodeFlags extends ModelFlags, ReadFlags, RunFlags, LimitFlags {
  output: string
  posterior?: boolean
  sampleSeed?: number
  textEmbedding?: string
  caption?: string
}

interface EncodeResult {
  input: string
  output: string
  shape: number[]
  frames: number
  width: number
  height: number
  fps: string
  image: boolean
  chunkFrames: number
  seconds: number
  /** Copies between JS memory and native tensors this input made (memory().transfers). */
  transfers: TransferCounts
}

export function registerEncode(program: Command, run: Runner): Command {
  const cmd = program
    .command('encode')
    .description('encode videos or images to latents (.safetensors with the metadata decode needs)')
    .argument('<input...>', 'video or image files')
    .requiredOption('-o, --output <path>', 'output .safetensors file; a directory when there are several inputs')
    .option('--posterior', 'also store the posterior (tensors mean and logvar)')
    .option('--sample-seed <n>', 'sample the posterior with this seed instead of taking its mode', intArg('--sample-seed', 0))
    .option('--caption <text>', 'caption for text bundles exported with --t5 (default: the empty caption, like the official inference)')
    .option('--text-embedding <file>', 'caption embeddings for text bundles: .safetensors with text_emb [1,L,1024] and text_mask [1,L]')
  addReadOptions(cmd)
  addRunOptions(cmd)
  addLimitOptions(cmd)
  addModelOptions(cmd)
  addOutputFlags(cmd)
  cmd.addHelpText(
    'after',
    '\nThe latent file holds `latent` [1,z,T/4,H/8,W/8] (image path: [1,z,T,H/8,W/8]) and metadata: bundle\n' +
      'variant and manifest sha256, fps, frame count, original size and padding, caption. With several inputs,\n' +
      'each is written to OUTPUT/<name>.safetensors; a failed input does not stop the others (exit 3).',
  )
  return cmd.action(run(encode))
}

async function encode(ctx: Context, inputs: string[], flags: EncodeFlags): Promise<number> {
  checkRunFlags(flags) // usage errors first; the shape rules once the bundle is loaded
  const outputs = outputsFor(inputs, flags.output, '.safetensors')
  if (inputs.length === 1) checkInput(inputs[0]!)
  const vae = await loadModel(flags)
  let text: TextInputs | undefined
  try {
    text = await resolveText(vae.info, flags, vae.device)
    const results: EncodeResult[] = []
    const failures: { input: string; code: string; message: string }[] = []
    for (const [i, input] of inputs.entries()) {
      try {
        results.push(await encodeOne(ctx, vae, input, outputs[i]!, flags, text))
        const r = results[results.length - 1]!
        ctx.print(`${r.input} -> ${r.output}: latent [${r.shape.join(', ')}] from ${r.frames} frame(s) ${r.width}x${r.height} in ${r.seconds.toFixed(1)} s`)
      } catch (err) {
        if (isAbort(err) || ctx.signal.aborted || inputs.length === 1) throw err
        failures.push({ input, code: errorCode(err), message: oneLine(err) })
        process.stderr.write(`${formatError(err, ctx.verbose)}\n`)
      }
    }
    ctx.result({ bundle: { variant: vae.info.variant, sha256: vae.info.sha256 }, outputs: results, failed: failures })
    if (failures.length === 0) return EXIT.OK
    ctx.print(`${failures.length} of ${inputs.length} input(s) failed`)
    return failures.length === inputs.length ? EXIT.FAILURE : EXIT.MISMATCH
  } finally {
    text?.textEmbedding?.dispose()
    text?.textMask?.dispose()
    vae.dispose()
  }
}

async function encodeOne(ctx: Context, vae: VideoVAE, input: string, output: string, flags: EncodeFlags, text: TextInputs | undefined): Promise<EncodeResult> {
  const started = performance.now()
  checkInput(input)
  const image = flags.image === true || isSingleImagePath(input)
  const run = runOptions(flags, image, vae.info)
  const chunk = chunkOf(flags, image)
  // Sampling draws the noise of every chunk from one generator: the whole clip goes in one job.
  const sampling = flags.sampleSeed !== undefined
  let info: ReadInfo | undefined
  const bar = ctx.progress('encode', 'frames')
  const before = memory().transfers
  const parts: LatentChunk[] = []
  const owned: Tensor[] = []
  let frames = 0
  let h = 0
  let w = 0
  try {
    const blocks = readChunks(ctx, input, readOptions(flags, vae.info), sampling ? 0 : chunk, (i) => {
      checkGeometry(input, i, vae)
      checkReadMemory(input, i, vae, readOptions(flags, vae.info), {
        image,
        chunk,
        wholeClip: sampling,
        ...(run.tile ? { tile: run.tile } : {}),
        memoryLimit: flags.memoryLimit,
      })
      info = i
      h = i.plan.height
      w = i.plan.width
      bar.update(0, i.total)
    })
    const chunks = encodeStream(vae, blocks, {
      ...engineOptions({ image, tile: run.tile, text, memoryLimit: flags.memoryLimit, signal: ctx.signal }),
      chunkFrames: chunk,
      posterior: flags.posterior === true,
      ...(sampling ? { sample: { seed: flags.sampleSeed! } } : {}),
      onProgress: (f) => bar.update(f),
    })
    for await (const c of chunks) {
      parts.push(c)
      owned.push(c.latent, ...(c.mean ? [c.mean] : []), ...(c.logvar ? [c.logvar] : []))
      frames += c.frames
      bar.update(frames)
    }
  } catch (err) {
    for (const t of owned) t.dispose()
    throw err
  } finally {
    bar.finish()
  }
  if (info === undefined) throw new CliError('ERR_INTERNAL', 'no read plan')
  // The chunks are joined natively; each tensor is copied to the host once, by the file write.
  const tensors: Record<string, SafetensorsValue> = {}
  let latent: Tensor | undefined
  try {
    latent = await catT(parts.map((p) => p.latent))
    owned.push(latent)
    tensors.latent = latent
    if (flags.posterior) {
      tensors.mean = await catT(parts.map((p) => p.mean!))
      tensors.logvar = await catT(parts.map((p) => p.logvar!))
      owned.push(tensors.mean, tensors.logvar)
    }
  } catch (err) {
    for (const t of owned) t.dispose()
    throw err
  }
  // The text conditioning is already a Tensor.
  if (text?.textEmbedding) {
    tensors.text_emb = text.textEmbedding
    if (text.textMask) tensors.text_mask = text.textMask
  }
  const metadata = latentMetadata({
    variant: vae.info.variant,
    tMultiple: vae.info.rules.tMultiple,
    config: vae.info.config,
    sha256: vae.info.sha256,
    source: path.basename(input),
    fps: info.fps,
    frames,
    width: info.width,
    height: info.height,
    encodedWidth: w,
    encodedHeight: h,
    image,
    posterior: flags.posterior === true,
    chunkFrames: chunk,
    ...(flags.sampleSeed === undefined ? {} : { sampleSeed: flags.sampleSeed }),
    ...(text?.caption === undefined ? {} : { caption: text.caption }),
    ...(run.tile === undefined ? {} : { tile: run.tile }),
  })
  const shape = latent.shape
  try {
    ctx.throwIfAborted()
    await writeSafetensors(output, tensors, metadata)
  } finally {
    for (const t of owned) t.dispose()
  }
  return {
    input,
    output,
    shape,
    frames,
    width: info.width,
    height: info.height,
    fps: info.fps,
    image,
    chunkFrames: chunk,
    seconds: (performance.now() - started) / 1000,
    transfers: transfersSince(before),
  }
}
