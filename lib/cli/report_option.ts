/** `--report FILE.html` of eval and reconstruct: the option and its checks before any work. */
import type { Command } from 'commander'

import { HtmlReport, PAIR_FRAME_BUDGET, PROXY_MAX_SIDE, REPORT_FRAME_BUDGET, reportPathClash } from '../report/index.js'
import { usageError } from './errors.js'
import { checkWritableFile } from './outputs.js'

export function addReportOption(cmd: Command): Command {
  return cmd
    .option(
      '--report <file.html>',
      'also write one self-contained HTML page (everything embedded: opens from disk, no network): reference, ' +
        'reconstruction and amplified difference playing in sync, per-frame PSNR/SSIM curves, heat maps, worst frames',
    )
    .addHelpText(
      'after',
      `\n--report embeds everything in the one HTML file (no folder beside it): the page's frames are JPEG proxies of at\n` +
        `most ${PROXY_MAX_SIDE} px a side, at most ${PAIR_FRAME_BUDGET} frames per pair and ${REPORT_FRAME_BUDGET} in all; a longer clip shows every 2nd,\n` +
        '4th, ... frame in the player while the curves keep every frame. The numbers are the --json output, embedded as is.',
    )
}

/** The report of a run, checked up front: a writable path that is none of the run's own files. */
export function openReport(file: string | undefined, pairCount: number, others: (string | undefined)[]): HtmlReport | undefined {
  if (file === undefined) return undefined
  const clash = reportPathClash(file, others)
  if (clash !== undefined) throw usageError(clash)
  checkWritableFile(file)
  return new HtmlReport(file, pairCount)
}
