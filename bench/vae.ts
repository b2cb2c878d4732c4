/**
 * The performance benchmark, in one run: encode and decode frames/s and peak RSS of Node with
 * a fast-mode and an exact-mode bundle and of our eager PyTorch model (bench/python_eager.py),
 * on the same weights, input and threads, each in its own process; the model's FLOPs
 * (bench/flops.py) as effective GFLOP/s; the machine's conv2d/conv3d GFLOP/s
 * (bench/conv_peak.py) as the ceiling; and the ratios. Not a test.
 *
 *   node --import tsx bench/vae.ts [--configs ch32-256,full-128] [--repeat 1] [--threads 2] [--json]
 *
 * Configs: ch32-256 (ch32 16z, 16x256x256), full-128 (full-width 16z, 8x128x128), full-720p
 * (full-width 16z, 16x720x1280 encode with 256-pixel tiles, Node fast only; --max-tiles N stops
 * after N tiles and extrapolates the time; peak RSS is reached on the first tile).
 * Weights: the synthetic checkpoints of ../shared/parity (same FLOPs as the released ones).
 */
import path from 'node:path'
import { parseArgs } from 'node:util'

import { parityBundle, parityCheckpoint, PYTHON } from '../test/support/parity.js'
import { inputFile, loadAverage, MALLOC_KEEP, runJson as json } from './common.js'

