/**
 * One Node measurement for bench/vae.ts, in its own process so that its peak RSS is its own:
 * loads a bundle, encodes and decodes the input file's `video` tensor (warm-up, then the best
 * of --repeat), prints one JSON line. With --max-tiles the tiled encode stops after that many
 * tiles (all tiles are alike, so peak RSS is reached) and the full time is extrapolated.
 *
 *   node --import tsx bench/node_run.ts --bundle DIR --input FILE [--repeat 1] [--threads 2]
 *        [--dtype float32] [--tile 256] [--overlap 32] [--max-tiles 2] [--encode-only]
 *        [--device cuda:0] [--cudnn-benchmark]
 *
 * On CUDA the input is moved to the device first (transfers are not timed); the first call of
 * each (the warm-up) is reported as first_encode_s / first_decode_s: with --cudnn-benchmark it
 * holds cuDNN's algorithm search.
 */
import { parseArgs } from 'node:util'

import { cudnnBenchmarkState, memory, readSafetensors, setNumThreads, VideoVAE, VideoVaeError, type Tensor } from '../lib/index.js'

const { values } = parseArgs({
  options: {
    bundle: { type: 'string' },
    input: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    dtype: { type: 'string', default: 'float32' },
    tile: { type: 'string', default: '0' },
    overlap: { type: 'string', default: '32' },
    'max-tiles': { type: 'string', default: '0' },
    'encode-only': { type: 'boolean', default: false },
    device: { type: 'string', default: 'cpu' },
    'cudnn-benchmark': { type: 'boolean', default: false },
  },
})

const first: number[] = []

async function best<R>(repeat: number, fn: () => Promise<R>): Promise<[number, R]> {
  const start = performance.now()
  let out = await fn() // warm-up: TorchScript profiling runs, oneDNN primitive caches, cuDNN search
  first.push((performance.now() - start) / 1000)
  let seconds = Infinity
  for (let i = 0; i < repeat; i++) {
    const start = performance.now()
    out = await fn()
    seconds = Math.min(seconds, (performance.now() - start) / 1000)
  }
  return [seconds, out]
}

async function main(): Promise<void> {
  setNumThreads(Number(values.threads))
  const device = values.device as 'cpu'
  const vae = await VideoVAE.load(values.bundle!, { dtype: values.dtype as 'float32', device, cudnnBenchmark: values['cudnn-benchmark']! })
  const { tensors } = await readSafetensors(values.input!, { device })
  const video = tensors.video!
  const tile = Number(values.tile) ? { size: Number(values.tile), overlap: Number(values.overlap) } : undefined
  const maxTiles = Number(values['max-tiles'])
  if (maxTiles > 0) {
    // Partial tiled encode: time per tile, then extrapolate to all tiles.
    let total = 0
    let done = 0
    const controller = new AbortController()
    const start = performance.now()
    try {
      await vae.encode(video, {
        tile,
        memoryLimit: false, // the bench measures peak memory itself, on sizes chosen for it
        signal: controller.signal,
        onProgress: (d, t) => {
          done = d
          total = t
          if (d >= maxTiles) controller.abort()
        },
      })
    } catch (err) {
      if (!(err instanceof VideoVaeError && err.code === 'ERR_ABORTED')) throw err
    }
    const perTile = (performance.now() - start) / 1000 / done
    const rss = process.resourceUsage().maxRSS / 1024
    console.log(JSON.stringify({ tiles_done: done, tiles_total: total, encode_s: perTile * total, extrapolated: true, peak_rss_mb: rss, mode: vae.info.mode }))
    return
  }
  const [encodeS, latent] = await best(Number(values.repeat), () => vae.encode(video, { tile, memoryLimit: false }))
  let decodeS: number | null = null
  if (!values['encode-only']) [decodeS] = await best(Number(values.repeat), () => vae.decode(latent as Tensor, { tile, memoryLimit: false }))
  const cudaPeak = memory().cuda?.find((d) => d.device === vae.device)
  console.log(
    JSON.stringify({
      encode_s: encodeS,
      decode_s: decodeS,
      first_encode_s: first[0],
      first_decode_s: first[1] ?? null,
      cudnn_benchmark: cudnnBenchmarkState(vae.device),
      peak_rss_mb: process.resourceUsage().maxRSS / 1024,
      ...(cudaPeak ? { cuda_reserved_mb: cudaPeak.reservedBytes / 2 ** 20 } : {}),
      mode: vae.info.mode,
      host_cache: memory().hostCache,
    }),
  )
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
