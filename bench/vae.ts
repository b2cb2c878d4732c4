/**
 * Encode/decode throughput and peak RSS of videovae (Node, TorchScript bundle) against our
 * eager PyTorch model (bench/python_eager.py) on the same weights, input size and threads,
 * in one run. Not a test: prints a table and the ratios.
 *
 *   node --import tsx bench/vae.ts [--case 16z-ch32-video|16z-full-video] [--size 16x256x256]
 *                                  [--repeat 2] [--threads 2] [--json]
 */
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { setNumThreads, Tensor, VideoVAE } from '../lib/index.js'
import { parityBundle, parityCheckpoint, PYTHON } from '../test/support/parity.js'

const { values } = parseArgs({
  options: {
    case: { type: 'string', default: '16z-ch32-video' },
    size: { type: 'string', default: '16x256x256' },
    repeat: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false }
  }
})
const [T, H, W] = values.size!.split('x').map(Number) as [number, number, number]
const repeat = Number(values.repeat)
const threads = Number(values.threads)

async function timed<R>(fn: () => Promise<R>): Promise<[number, R]> {
  let out = await fn() // warm-up (TorchScript profiling runs)
  const start = performance.now()
  for (let i = 0; i < repeat; i++) out = await fn()
  return [(performance.now() - start) / repeat / 1000, out]
}

async function main(): Promise<void> {
  const checkpoint = parityCheckpoint(values.case!)
  const bundle = parityBundle(values.case!)
  const py = JSON.parse(
    execFileSync(PYTHON, [path.join(__dirname, 'python_eager.py'), checkpoint, String(T), String(H), String(W), String(repeat), String(threads)], {
      encoding: 'utf8'
    })
  ) as { encode_s: number; decode_s: number; peak_rss_mb: number }

  setNumThreads(threads)
  const vae = await VideoVAE.load(bundle)
  const x = Tensor.from(new Float32Array(3 * T * H * W).map(() => Math.random() * 2 - 1), [1, 3, T, H, W])
  const [encodeS, latent] = await timed(() => vae.encode(x))
  const [decodeS] = await timed(() => vae.decode(latent))
  const node = { encode_s: encodeS, decode_s: decodeS, peak_rss_mb: process.resourceUsage().maxRSS / 1024 }

  const fps = (s: number): number => T / s
  const result = {
    case: values.case,
    size: values.size,
    threads,
    python_eager: { ...py, encode_fps: fps(py.encode_s), decode_fps: fps(py.decode_s) },
    node: { ...node, encode_fps: fps(node.encode_s), decode_fps: fps(node.decode_s) },
    ratio: { encode: py.encode_s / node.encode_s, decode: py.decode_s / node.decode_s }
  }
  if (values.json) {
    console.log(JSON.stringify(result))
    return
  }
  console.log(`${values.case} at ${values.size}, ${threads} threads, mean of ${repeat} after a warm-up`)
  console.log('              encode fps   decode fps   peak RSS MB')
  for (const [name, r] of [['python eager', result.python_eager], ['node', result.node]] as const) {
    console.log(`${name.padEnd(12)} ${r.encode_fps.toFixed(2).padStart(11)} ${r.decode_fps.toFixed(2).padStart(12)} ${r.peak_rss_mb.toFixed(0).padStart(13)}`)
  }
  console.log(`node / python speed: encode ${result.ratio.encode.toFixed(2)}x, decode ${result.ratio.decode.toFixed(2)}x`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
