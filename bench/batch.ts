/**
 * `videovae batch`'s pipeline (ffmpeg decoding the next clips while the model runs, same-size
 * clips batched) against a plain sequential loop (read, encode, write one clip after the
 * other), on the same generated clips, model and threads, in one run. Not a test.
 *
 *   node --import tsx bench/batch.ts [--clips 24] [--size 16x64x64] [--threads 2] [--batch-size 4] [--rounds 2]
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { runBatch } from '../lib/batch/runner.js'
import { readVideoFrames, setNumThreads, Tensor, VideoVAE, writeSafetensors } from '../lib/index.js'

const { values } = parseArgs({
  options: {
    clips: { type: 'string', default: '24' },
    size: { type: 'string', default: '16x64x64' },
    threads: { type: 'string', default: '2' },
    'batch-size': { type: 'string', default: '4' },
    rounds: { type: 'string', default: '2' },
  },
})
const [T, H, W] = values.size!.split('x').map(Number) as [number, number, number]
const SOURCES = ['testsrc2', 'testsrc', 'mandelbrot', 'smptebars', 'rgbtestsrc', 'yuvtestsrc']

function makeClips(dir: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const file = path.join(dir, `clip${i}.mp4`)
    execFileSync('ffmpeg', [
      '-nostdin',
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `${SOURCES[i % SOURCES.length]}=size=${W}x${H}:rate=8`,
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
}

/** The loop one would write without `videovae batch`. */
async function sequential(vae: VideoVAE, clips: string[], outdir: string): Promise<number> {
  fs.mkdirSync(outdir, { recursive: true })
  const start = performance.now()
  for (const [i, clip] of clips.entries()) {
    const { frames, shape } = await readVideoFrames(clip, { fit: 'pad' })
    const video = Tensor.from(frames, [1, ...shape], { dtype: 'uint8' })
    const post = await vae.encode(video, { posterior: true, chunkFrames: 16 })
    await writeSafetensors(path.join(outdir, `${i}.safetensors`), { mean: post.mean, logvar: post.logvar })
    for (const t of [video, post.mean, post.logvar, post.latent]) t.dispose()
  }
  return (performance.now() - start) / 1000
}

async function pipelined(vae: VideoVAE, clips: string[], outdir: string, batchSize: number): Promise<{ seconds: number; calls: number }> {
  const start = performance.now()
  const report = await runBatch(vae, {
    outdir,
    writer: '',
    items: clips.map((c, i) => ({ id: String(i), path: c })),
    encode: { store: 'posterior', chunkFrames: 16, batchSize },
    read: { read: { fit: 'pad' }, minFrames: 4 },
    itemsPerShard: 64,
    perItem: false,
  })
  if (report.encoded !== clips.length) throw new Error(`only ${report.encoded} of ${clips.length} encoded`)
  return { seconds: (performance.now() - start) / 1000, calls: report.encodeCalls }
}

async function main(): Promise<void> {
  setNumThreads(Number(values.threads))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-bench-batch-'))
  try {
    const clips = makeClips(dir, Number(values.clips))
    const vae = await VideoVAE.load(undefined, { threads: Number(values.threads) })
    await sequential(vae, clips.slice(0, 2), path.join(dir, 'warm')) // warm-up (first-call costs)
    const n = clips.length
    console.log(`${n} clips ${T}x${H}x${W}, default model, ${values.threads} threads, ${os.cpus().length} CPUs`)
    const ratios: number[] = []
    for (let round = 0; round < Number(values.rounds); round++) {
      const seq = await sequential(vae, clips, path.join(dir, `seq${round}`))
      const pipe = await pipelined(vae, clips, path.join(dir, `batch${round}`), Number(values['batch-size']))
      ratios.push(seq / pipe.seconds)
      console.log(
        `round ${round + 1}: sequential loop ${(n / seq).toFixed(2)} items/s, videovae batch ${(n / pipe.seconds).toFixed(2)} items/s ` +
          `(${pipe.calls} encode calls for ${n} clips): ${(seq / pipe.seconds).toFixed(2)}x`,
      )
    }
    console.log(`ratio (median): ${ratios.sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!.toFixed(2)}x`)
    vae.dispose()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
