/** `videovae tokenize --bundle B CAPTION...`: the T5 token ids and masks of captions. */
import path from 'node:path'

import type { Command } from 'commander'

import { CaptionEncoder } from '../../caption_encoder.js'
import type { Context } from '../context.js'
import type { Runner } from '../runner.js'
import { addOutputFlags } from '../options.js'

interface TokenizeFlags {
  bundle: string
  clean: boolean
}

export function registerTokenize(program: Command, run: Runner): Command {
  const cmd = program
    .command('tokenize')
    .description('print the T5 token ids and attention masks of captions (a bundle with a text encoder, or a text-only bundle)')
    .argument('<caption...>', 'captions (quote each one)')
    .requiredOption('--bundle <dir>', 'bundle exported with --t5')
    .option('--no-clean', 'skip the official caption cleaning (clean_caption twice)')
  addOutputFlags(cmd)
  cmd.addHelpText('after', '\nIds match the Hugging Face T5 tokenizer: max_length 100 with truncation, </s> (1) appended, padding 0.')
  return cmd.action(run(tokenize))
}

async function tokenize(ctx: Context, captions: string[], flags: TokenizeFlags): Promise<void> {
  const encoder = await CaptionEncoder.load(path.resolve(flags.bundle), { verify: false })
  try {
    const t = encoder.tokenize(captions, { clean: flags.clean })
    const L = t.shape[1]
    const rows = captions.map((caption, i) => ({
      caption,
      cleaned: t.captions[i]!,
      ids: Array.from(t.ids.subarray(i * L, (i + 1) * L)),
      mask: Array.from(t.mask.subarray(i * L, (i + 1) * L)),
      length: t.lengths[i]!,
      truncated: t.fullLengths[i]! > L,
    }))
    ctx.result({ maxLength: L, captions: rows })
    for (const [i, r] of rows.entries()) {
      ctx.print(`${JSON.stringify(r.cleaned)}${r.truncated ? ` (truncated from ${t.fullLengths[i]} tokens)` : ''}`)
      ctx.print(`  ids:  ${r.ids.slice(0, r.length).join(' ')}${r.length < L ? ` + ${L - r.length} x 0` : ''}`)
      ctx.print(`  mask: ${r.length} x 1${r.length < L ? ` + ${L - r.length} x 0` : ''}`)
    }
  } finally {
    encoder.dispose()
  }
}
