/**
 * The GPU measurements of issue 28 in one run, each in its own process, with and without cuDNN
 * benchmark mode, on the same seeded random weights (bench/random_weights.py) and inputs:
 *
 *   model    model-only encode / decode frames/s: Node (fast bundle, bench/node_run.ts), our eager
 *            PyTorch model and the same through torch.compile (bench/python_eager.py), for
 *            full-width 16z and ch32 16z, bfloat16 and float32
 *   cli      `videovae reconstruct` and `videovae batch` frames/s on the same generated clips
 *            (full-width fast bundle, bfloat16), wall time of each command included
 *   aoti     issue 29 on the GPU: an AOTInductor bundle exported for the device (full width,
 *            bfloat16; export time reported), timed in Node beside Node's fast TorchScript
 *            bundle, Python eager and torch.compile (all with cuDNN benchmark mode)
 *
 * Runs go in order of importance and stop at --deadline (epoch seconds; a run is killed when it
 * reaches it), so a lent GPU's time limit costs the last rows, not the whole result. Not a test.
 * Writes DIR/matrix.json after every run and DIR/matrix.txt (a table) at the end.
 *
 *   node --import tsx bench/gpu_matrix.ts --out DIR [--preset gpu|cpu] [--device cuda:0]
 *        [--deadline EPOCH_S] [--only model,cli,aoti]
 *
 * --preset cpu (with --device cpu) is the rehearsal: every step at tiny sizes on this CPU.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { findTool } from '../lib/io/ffmpeg_path.js'
import { Tensor, writeSafetensors } from '../lib/index.js'
import { PYTHON, ROOT } from '../test/support/parity.js'

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    preset: { type: 'string', default: 'gpu' },
    device: { type: 'string', default: 'cuda:0' },
    deadline: { type: 'string' },
    only: { type: 'string', default: 'model,cli' },
  },
})

type Dtype = 'float32' | 'bfloat16'
type Runner = 'node' | 'node-bench' | 'eager' | 'eager-bench' | 'compile-bench' | 'node-aoti'
type Model = 'full' | 'ch32'
interface ModelRun {
  part: 'model' | 'aoti'
  model: Model
  dtype: Dtype
  runner: Runner
  repeat: number
}
interface CliRun {
  part: 'cli'
  command: 'reconstruct' | 'batch'
  bench: boolean
}
type Run = ModelRun | CliRun

interface Preset {
  sizes: Record<Model, [number, number, number]>
  clip: [number, number, number] // T x H x W of each generated clip
  clips: number // clips given to `batch`
  reconstructClips: number // the first N of them, one `reconstruct` each
  threads: number
  compileCapS: number // a torch.compile run is stopped after this (compilation can take minutes)
  runs: Run[]
}

const models = (model: Model, dtype: Dtype, runners: Runner[], repeat: number, part: 'model' | 'aoti' = 'model'): Run[] =>
  runners.map((runner) => ({ part, model, dtype, runner, repeat }))
const cliRuns: Run[] = [
  { part: 'cli', command: 'reconstruct', bench: false },
  { part: 'cli', command: 'reconstruct', bench: true },
  { part: 'cli', command: 'batch', bench: false },
  { part: 'cli', command: 'batch', bench: true },
]

// In order of importance: the headline (full width, 720p, bfloat16: Node and eager, cuDNN
// benchmark off and on), the commands, ch32, then torch.compile (capped: compiling takes
// minutes), then float32 at 720p (about 10 s per encode on a GPU: only where time is left).
const NO_COMPILE: Runner[] = ['node', 'node-bench', 'eager', 'eager-bench']
const order = (repeat: { full: number; ch32: number }): Run[] => [
  ...models('full', 'bfloat16', NO_COMPILE, repeat.full),
  ...cliRuns,
  ...models('ch32', 'float32', NO_COMPILE, repeat.ch32),
  ...models('ch32', 'bfloat16', NO_COMPILE, repeat.ch32),
  ...models('full', 'bfloat16', ['compile-bench'], repeat.full),
  ...models('ch32', 'float32', ['compile-bench'], repeat.ch32),
  ...models('full', 'float32', ['node-bench', 'eager-bench'], 1),
]
// The aoti part (a call of its own: the export alone takes minutes): the same comparison with
// Node's AOTInductor bundle first.
const aotiRuns = (model: Model, dtype: Dtype, repeat: number): Run[] =>
  models(model, dtype, ['node-aoti', 'node-bench', 'eager-bench', 'compile-bench'], repeat, 'aoti')

const PRESETS: Record<string, Preset> = {
  gpu: {
    sizes: { full: [16, 720, 1280], ch32: [16, 256, 256] },
    clip: [32, 720, 1280],
    clips: 3,
    reconstructClips: 1,
    threads: Math.min(16, os.availableParallelism()),
    compileCapS: 120,
    runs: [...order({ full: 2, ch32: 3 }), ...aotiRuns('full', 'bfloat16', 2)],
  },
  // The rehearsal: every step at tiny sizes (torch.compile of the full-width model left out:
  // on 2 CPU cores inductor's C++ kernels take many minutes to compile).
  cpu: {
    sizes: { full: [4, 64, 64], ch32: [4, 32, 32] },
    clip: [8, 64, 64],
    clips: 2,
    reconstructClips: 1,
    threads: 2,
    compileCapS: 900,
    runs: [
      ...order({ full: 1, ch32: 1 }).filter((r) => !(r.part === 'model' && r.model === 'full' && r.runner === 'compile-bench')),
      ...aotiRuns('ch32', 'float32', 1),
    ],
  },
}

const preset = PRESETS[values.preset!]
if (!preset) throw new Error(`unknown preset ${values.preset} (gpu or cpu)`)
const device = values.device!
const deadline = values.deadline ? Number(values.deadline) * 1000 : Infinity
const only = new Set(values.only!.split(','))
const outDir = path.resolve(values.out ?? path.join(ROOT, '.cache', 'gpu-matrix'))
fs.mkdirSync(outDir, { recursive: true })
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-gpu-matrix-'))
const results: Record<string, unknown> = {
  started: new Date().toISOString(),
  device,
  preset: values.preset,
  threads: preset.threads,
  sizes: preset.sizes,
  rows: [] as unknown[],
}
const rows = results.rows as Record<string, unknown>[]
const save = (): void => fs.writeFileSync(path.join(outDir, 'matrix.json'), JSON.stringify(results, null, 1))
const log = (line: string): void => console.log(`[matrix +${((Date.now() - started) / 1000).toFixed(0)}s] ${line}`)
const started = Date.now()
// On a small CPU, inductor's pool of compile workers only adds processes to the wait.
const pyEnv = { ...process.env, PYTHONPATH: path.join(ROOT, 'python'), ...(device === 'cpu' ? { TORCHINDUCTOR_COMPILE_THREADS: '1' } : {}) }

/** Runs a command until it ends or the deadline; its last stdout line as JSON. */
function runJson(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  capS = Infinity,
): { json?: Record<string, unknown>; wall_s: number; error?: string } {
  const left = deadline - Date.now()
  if (left < 5000) return { wall_s: 0, error: 'skipped: deadline' }
  const timeout = Math.min(left, capS * 1000)
  const start = Date.now()
  const r = spawnSync(file, args, {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: Number.isFinite(timeout) ? timeout : undefined,
    killSignal: 'SIGKILL',
    maxBuffer: 1 << 26,
  })
  const wall = (Date.now() - start) / 1000
  if (r.status !== 0) {
    const why = r.signal
      ? `killed (${r.signal}${r.signal === 'SIGKILL' ? `: ${timeout < left ? `over its cap of ${capS} s` : 'deadline'}` : ''})`
      : `exit ${r.status}`
    return { wall_s: wall, error: `${why}: ${(r.stderr ?? '').trim().split('\n').slice(-4).join(' | ').slice(0, 600)}` }
  }
  // The benches print one JSON line last; the CLI's --json one (indented) object.
  const out = r.stdout.trim()
  for (const text of [out, out.split('\n').pop() ?? '']) {
    try {
      return { json: JSON.parse(text) as Record<string, unknown>, wall_s: wall }
    } catch {
      // not this one: try the last line next
    }
  }
  return { wall_s: wall, error: `no JSON on stdout: ${out.slice(-200)}` }
}

