/**
 * The CUDA measurements, in one run (scripts/gpu/check.sh runs it on a lent GPU machine):
 *
 *   precision   the default model on the sample clip on cuda:0 in float32, bfloat16 and float16:
 *               PSNR against the source frames, max abs difference of latent and reconstruction
 *               against float32 on the CPU (the reference), time per call
 *   throughput  full-width 16z (seeded random weights: bench/random_weights.py) at 16x720x1280,
 *               untiled: encode and decode frames/s of Node (fast bundle) and of our eager
 *               PyTorch model (bench/python_eager.py) on the same GPU, bfloat16 and float32
 *
 * Not a test. Prints a line per measurement and writes every figure to --out as JSON.
 *
 *   node --import tsx bench/gpu.ts [--parts precision,throughput] [--frames FILE] [--out gpu.json]
 *        [--size 16x720x1280] [--repeat 2] [--dtypes bfloat16,float32]
 *        [--precision-dtypes float32,bfloat16,float16] [--device cuda:0]
 *
 * A smoke run of the code paths on CPU: --device cpu --size 4x64x64 --precision-dtypes float32,bfloat16
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { cuda, psnr, readSafetensors, Tensor, VideoVAE, writeSafetensors } from '../lib/index.js'
import { maxAbsDiff, PYTHON, ROOT } from '../test/support/parity.js'

const { values } = parseArgs({
  options: {
    parts: { type: 'string', default: 'precision,throughput' },
    frames: { type: 'string', default: path.join(ROOT, '.cache', 'gpu-carry', 'sample_frames.safetensors') },
    out: { type: 'string', default: 'gpu.json' },
    size: { type: 'string', default: '16x720x1280' },
    repeat: { type: 'string', default: '2' },
    dtypes: { type: 'string', default: 'bfloat16,float32' },
    'precision-dtypes': { type: 'string', default: 'float32,bfloat16,float16' },
    device: { type: 'string', default: 'cuda:0' },
  },
})

type Dtype = 'float32' | 'bfloat16' | 'float16'
const device = values.device as 'cpu' | 'cuda:0'
const results: Record<string, unknown> = { started: new Date().toISOString(), device }
const save = (): void => fs.writeFileSync(values.out!, JSON.stringify(results, null, 1))

function log(line: string): void {
  console.log(line)
}

async function timed<R>(fn: () => Promise<R>): Promise<[number, R]> {
  const start = performance.now()
  const out = await fn()
  return [(performance.now() - start) / 1000, out]
}

/** Default model on real frames: quality and error against CPU float32, per CUDA dtype. */
async function precision(): Promise<void> {
  const { tensors } = await readSafetensors(values.frames!)
  const frames = tensors.frames! // uint8 [T, H, W, 3]
  const source = (await frames.data()) as Uint8Array
  const cpu = await VideoVAE.load()
  const refLatent = (await (await cpu.encode(frames)).data()) as Float32Array
  const refFrames = (await (await cpu.reconstruct(frames, { output: 'uint8' })).data()) as Uint8Array
  const refRecon = (await (await cpu.decode(await cpu.encode(frames))).data()) as Float32Array
  cpu.dispose()
  const rows: Record<string, unknown> = { cpu_float32: { psnr_db: psnr(source, refFrames) } }
  log(`precision: sample clip ${frames.shape.join('x')}, CPU float32 PSNR ${psnr(source, refFrames).toFixed(3)} dB`)
  const onGpu = await frames.to({ device })
  for (const dtype of values['precision-dtypes']!.split(',') as Dtype[]) {
    const vae = await VideoVAE.load(undefined, { device, dtype })
    await vae.reconstruct(onGpu) // warm-up
    const [encodeS, latent] = await timed(() => vae.encode(onGpu))
    const [decodeS, recon] = await timed(() => vae.decode(latent))
    const out = (await (await vae.reconstruct(onGpu, { output: 'uint8' })).data()) as Uint8Array
    const row = {
      psnr_db: psnr(source, out),
      latent_max_abs_vs_cpu_fp32: maxAbsDiff((await latent.data()) as Float32Array, refLatent),
      recon_max_abs_vs_cpu_fp32: maxAbsDiff((await recon.data()) as Float32Array, refRecon),
      uint8_frames_differing_pct: (100 * out.reduce((n, v, i) => n + (v !== refFrames[i] ? 1 : 0), 0)) / out.length,
      encode_s: encodeS,
      decode_s: decodeS,
    }
    rows[`${device}_${dtype}`] = row
    log(`precision: ${device} ${dtype.padEnd(8)} ${JSON.stringify(row)}`)
    for (const t of [latent, recon]) t.dispose()
    vae.dispose()
  }
  onGpu.dispose()
  results.precision = rows
  save()
}

