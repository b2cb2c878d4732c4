/**
 * The engine benchmark of issue 29, in one run: Node with the fast TorchScript bundle, Node with
 * an AOTInductor bundle, our eager PyTorch model and the same through `torch.compile` (Inductor
 * with freezing: what an expert would pick), on the same synthetic weights (../shared/parity),
 * the same input file and threads, float32 and bfloat16, each run in its own process (warm-up,
 * best of --repeat; peak RSS its own). Also reports the one-time cost of each engine: the
 * AOTInductor export (four video packages, seconds from its manifest) and torch.compile's first
 * calls. Python runs with glibc told to keep freed memory (bench/common.ts MALLOC_KEEP), the
 * equivalent of the addon's host cache. Each row's effective GFLOP/s (the model's FLOPs,
 * bench/flops.py) is set against the machine's conv2d ceiling in the row's dtype
 * (bench/conv_peak.py, the better of a measurement before and after): what is left to gain. Not a test.
 *
 *   node --import tsx bench/engines.ts [--configs ch32-256,full-128] [--dtypes float32,bfloat16]
 *        [--runners node-torchscript,node-aoti,python-eager,python-compile] [--repeat 2]
 *        [--threads 2] [--cpu-isa avx2] [--out FILE.json]
 *
 * AOTInductor bundles are exported once per case, dtype and ISA into .cache/bench/aoti/ (the
 * export is timed then; later runs report the manifest's times). The table goes to stdout.
 */
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { parityBundle, parityCheckpoint, PYTHON, ROOT } from '../test/support/parity.js'
import { CONFIGS, inputFile, loadAverage, MALLOC_KEEP, runJson } from './common.js'

const { values } = parseArgs({
  options: {
    configs: { type: 'string', default: 'ch32-256,full-128' },
    dtypes: { type: 'string', default: 'float32,bfloat16' },
    runners: { type: 'string', default: 'node-torchscript,node-aoti,python-eager,python-compile' },
    repeat: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    'cpu-isa': { type: 'string', default: 'avx2' },
    out: { type: 'string' },
  },
})

const RUNNERS = ['node-torchscript', 'node-aoti', 'python-eager', 'python-compile'] as const
type Runner = (typeof RUNNERS)[number]

interface Flops {
  encode_gflop: number
  decode_gflop: number
}

interface Row {
  config: string
  dtype: string
  runner: Runner
  encode_s: number
  decode_s: number
  /** Export (aoti) or first-call compile (torch.compile) seconds; 0 for engines without one. */
  once_s: number
  peak_rss_mb: number
}

const ENGINES_PY = path.join(__dirname, 'python_engines.py')
const isa = values['cpu-isa']!

/** The AOTInductor bundle of a case and dtype (four video packages), exported on first use. */
function aotiBundle(caseName: string, dtype: string): { dir: string; exportS: number } {
  const dir = path.join(ROOT, '.cache', 'bench', 'aoti', `${caseName}-${dtype}-${isa}`)
  const manifest = path.join(dir, 'manifest.json')
  if (!fs.existsSync(manifest)) {
    fs.rmSync(dir, { recursive: true, force: true })
    fs.mkdirSync(path.dirname(dir), { recursive: true })
    console.error(`  exporting ${caseName} ${dtype} (${isa}) ...`)
    runJson(PYTHON, [ENGINES_PY, parityCheckpoint(caseName), '--export-aoti', dir, '--dtype', dtype, '--cpu-isa', isa, '--threads', values.threads!], {
      ...process.env,
      PYTHONPATH: path.join(ROOT, 'python'),
    })
  }
  const seconds = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { aoti: { export_seconds: Record<string, number> } }).aoti.export_seconds
  return { dir, exportS: Object.values(seconds).reduce((a, b) => a + b, 0) }
}

function nodeRun(bundle: string, input: string, dtype: string): { encode_s: number; decode_s: number; peak_rss_mb: number } {
  // A TorchScript bundle computes in the dtype asked at load; an aoti bundle in its export's (the same here).
  const args = ['--import', 'tsx', path.join(__dirname, 'node_run.ts'), '--bundle', bundle, '--input', input, '--dtype', dtype]
  return runJson(process.execPath, [...args, '--repeat', values.repeat!, '--threads', values.threads!])
}

async function measure(config: string, dtype: string, runner: Runner): Promise<Row> {
  const cfg = CONFIGS[config]!
  const input = await inputFile(cfg.size)
  if (runner === 'node-torchscript') return { config, dtype, runner, once_s: 0, ...nodeRun(parityBundle(cfg.case, 'fast'), input, dtype) }
  if (runner === 'node-aoti') {
    const { dir, exportS } = aotiBundle(cfg.case, dtype)
    return { config, dtype, runner, once_s: exportS, ...nodeRun(dir, input, dtype) }
  }
  const py = runner === 'python-eager' ? 'eager' : 'compile'
  const args = [
    ENGINES_PY,
    parityCheckpoint(cfg.case),
    '--input',
    input,
    '--runner',
    py,
    '--dtype',
    dtype,
    '--repeat',
    values.repeat!,
    '--threads',
    values.threads!,
  ]
  const r = runJson<{ encode_s: number; decode_s: number; once_s: number; peak_rss_mb: number }>(PYTHON, args, {
    ...MALLOC_KEEP,
    PYTHONPATH: path.join(ROOT, 'python'),
  })
  return { config, dtype, runner, encode_s: r.encode_s, decode_s: r.decode_s, once_s: r.once_s, peak_rss_mb: r.peak_rss_mb }
}

