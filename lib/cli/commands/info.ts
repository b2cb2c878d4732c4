/** `videovae info`: a bundle's manifest, the latent shape of an input size, a memory estimate. */
import type { Command } from 'commander'

import { readBundle, type BundleInfo } from '../../bundle.js'
import { memoryEstimate as jobMemoryEstimate } from '../../memory_limit.js'
import { latentShape as rulesLatentShape } from '../../rules.js'
import type { Context } from '../context.js'
import type { Runner } from '../runner.js'
import { bundleDirOf } from '../model.js'
import { addOutputFlags, addRunOptions, checkRunFlags, chunkOf, runOptions, sizeArg, type RunFlags } from '../options.js'

interface InfoFlags extends RunFlags {
  bundle?: string
  size?: [number, number, number]
  verify?: boolean
}

const MB = 1024 * 1024

export function registerInfo(program: Command, run: Runner): Command {
  const cmd = program
    .command('info')
    .description('describe a bundle (default: the embedded model), and the latent and memory of an input size')
    .option('--bundle <dir>', 'bundle directory (default: the embedded default model)')
    .option('--size <TxHxW>', 'input frames x height x width, e.g. 16x256x256', sizeArg)
    .option('--image', 'the image path (every frame a still)')
    .option('--verify', 'also check the sha256 of every bundle file')
  addRunOptions(cmd)
  addOutputFlags(cmd)
  cmd.addHelpText(
    'after',
    '\nThe memory estimate is rough: peak resident memory of one encode+decode on the CPU, modelled as\n' +
      '  weights x 2.2 (TorchScript load) + 300 MB (libtorch runtime) + frame buffers of one chunk (uint8 + float,\n' +
      '    in and out; chunks are streamed, so the clip length does not count)\n' +
      '  + 64 B x ch x (frames per chunk) x (pixels per tile)   (conv activations and im2col buffers, peak in the\n' +
      '    spatial decoder at full resolution; fitted to measurements of the ch32 model up to 8x192x192)\n' +
      '  + 8 B x frames per chunk x ((H/8)(W/8) per tile)^2     (exact mid-block attention: logits + softmax;\n' +
      '    bundles exported with --attention chunked bound this near 0.7 GB)\n' +
      'CUDA (cuDNN, no im2col) usually needs less; --chunk-frames and --tile lower the last two terms.',
  )
  return cmd.action(run(info))
}

/** Latent shape of a TxHxW input (padded to the bundle's rules first: lib/rules.ts). */
export function latentShape(info: BundleInfo, [t, h, w]: [number, number, number], image: boolean): number[] {
  return rulesLatentShape(info, 1, { frames: t, height: h, width: w }, image)
}

/** The rough memory model described in the help (bytes, per term). */
export function memoryEstimate(
  info: BundleInfo,
  [t, h, w]: [number, number, number],
  options: { image: boolean; chunkFrames?: number; tile?: { size: number; overlap?: number } },
): Record<string, number> {
  return jobMemoryEstimate(info, { batch: 1, frames: t, height: h, width: w }, options)
}

function fmtBytes(n: number): string {
  return n >= 1024 * MB ? `${(n / 1024 / MB).toFixed(1)} GB` : `${Math.round(n / MB)} MB`
}

async function info(ctx: Context, flags: InfoFlags): Promise<void> {
  const image = flags.image === true
  checkRunFlags(flags)
  const bundle = await readBundle(bundleDirOf(flags), { verify: flags.verify === true })
  const run = runOptions(flags, image, bundle)
  const out: Record<string, unknown> = { bundle, verified: flags.verify === true }
  let latent: number[] | undefined
  let memory: Record<string, number> | undefined
  if (flags.size) {
    latent = latentShape(bundle, flags.size, image)
    memory = memoryEstimate(bundle, flags.size, { ...run, chunkFrames: chunkOf(flags, image) })
    out.input = { frames: flags.size[0], height: flags.size[1], width: flags.size[2], image }
    out.chunkFrames = chunkOf(flags, image)
    out.latentShape = latent
    out.memoryEstimate = { bytes: memory, method: 'rough CPU model, see videovae info --help' }
  }
  ctx.result(out)
  const lines = [
    `bundle     ${bundle.dir}${flags.verify ? ' (sha256 verified)' : ''}`,
    `variant    ${bundle.variant} (${bundle.config}), latent channels ${bundle.latentChannels}, dtype ${bundle.dtype}${bundle.quantization ? ` (conv/linear weights int8, ${bundle.quantization.scheme})` : ''}`,
    `widths     ch ${bundle.widths.ch}, ch_mult [${bundle.widths.chMult}], res blocks ${bundle.widths.numResBlocks}, temporal hidden ${bundle.widths.hiddenChannel}${bundle.widths.normGroupChannels ? `, ${bundle.widths.normGroupChannels} channels per GroupNorm group` : ''}`,
    `compress   T/${bundle.compression.t}, H/${bundle.compression.h}, W/${bundle.compression.w}; input T a multiple of ${bundle.rules.tMultiple} (padded) and >= ${bundle.rules.tMin}, H and W multiples of ${bundle.rules.hwMultiple}`,
    `text       ${bundle.text ? `captions required (embeddings [B, <=${bundle.text.maxLength}, ${bundle.text.dim}])` : 'none'}`,
    `mode       ${bundle.mode}, attention ${bundle.attention}`,
    `torch      ${bundle.torchVersion}`,
    `manifest   sha256 ${bundle.sha256}`,
  ]
  if (latent && memory && flags.size) {
    const [t, h, w] = flags.size
    const chunk = chunkOf(flags, image)
    lines.push(
      `input      ${t}x${h}x${w}${image ? ' (image path)' : ''} -> latent [${latent.join(', ')}], ${chunk > 0 ? `chunks of ${chunk} frame(s)` : 'one chunk'}`,
    )
    const hw = bundle.rules.hwMultiple
    if (h % hw !== 0 || w % hw !== 0) lines.push(`           (H and W are not multiples of ${hw}: encode pads them with --fit pad, the default)`)
    lines.push(
      `memory     ~${fmtBytes(memory.total!)} peak on the CPU (weights ${fmtBytes(memory.weights!)}, runtime ${fmtBytes(memory.runtime!)}, ` +
        `frames ${fmtBytes(memory.frameBuffers!)}, activations ${fmtBytes(memory.activations!)}, attention ${fmtBytes(memory.attention!)}); rough, see --help`,
    )
  }
  ctx.print(lines.join('\n'))
}
