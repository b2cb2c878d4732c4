/**
 * `videovae embed-text --bundle B -o OUT.safetensors CAPTION...`: caption embeddings to a file
 * (text_emb [N,100,d] float32, text_mask [N,100] float32), e.g. to cache them apart from the VAE.
 */
import path from 'node:path'

import type { Command } from 'commander'

import { CaptionEncoder } from '../../caption_encoder.js'
import { writeSafetensors } from '../../safetensors.js'
import type { Context } from '../context.js'
import type { Runner } from '../runner.js'
import { addOutputFlags, deviceArg, threadsArg } from '../options.js'
import { setNumThreads } from '../../runtime.js'

interface EmbedFlags {
  bundle: string
  output: string
  clean: boolean
  device: string
  threads?: number
}

export function registerEmbedText(program: Command, run: Runner): Command {
  const cmd = program
    .command('embed-text')
    .description('write the T5 embeddings of captions to a .safetensors file (text_emb, text_mask)')
    .argument('<caption...>', 'captions (quote each one)')
    .requiredOption('--bundle <dir>', 'bundle exported with --t5 (or a text-only bundle)')
    .requiredOption('-o, --output <file>', 'output .safetensors file')
    .option('--no-clean', 'skip the official caption cleaning (clean_caption twice)')
    .option('--device <device>', "'cpu', 'cuda' or 'cuda:N'", deviceArg, 'cpu')
    .option('--threads <n>', "libtorch intra-op threads (default: libtorch's choice)", threadsArg)
  addOutputFlags(cmd)
  cmd.addHelpText('after', '\nA file with one caption can be passed to encode/decode/reconstruct --text-embedding.')
  return cmd.action(run(embedText))
}

async function embedText(ctx: Context, captions: string[], flags: EmbedFlags): Promise<void> {
  if (flags.threads !== undefined) setNumThreads(flags.threads)
  const started = performance.now()
  const encoder = await CaptionEncoder.load(path.resolve(flags.bundle), { device: flags.device as 'cpu' })
  try {
    const out = await encoder.embed(captions, { clean: flags.clean })
    try {
      ctx.throwIfAborted()
      await writeSafetensors(
        flags.output,
        { text_emb: out.embedding, text_mask: out.mask },
        {
          captions: JSON.stringify(out.captions),
          ...(out.captions.length === 1 ? { caption: out.captions[0]! } : {}),
          t5_dtype: encoder.info.dtype,
        },
      )
      const seconds = (performance.now() - started) / 1000
      ctx.result({
        output: path.resolve(flags.output),
        shape: out.embedding.shape,
        captions: out.captions,
        truncated: out.truncated,
        t5Dtype: encoder.info.dtype,
        seconds,
      })
      ctx.print(`wrote ${flags.output}: text_emb [${out.embedding.shape.join(', ')}] (T5 ${encoder.info.dtype}) in ${seconds.toFixed(1)} s`)
    } finally {
      out.embedding.dispose()
      out.mask.dispose()
    }
  } finally {
    encoder.dispose()
  }
}