/** The machine's best 3x3 conv2d / 3x3x3 conv3d GFLOP/s in a dtype (bench/conv_peak.py). */
function convPeak(dtype: string): number {
  const peak = runJson<{ conv2d_gflops: number; conv3d_gflops: number }>(
    PYTHON,
    [path.join(__dirname, 'conv_peak.py'), values.threads!, '7', dtype],
    MALLOC_KEEP,
  )
  return Math.max(peak.conv2d_gflops, peak.conv3d_gflops)
}

function table(rows: Row[], flops: Record<string, Flops>, ceiling: Record<string, number>): string {
  const lines: string[] = [
    `conv ceiling (best 3x3 conv2d / 3x3x3 conv3d, ${values.threads} threads): ${Object.entries(ceiling)
      .map(([d, g]) => `${d} ${g.toFixed(0)} GFLOP/s`)
      .join(', ')}`,
  ]
  for (const config of new Set(rows.map((r) => r.config))) {
    const [T, H, W] = CONFIGS[config]!.size
    const f = flops[config]!
    lines.push(
      `\n${config} (${CONFIGS[config]!.case}, ${T}x${H}x${W}, ${f.encode_gflop.toFixed(0)} + ${f.decode_gflop.toFixed(0)} GFLOP, ${values.threads} threads, best of ${values.repeat})`,
    )
    lines.push('| runner | dtype | encode s | decode s | encode fps | decode fps | eff. GFLOP/s | % of conv ceiling | export / compile s | peak RSS MB |')
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    for (const r of rows.filter((x) => x.config === config)) {
      const gflops = (f.encode_gflop + f.decode_gflop) / (r.encode_s + r.decode_s)
      lines.push(
        `| ${r.runner} | ${r.dtype} | ${r.encode_s.toFixed(2)} | ${r.decode_s.toFixed(2)} | ${(T / r.encode_s).toFixed(2)} | ${(T / r.decode_s).toFixed(2)} | ${gflops.toFixed(0)} | ${((100 * gflops) / ceiling[r.dtype]!).toFixed(0)} % | ${r.once_s ? r.once_s.toFixed(0) : '-'} | ${r.peak_rss_mb.toFixed(0)} |`,
      )
    }
    for (const dtype of new Set(rows.filter((x) => x.config === config).map((r) => r.dtype))) {
      const of = (runner: Runner): Row | undefined => rows.find((x) => x.config === config && x.dtype === dtype && x.runner === runner)
      const ratio = (a?: Row, b?: Row): string =>
        a && b ? `encode ${(b.encode_s / a.encode_s).toFixed(2)}x, decode ${(b.decode_s / a.decode_s).toFixed(2)}x` : '-'
      const compiled = of('python-compile')
      lines.push(
        `${dtype}: node-torchscript / python-compile ${ratio(of('node-torchscript'), compiled)}; node-aoti / python-compile ${ratio(of('node-aoti'), compiled)}`,
      )
      lines.push(
        `${dtype}: node-torchscript / python-eager ${ratio(of('node-torchscript'), of('python-eager'))}; node-aoti / node-torchscript ${ratio(of('node-aoti'), of('node-torchscript'))}`,
      )
    }
  }
  lines.push('\n(x = how many times faster the first runner is: time of the second / time of the first)')
  return lines.join('\n')
}

async function main(): Promise<void> {
  const configs = values.configs!.split(',')
  for (const c of configs) if (!CONFIGS[c]) throw new Error(`unknown config ${c} (known: ${Object.keys(CONFIGS).join(', ')})`)
  const runners = values.runners!.split(',') as Runner[]
  for (const r of runners) if (!RUNNERS.includes(r)) throw new Error(`unknown runner ${r} (known: ${RUNNERS.join(', ')})`)
  const started = { at: new Date().toISOString(), load: loadAverage() }
  const rows: Row[] = []
  const flops: Record<string, Flops> = {}
  const dtypes = values.dtypes!.split(',')
  const peaks = dtypes.map((d) => [convPeak(d)])
  const save = (): void => {
    if (values.out)
      fs.writeFileSync(
        values.out,
        JSON.stringify(
          {
            started,
            threads: Number(values.threads),
            repeat: Number(values.repeat),
            isa,
            peaks: Object.fromEntries(dtypes.map((d, i) => [d, peaks[i]])),
            flops,
            rows,
          },
          null,
          1,
        ),
      )
  }
  for (const config of configs) {
    const [T, H, W] = CONFIGS[config]!.size
    flops[config] = runJson<Flops>(PYTHON, [path.join(__dirname, 'flops.py'), parityCheckpoint(CONFIGS[config]!.case), String(T), String(H), String(W)])
    for (const dtype of dtypes) {
      for (const runner of runners) {
        console.error(`${config} ${dtype} ${runner} ... (load ${loadAverage()})`)
        rows.push(await measure(config, dtype, runner))
        console.error(`  ${JSON.stringify(rows.at(-1))}`)
        save()
      }
    }
  }
  dtypes.forEach((d, i) => peaks[i]!.push(convPeak(d))) // the better of the two: other load only ever lowers it
  save()
  console.log(`started ${started.at}, load average ${started.load}; finished, load average ${loadAverage()}`)
  console.log(table(rows, flops, Object.fromEntries(dtypes.map((d, i) => [d, Math.max(...peaks[i]!)]))))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
