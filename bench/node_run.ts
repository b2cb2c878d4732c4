/**
 * One Node measurement for bench/vae.ts, in its own process so that its peak RSS is its own:
 * loads a bundle, encodes and decodes the input file's `video` tensor (warm-up, then the best
 * of --repeat), prints one JSON line. With --max-tiles the tiled encode stops after that many
 * tiles (all tiles are alike, so peak RSS is reached) and the full time is extrapolated.
 *
 *   node --import tsx bench/node_run.ts --bundle DIR --input FILE [--repeat 1] [--threads 2]
 *        [--dtype float32] [--tile 256] [--overlap 32] [--max-tiles 2] [--encode-only]
 */
import { parseArgs } from 'node:util'

import { memory, readSafetensors, setNumThreads, VideoVAE, VideoVaeError, type Tensor } from '../lib/index.js'

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
    'encode-only': { type: 'boolean', default: false }
  }
})

async function best<R>(repeat: number, fn: () => Promise<R>): Promise<[number, R]> {
  let out = await fn() // warm-up: TorchScript profiling runs, oneDNN primitive caches
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
  const vae = await VideoVAE.load(values.bundle!, { dtype: values.dtype as 'float32' })
  const { tensors } = await readSafetensors(values.input!)
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
        }
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
  console.log(JSON.stringify({ encode_s: encodeS, decode_s: decodeS, peak_rss_mb: process.resourceUsage().maxRSS / 1024, mode: vae.info.mode, host_cache: memory().hostCache }))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