interface Prepared {
  checkpoint: string
  bundle: string
  input: string
}
const prepared = new Map<Model, Prepared>()

/** Seeded random weights, their fast bundle and the seeded input, made once per model. */
async function prepare(model: Model): Promise<Prepared> {
  const done = prepared.get(model)
  if (done) return done
  const checkpoint = path.join(work, `${model}.ckpt`)
  const bundle = path.join(work, `${model}-fast`)
  execFileSync(PYTHON, [path.join(__dirname, 'random_weights.py'), 'config_16z', checkpoint, '0', ...(model === 'ch32' ? ['32'] : [])], {
    env: pyEnv,
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  execFileSync(PYTHON, ['-m', 'videovae', 'export', '--checkpoint', checkpoint, '--out', bundle, '--mode', 'fast'], {
    env: pyEnv,
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const [T, H, W] = preset!.sizes[model]
  const input = path.join(work, `${model}-input.safetensors`)
  const video = Tensor.from(
    new Float32Array(3 * T * H * W).map((_, i) => Math.sin(i * 0.001) * 0.9),
    [1, 3, T, H, W],
  )
  await writeSafetensors(input, { video })
  video.dispose()
  const p = { checkpoint, bundle, input }
  prepared.set(model, p)
  return p
}

const aotiBundles = new Map<string, { bundle?: string; export_s?: number; error?: string }>()

/** The AOTInductor bundle of a model and dtype for this device (four video packages), exported once and timed. */
function prepareAoti(model: Model, dtype: Dtype, checkpoint: string): { bundle?: string; export_s?: number; error?: string } {
  const key = `${model}-${dtype}`
  const done = aotiBundles.get(key)
  if (done) return done
  const bundle = path.join(work, `${key}-aoti`)
  const kind = device === 'cpu' ? 'cpu' : 'cuda'
  const r = runJson(PYTHON, [path.join(__dirname, 'python_engines.py'), checkpoint, '--export-aoti', bundle, '--dtype', dtype, '--device', kind], pyEnv)
  const out = r.json ? { bundle, export_s: r.json.export_s as number } : { error: `aoti export: ${r.error}` }
  aotiBundles.set(key, out)
  return out
}

async function modelRun(run: ModelRun): Promise<Record<string, unknown>> {
  const prepared = await prepare(run.model)
  const { checkpoint, input } = prepared
  let bundle = prepared.bundle
  let exported: { export_s?: number } = {}
  if (run.runner === 'node-aoti') {
    const aoti = prepareAoti(run.model, run.dtype, checkpoint)
    if (!aoti.bundle) return { ...run, size: preset!.sizes[run.model].join('x'), error: aoti.error }
    bundle = aoti.bundle
    exported = { export_s: aoti.export_s }
  }
  const bench = run.runner.endsWith('-bench') || run.runner === 'node-aoti' // the aoti part compares with cuDNN benchmark on
  const threads = String(preset!.threads)
  const r = run.runner.startsWith('node')
    ? runJson(process.execPath, [
        '--import',
        'tsx',
        path.join(__dirname, 'node_run.ts'),
        '--bundle',
        bundle,
        '--input',
        input,
        '--repeat',
        String(run.repeat),
        '--threads',
        threads,
        '--dtype',
        run.dtype,
        '--device',
        device,
        ...(bench ? ['--cudnn-benchmark'] : []),
      ])
    : runJson(
        PYTHON,
        [
          path.join(__dirname, 'python_eager.py'),
          checkpoint,
          input,
          String(run.repeat),
          threads,
          device,
          run.dtype,
          ...(run.runner === 'compile-bench' ? ['--compile'] : []),
          ...(bench ? ['--cudnn-benchmark'] : []),
        ],
        pyEnv,
        run.runner === 'compile-bench' ? preset!.compileCapS : Infinity,
      )
  const T = preset!.sizes[run.model][0]
  // cudnn_benchmark: what the run asked for; reported: what the run itself says it had
  const { cudnn_benchmark: reported, ...j } = (r.json ?? {}) as { encode_s?: number; decode_s?: number; cudnn_benchmark?: unknown }
  return {
    ...run,
    size: preset!.sizes[run.model].join('x'),
    cudnn_benchmark: bench,
    ...exported,
    ...(r.json ? { encode_fps: T / j.encode_s!, decode_fps: T / j.decode_s!, ...j, reported } : {}),
    wall_s: r.wall_s,
    ...(r.error ? { error: r.error } : {}),
  }
}

let clips: string[] | null = null

/** The generated clips (lavfi test sources, x264), made once. */
function makeClips(): string[] {
  if (clips) return clips
  const [T, H, W] = preset!.clip
  const sources = ['testsrc2', 'mandelbrot', 'smptehdbars', 'testsrc']
  clips = Array.from({ length: preset!.clips }, (_, i) => {
    const file = path.join(work, `clip${i}.mp4`)
    execFileSync(findTool('ffmpeg')!.path, [
      '-nostdin',
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `${sources[i % sources.length]}=size=${W}x${H}:rate=25`,
      '-frames:v',
      String(T),
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-crf',
      '18',
      '-pix_fmt',
      'yuv420p',
      file,
    ])
    return file
  })
  return clips
}

async function cliRun(run: CliRun): Promise<Record<string, unknown>> {
  const { bundle } = await prepare('full')
  const files = makeClips()
  const T = preset!.clip[0]
  // Batch size 1: four full-width 720p clips in one call need about 4 x 35 GB in bfloat16.
  const common = [
    '--bundle',
    bundle,
    '--device',
    device,
    '--dtype',
    'bfloat16',
    '--threads',
    String(preset!.threads),
    '--memory-limit',
    '0',
    '--json',
    ...(run.bench ? ['--cudnn-benchmark'] : []),
  ]
  const bin = path.join(ROOT, 'bin', 'videovae.js')
  const base: Record<string, unknown> = { ...run, cudnn_benchmark: run.bench, clip: preset!.clip.join('x') }
  if (run.command === 'reconstruct') {
    let seconds = 0
    let wall = 0
    let frames = 0
    const psnr: number[] = []
    for (const [i, clip] of files.slice(0, preset!.reconstructClips).entries()) {
      const out = path.join(work, `rec${i}-${run.bench ? 'bench' : 'plain'}.mp4`)
      const r = runJson(process.execPath, [bin, 'reconstruct', clip, '-o', out, ...common])
      if (r.error) return { ...base, error: r.error }
      const j = r.json as { seconds: number; frames: number; psnr: number; cudnnBenchmark: unknown }
      seconds += j.seconds
      wall += r.wall_s
      frames += j.frames
      psnr.push(j.psnr)
      base.reported = j.cudnnBenchmark
    }
    // seconds: the command's own (model load included); wall: the process's (Node start too).
    return { ...base, clips: psnr.length, frames, fps: frames / seconds, fps_wall: frames / wall, seconds, wall_s: wall, psnr }
  }
  const manifest = path.join(work, 'clips.csv')
  fs.writeFileSync(manifest, 'path,id\n' + files.map((c, i) => `${c},c${i}`).join('\n') + '\n')
  const outdir = path.join(work, `latents-${run.bench ? 'bench' : 'plain'}`)
  fs.rmSync(outdir, { recursive: true, force: true })
  const r = runJson(process.execPath, [bin, 'batch', manifest, '-o', outdir, '--batch-size', '1', ...common])
  if (r.error) return { ...base, error: r.error }
  const j = r.json as { encoded: number; seconds: number; cudnnBenchmark: unknown }
  const frames = j.encoded * T
  // seconds: the batch run without the model load; wall: the whole command.
  return {
    ...base,
    clips: j.encoded,
    frames,
    fps: frames / j.seconds,
    fps_wall: frames / r.wall_s,
    seconds: j.seconds,
    wall_s: r.wall_s,
    reported: j.cudnnBenchmark,
  }
}

function table(): string {
  const f = (v: unknown): string => (typeof v === 'number' ? v.toFixed(2) : '-')
  const lines = [
    `device ${device}, preset ${values.preset}, ${preset!.threads} threads; frames/s (best of the timed calls after a warm-up; first = warm-up call, s)`,
  ]
  lines.push('model  size          dtype     runner         encode fps  decode fps  first enc s  first dec s  note')
  for (const r of rows.filter((x) => x.part === 'model' || x.part === 'aoti')) {
    lines.push(
      `${String(r.model).padEnd(6)} ${String(r.size).padEnd(13)} ${String(r.dtype).padEnd(9)} ${String(r.runner).padEnd(14)} ${f(r.encode_fps).padStart(10)} ${f(r.decode_fps).padStart(11)} ${f(r.first_encode_s).padStart(12)} ${f(r.first_decode_s).padStart(12)}  ${r.error ? String(r.error).slice(0, 120) : r.export_s ? `export ${f(r.export_s)} s` : ''}`,
    )
  }
  lines.push(
    '',
    `commands on ${preset!.clips} clip(s) of ${preset!.clip.join('x')} (reconstruct: the first ${preset!.reconstructClips}), full-width fast bundle, bfloat16`,
  )
  lines.push('command       cudnn-benchmark  frames  fps (command)  fps (wall)  note')
  for (const r of rows.filter((x) => x.part === 'cli')) {
    lines.push(
      `${String(r.command).padEnd(13)} ${String(r.cudnn_benchmark).padEnd(16)} ${String(r.frames ?? '-').padStart(6)} ${f(r.fps).padStart(14)} ${f(r.fps_wall).padStart(11)}  ${r.error ? String(r.error).slice(0, 120) : ''}`,
    )
  }
  return lines.join('\n')
}

async function main(): Promise<void> {
  const hasFfmpeg = findTool('ffmpeg') !== null && findTool('ffprobe') !== null
  for (const run of preset!.runs) {
    if (!only.has(run.part)) continue
    const name = run.part !== 'cli' ? `${run.part} ${run.model} ${run.dtype} ${run.runner}` : `cli ${run.command}${run.bench ? ' --cudnn-benchmark' : ''}`
    let row: Record<string, unknown>
    if (Date.now() > deadline - 5000) row = { ...run, error: 'skipped: deadline' }
    else if (run.part === 'cli' && !hasFfmpeg) row = { ...run, error: 'skipped: no ffmpeg/ffprobe on this machine' }
    else {
      try {
        row = run.part !== 'cli' ? await modelRun(run) : await cliRun(run)
      } catch (err) {
        row = { ...run, error: String((err as Error).message ?? err).slice(0, 600) }
      }
    }
    rows.push(row)
    save()
    log(`${name}: ${row.error ? row.error : JSON.stringify(row).slice(0, 400)}`)
  }
  results.finished = new Date().toISOString()
  save()
  const text = table()
  fs.writeFileSync(path.join(outDir, 'matrix.txt'), text + '\n')
  console.log(text)
}

main()
  .catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(() => fs.rmSync(work, { recursive: true, force: true }))