const { values } = parseArgs({
  options: {
    configs: { type: 'string', default: 'ch32-256,full-128' },
    repeat: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    'max-tiles': { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
})

/**
 * python: our eager model as users run it. python-malloc: the same with glibc told to keep freed
 * memory (MALLOC_MMAP_MAX_=0, a large MALLOC_TRIM_THRESHOLD_), the Python-side equivalent of the
 * addon's host cache, for a like-for-like comparison. fast-bf16: the fast bundle computing in
 * bfloat16 (AVX512-BF16), against float32 references.
 */
type Runner = 'python' | 'python-malloc' | 'exact' | 'fast' | 'fast-bf16'
const ALL: Runner[] = ['python', 'python-malloc', 'exact', 'fast', 'fast-bf16']

interface Config {
  case: string
  size: [number, number, number]
  tile?: number
  encodeOnly?: boolean
  runners: Runner[]
}

const CONFIGS: Record<string, Config> = {
  'ch32-256': { case: '16z-ch32-video', size: [16, 256, 256], runners: ALL },
  'ch32-smoke': { case: '16z-ch32-video', size: [8, 64, 64], runners: ALL },
  'full-128': { case: '16z-full-video', size: [8, 128, 128], runners: ALL },
  'full-720p': { case: '16z-full-video', size: [16, 720, 1280], tile: 256, encodeOnly: true, runners: ['fast'] },
}

interface Run {
  encode_s: number
  decode_s?: number | null
  peak_rss_mb: number
  extrapolated?: boolean
  tiles_total?: number
}

const threads = values.threads!
const repeat = values.repeat!
const log = (s: string): void => void (values.json ? process.stderr : process.stdout).write(s + '\n')

function convPeak(): { conv2d_gflops: number; conv3d_gflops: number } {
  return json(PYTHON, [path.join(__dirname, 'conv_peak.py'), threads, '7'], MALLOC_KEEP)
}

async function measure(name: string, cfg: Config): Promise<Record<string, unknown>> {
  const [T, H, W] = cfg.size
  const checkpoint = parityCheckpoint(cfg.case)
  const input = await inputFile(cfg.size)
  // Tiled runs do the work of their tiles (overlaps included, mid-block attention over each tile
  // only): count one tile and multiply by the tile count the run reports.
  const [fH, fW] = cfg.tile ? [cfg.tile, cfg.tile] : [H, W]
  const flops = json<{ encode_gflop: number; decode_gflop: number }>(PYTHON, [path.join(__dirname, 'flops.py'), checkpoint, String(T), String(fH), String(fW)])
  const runs: Record<string, Run> = {}
  for (const runner of cfg.runners) {
    log(`  ${name}: ${runner} ...`)
    if (runner === 'python' || runner === 'python-malloc') {
      const env = runner === 'python' ? process.env : MALLOC_KEEP
      runs[runner] = json<Run>(PYTHON, [path.join(__dirname, 'python_eager.py'), checkpoint, input, repeat, threads], env)
      continue
    }
    const mode = runner === 'exact' ? 'exact' : 'fast'
    const args = [
      '--import',
      'tsx',
      path.join(__dirname, 'node_run.ts'),
      '--bundle',
      parityBundle(cfg.case, mode),
      '--input',
      input,
      '--repeat',
      repeat,
      '--threads',
      threads,
    ]
    if (runner === 'fast-bf16') args.push('--dtype', 'bfloat16')
    if (cfg.tile) args.push('--tile', String(cfg.tile), '--max-tiles', values['max-tiles']!)
    if (cfg.encodeOnly) args.push('--encode-only')
    runs[`node ${runner}`] = json<Run>(process.execPath, args)
  }
  const tiles = Object.values(runs).find((r) => r.tiles_total)?.tiles_total
  if (tiles) {
    flops.encode_gflop *= tiles
    flops.decode_gflop *= tiles
  }
  return { config: name, case: cfg.case, size: cfg.size.join('x'), tile: cfg.tile ?? null, flops, runs }
}

function report(results: Record<string, unknown>[], peak: { conv2d_gflops: number; conv3d_gflops: number }): void {
  log(`conv ceiling (${threads} threads): conv2d 3x3 ${peak.conv2d_gflops.toFixed(0)} GFLOP/s, conv3d 3x3x3 ${peak.conv3d_gflops.toFixed(0)} GFLOP/s`)
  for (const r of results) {
    const [T] = (r.size as string).split('x').map(Number) as [number]
    const flops = r.flops as { encode_gflop: number; decode_gflop: number }
    const runs = r.runs as Record<string, Run>
    log(
      `\n${r.config}: ${r.case} at ${r.size}${r.tile ? `, tiles of ${r.tile} (FLOPs of all tiles)` : ''}; ${flops.encode_gflop.toFixed(0)} + ${flops.decode_gflop.toFixed(0)} GFLOP`,
    )
    log('                   encode fps  decode fps  eff. GFLOP/s  % conv2d peak  peak RSS MB')
    for (const [name, run] of Object.entries(runs)) {
      // decode_s is null or absent for encode-only runs
      const seconds = run.encode_s + (run.decode_s ?? 0)
      const gflops = (flops.encode_gflop + (run.decode_s == null ? 0 : flops.decode_gflop)) / seconds
      const dec = run.decode_s == null ? '-' : (T / run.decode_s).toFixed(2)
      log(
        `${name.padEnd(18)} ${(T / run.encode_s).toFixed(2).padStart(10)} ${dec.padStart(11)} ${gflops.toFixed(0).padStart(13)} ${((100 * gflops) / peak.conv2d_gflops).toFixed(0).padStart(13)}% ${run.peak_rss_mb.toFixed(0).padStart(12)}${run.extrapolated ? '  (time extrapolated from the first tiles)' : ''}`,
      )
    }
    const py = runs.python,
      pyMalloc = runs['python-malloc'],
      fast = runs['node fast'],
      exact = runs['node exact'],
      bf16 = runs['node fast-bf16']
    const ratio = (a?: Run, b?: Run): string =>
      a && b ? `encode ${(a.encode_s / b.encode_s).toFixed(2)}x, decode ${a.decode_s && b.decode_s ? (a.decode_s / b.decode_s).toFixed(2) : '-'}x` : '-'
    if (py && fast) log(`node fast / python eager speed:          ${ratio(py, fast)}`)
    if (pyMalloc && fast) log(`node fast / python eager (malloc tuned): ${ratio(pyMalloc, fast)}`)
    if (exact && fast) log(`node fast / node exact speed:            ${ratio(exact, fast)}`)
    if (py && exact) log(`node exact / python eager:               ${ratio(py, exact)}`)
    if (py && bf16) log(`node fast bf16 / python eager (fp32):    ${ratio(py, bf16)}`)
  }
}

async function main(): Promise<void> {
  const names = values.configs!.split(',')
  for (const n of names) if (!CONFIGS[n]) throw new Error(`unknown config ${n} (known: ${Object.keys(CONFIGS).join(', ')})`)
  log(`load average before: ${loadAverage()}`)
  const before = convPeak()
  const results = []
  for (const n of names) results.push(await measure(n, CONFIGS[n]!))
  const after = convPeak()
  // The better of two measurements: other load on the machine only ever lowers it.
  const peak = { conv2d_gflops: Math.max(before.conv2d_gflops, after.conv2d_gflops), conv3d_gflops: Math.max(before.conv3d_gflops, after.conv3d_gflops) }
  log(`load average after: ${loadAverage()}`)
  if (values.json) console.log(JSON.stringify({ threads: Number(threads), repeat: Number(repeat), convPeak: peak, results }))
  else report(results, peak)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