/** Runs a Python script with the project's Python; returns its stdout, trimmed. */
function python(args: string[]): string {
  return execFileSync(PYTHON, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim()
}

/** The JSON line a measuring script prints last. */
function pythonJson(args: string[]): Record<string, number> {
  return JSON.parse(python(args).split('\n').pop()!)
}

/** Full-width 16z at 720p on the GPU: Node fast bundle against Python eager. */
async function throughput(): Promise<void> {
  const [T, H, W] = values.size!.split('x').map(Number) as [number, number, number]
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-gpu-'))
  const checkpoint = path.join(work, 'full16z.ckpt')
  const bundle = path.join(work, 'bundle-fast')
  const input = path.join(work, 'input.safetensors')
  const env = { ...process.env, PYTHONPATH: path.join(ROOT, 'python') }
  log(python([path.join(__dirname, 'random_weights.py'), 'config_16z', checkpoint]))
  execFileSync(PYTHON, ['-m', 'videovae', 'export', '--checkpoint', checkpoint, '--out', bundle, '--mode', 'fast'], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  const video = Tensor.from(
    new Float32Array(3 * T * H * W).map((_, i) => Math.sin(i * 0.001) * 0.9),
    [1, 3, T, H, W],
  )
  await writeSafetensors(input, { video })
  const repeat = Number(values.repeat)
  const rows: Record<string, unknown> = { size: [T, H, W], weights: 'full-width config_16z, seeded random (bench/random_weights.py)' }
  const onGpu = await video.to({ device })
  for (const dtype of values.dtypes!.split(',') as Dtype[]) {
    const vae = await VideoVAE.load(bundle, { device, dtype })
    const warm = await vae.encode(onGpu)
    await vae.decode(warm)
    let encodeS = Infinity
    let decodeS = Infinity
    let latent = warm
    for (let i = 0; i < repeat; i++) {
      const [e, l] = await timed(() => vae.encode(onGpu))
      const [d, r] = await timed(() => vae.decode(l))
      encodeS = Math.min(encodeS, e)
      decodeS = Math.min(decodeS, d)
      latent = l
      r.dispose()
    }
    latent.dispose()
    warm.dispose()
    vae.dispose()
    cuda.emptyCache() // the Python run below needs the GPU memory this process cached
    const node = { encode_s: encodeS, decode_s: decodeS, encode_fps: T / encodeS, decode_fps: T / decodeS }
    log(`throughput: node fast ${dtype} ${JSON.stringify(node)}`)
    const py = pythonJson([path.join(__dirname, 'python_eager.py'), checkpoint, input, String(repeat), device === 'cpu' ? '2' : '16', device, dtype])
    const eager = { ...py, encode_fps: T / py.encode_s!, decode_fps: T / py.decode_s! }
    log(`throughput: python eager ${dtype} ${JSON.stringify(eager)}`)
    rows[dtype] = {
      node_fast: node,
      python_eager: eager,
      encode_ratio: py.encode_s! / encodeS,
      decode_ratio: py.decode_s! / decodeS,
    }
    results.throughput = rows
    save()
  }
  onGpu.dispose()
  fs.rmSync(work, { recursive: true, force: true })
}

async function main(): Promise<void> {
  if (device !== 'cpu' && !cuda.isAvailable()) throw new Error('bench/gpu.ts needs a CUDA device and a CUDA build of the addon')
  const parts = values.parts!.split(',')
  for (const part of parts) {
    try {
      if (part === 'precision') await precision()
      else if (part === 'throughput') await throughput()
      else throw new Error(`unknown part ${part}`)
    } catch (err) {
      // One part failing must not cost the others' figures.
      results[`${part}_error`] = String((err as Error).stack ?? err)
      console.error(`${part} failed:`, err)
      save()
    }
  }
  results.finished = new Date().toISOString()
  save()
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
