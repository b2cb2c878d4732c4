/**
 * Quality of a bundle (default: the embedded default model) on the ../shared/eval clips, by the
 * official protocol: `videovae reconstruct` (chunks of 16 frames, libx264 crf 15 like the
 * official script), then `videovae eval` of the written mp4 against the source (per-frame RGB
 * PSNR and SSIM, mean over frames). Prints a markdown table beside the official figures.
 *
 *   npx tsx bench/eval_clips.ts [--bundle DIR] [--dtype float32|bfloat16] [--tile PX [--overlap PX]]
 *       [--untiled] [--clips 40,8] [--frames N] [--out DIR] [--json FILE]
 *
 * --untiled also runs every clip without tiles and reports the tiling cost (PSNR of the tiled run
 * minus the untiled one, and the PSNR between the two reconstructions).
 * The clips are read from ../shared/eval and never copied into the repository.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'

const root = path.resolve(__dirname, '..')
const evalDir = process.env.VIDEOVAE_SHARED ? path.join(process.env.VIDEOVAE_SHARED, 'eval') : path.resolve(root, '..', 'shared', 'eval')
// Official reconstructions' PSNR (shared/eval/README.md), dB.
const OFFICIAL: Record<string, number> = { '40': 29.15, '8': 37.12, animal: 37.95, closeshot: 39.86, face: 40.01, view: 37.45 }

const { values } = parseArgs({
  options: {
    bundle: { type: 'string' },
    dtype: { type: 'string', default: 'float32' },
    tile: { type: 'string' },
    overlap: { type: 'string' },
    untiled: { type: 'boolean', default: false },
    clips: { type: 'string' },
    frames: { type: 'string' },
    out: { type: 'string', default: path.join(root, '.cache', 'eval') },
    json: { type: 'string' },
  },
})

interface Score {
  psnr: number
  ssim: number
  frames: number
  seconds: number
}

function cli(args: string[]): Record<string, unknown> {
  const out = execFileSync(process.execPath, [path.join(root, 'bin', 'videovae.js'), ...args, '--json', '--quiet'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return JSON.parse(out) as Record<string, unknown>
}

function reconstruct(clip: string, output: string, tiled: boolean): Score {
  const args = ['reconstruct', clip, '-o', output, '--dtype', values.dtype as string, '--chunk-frames', '16']
  if (values.bundle) args.push('--bundle', values.bundle)
  if (values.frames) args.push('--frames', values.frames)
  if (tiled && values.tile) args.push('--tile', values.tile, ...(values.overlap ? ['--tile-overlap', values.overlap] : []))
  const started = performance.now()
  cli(args)
  const seconds = (performance.now() - started) / 1000
  const scored = cli(['eval', clip, output, ...(values.frames ? ['--frames', values.frames] : [])]).mean as Score
  return { psnr: scored.psnr, ssim: scored.ssim, frames: scored.frames, seconds }
}

function main(): void {
  const videos = path.join(evalDir, 'videos')
  if (!fs.existsSync(videos)) throw new Error(`no eval clips at ${videos} (set VIDEOVAE_SHARED)`)
  const wanted = values.clips?.split(',')
  const clips = fs
    .readdirSync(videos)
    .filter((f) => f.endsWith('.mp4'))
    .map((f) => f.slice(0, -4))
    .filter((c) => !wanted || wanted.includes(c))
    .sort()
  fs.mkdirSync(values.out as string, { recursive: true })
  const rows: Record<string, { tiled?: Score; untiled?: Score; between?: number }> = {}
  for (const clip of clips) {
    const src = path.join(videos, `${clip}.mp4`)
    const row: (typeof rows)[string] = {}
    const tiledOut = path.join(values.out as string, `${clip}_tiled.mp4`)
    const plainOut = path.join(values.out as string, `${clip}_untiled.mp4`)
    if (values.tile) row.tiled = reconstruct(src, tiledOut, true)
    if (values.untiled || !values.tile) row.untiled = reconstruct(src, plainOut, false)
    if (row.tiled && row.untiled) row.between = (cli(['eval', plainOut, tiledOut]).mean as Score).psnr
    rows[clip] = row
    console.error(`${clip}: ${JSON.stringify(row)}`)
  }
  const fmt = (s?: Score, key: 'psnr' | 'ssim' = 'psnr'): string => (s ? s[key].toFixed(key === 'psnr' ? 2 : 4) : '–')
  const lines = [
    `| clip | official PSNR | PSNR${values.tile ? ` (tiles ${values.tile})` : ''} | SSIM |${values.tile && values.untiled ? ' untiled PSNR | tiled − untiled | tiled vs untiled PSNR |' : ''} seconds |`,
    `|---|---|---|---|${values.tile && values.untiled ? '---|---|---|' : ''}---|`,
  ]
  for (const [clip, r] of Object.entries(rows)) {
    const main = r.tiled ?? r.untiled
    const extra = values.tile && values.untiled ? ` ${fmt(r.untiled)} | ${(r.tiled!.psnr - r.untiled!.psnr).toFixed(3)} | ${r.between!.toFixed(2)} |` : ''
    lines.push(`| ${clip} | ${OFFICIAL[clip]?.toFixed(2) ?? '–'} | ${fmt(main)} | ${fmt(main, 'ssim')} |${extra} ${main!.seconds.toFixed(0)} |`)
  }
  const mean = (f: (r: (typeof rows)[string]) => number | undefined): number => {
    const v = Object.values(rows)
      .map(f)
      .filter((x): x is number => x !== undefined)
    return v.reduce((a, b) => a + b, 0) / v.length
  }
  lines.push(
    `| **mean of clips** | ${mean((r) => OFFICIAL[Object.keys(rows).find((k) => rows[k] === r)!]).toFixed(2)} | ${mean((r) => (r.tiled ?? r.untiled)?.psnr).toFixed(2)} | ${mean((r) => (r.tiled ?? r.untiled)?.ssim).toFixed(4)} | |`,
  )
  console.log(lines.join('\n'))
  if (values.json) fs.writeFileSync(values.json, JSON.stringify({ options: values, rows }, null, 1))
}

main()
