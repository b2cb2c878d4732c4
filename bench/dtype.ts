/**
 * float32 against bfloat16 (and float16) compute on this machine: encode+decode time and the
 * error of the reduced-precision latent against float32, in one run. Not a test.
 *
 *   node --import tsx bench/dtype.ts [--case 16z-ch32-video] [--size 8x128x128] [--threads 2]
 */
import { parseArgs } from 'node:util'

import { setNumThreads, Tensor, VideoVAE } from '../lib/index.js'
import { maxAbsDiff, parityBundle } from '../test/support/parity.js'

const { values } = parseArgs({
  options: {
    case: { type: 'string', default: '16z-ch32-video' },
    size: { type: 'string', default: '8x128x128' },
    threads: { type: 'string', default: '2' },
    dtypes: { type: 'string', default: 'float32,bfloat16' },
  },
})
const [T, H, W] = values.size!.split('x').map(Number) as [number, number, number]

async function main(): Promise<void> {
  setNumThreads(Number(values.threads))
  const x = Tensor.from(
    new Float32Array(3 * T * H * W).map(() => Math.random() * 2 - 1),
    [1, 3, T, H, W],
  )
  let reference: Float32Array | undefined
  for (const dtype of values.dtypes!.split(',') as ('float32' | 'bfloat16' | 'float16')[]) {
    const vae = await VideoVAE.load(parityBundle(values.case!), { dtype })
    await vae.decode(await vae.encode(x)) // warm-up
    const start = performance.now()
    const latent = await vae.encode(x)
    const mid = performance.now()
    await vae.decode(latent)
    const end = performance.now()
    const data = (await latent.data()) as Float32Array
    reference ??= data
    const scale = reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
    console.log(
      `${dtype.padEnd(9)} encode ${((mid - start) / 1000).toFixed(2)} s  decode ${((end - mid) / 1000).toFixed(2)} s  ` +
        `latent max abs error vs float32 ${maxAbsDiff(data, reference).toExponential(2)} (max |latent| ${scale.toFixed(2)})`,
    )
    vae.dispose()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
