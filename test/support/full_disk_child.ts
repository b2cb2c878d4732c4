/**
 * Runs one write in a child process that a test starts under a small file-size limit (or on a
 * small tmpfs): `node --import tsx full_disk_child.ts KIND DEST [N]`. Prints one JSON line,
 * {"ok":true} or {"ok":false,"code","message"}, and exits 0 either way (a crash exits non-zero).
 * KIND: safetensors (N float32 values), video (N frames of 64x64 noise, mp4), sequence (N PNGs
 * of noise), index (appends N index lines to DEST with IndexAppender).
 */
import { IndexAppender } from '../../lib/batch/dataset_index.js'
import { writeVideo } from '../../lib/io/video_writer.js'

const [kind, dest, nText] = process.argv.slice(2)
const n = Number(nText ?? '0')

/** Deterministic noise (incompressible, so the encoded size tracks the frame count). */
function noise(length: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = 12345
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

async function main(): Promise<void> {
  if (kind === 'safetensors') {
    const { Tensor, writeSafetensors } = await import('../../lib/index.js')
    const t = Tensor.from(
      Float32Array.from({ length: n }, (_, i) => i),
      [n],
    )
    await writeSafetensors(dest!, { t }, { note: 'full disk' })
  } else if (kind === 'video' || kind === 'sequence') {
    await writeVideo(dest!, { frames: noise(n * 64 * 64 * 3), shape: [n, 64, 64, 3], fps: 8 }, { crf: 0 })
  } else if (kind === 'index') {
    const index = await IndexAppender.open(dest!)
    try {
      const shapes = { mean: [16, 1, 8, 8] }
      await index.append(
        Array.from({ length: n }, (_, i) => ({
          id: `item-${i}`,
          source: `/clips/${i}.mp4`,
          shard: 'data/shard-00000.safetensors',
          offset: i,
          shapes,
          fps: '8/1',
          frames: 4,
          width: 64,
          height: 64,
          bundle: 'x'.repeat(64),
        })),
      )
    } finally {
      await index.close()
    }
  } else {
    throw new Error(`unknown kind ${kind}`)
  }
}

main().then(
  () => console.log(JSON.stringify({ ok: true })),
  (err: unknown) => console.log(JSON.stringify({ ok: false, code: (err as { code?: string }).code, message: (err as Error).message })),
)
