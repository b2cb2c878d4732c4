import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { readImage, writeImage } from '../../lib/io/index.js'
import { psnr } from '../../lib/metrics/index.js'
import { evalDir, hasEval, hasSkimage, python, tempDir } from './helpers.js'

const T = { timeout: 30_000 }

/** A smooth 8-bit RGB test pattern with some detail. */
function pattern(w: number, h: number): Uint8Array {
  const d = new Uint8Array(w * h * 3)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3
      d[i] = (x * 255) / (w - 1)
      d[i + 1] = (y * 255) / (h - 1)
      d[i + 2] = 128 + 100 * Math.sin(x / 5) * Math.cos(y / 7)
    }
  }
  return d
}

describe('images', () => {
  let dir: string
  let cleanup: () => void
  before(() => ({ dir, cleanup } = tempDir()))
  after(() => cleanup())

  it('PNG round trip is exact (odd sizes too)', T, async () => {
    const data = pattern(37, 23)
    const out = join(dir, 'p.png')
    await writeImage(out, data, 37, 23)
    const back = await readImage(out)
    assert.equal(back.width, 37)
    assert.equal(back.height, 23)
    assert.deepEqual(Buffer.from(back.data), Buffer.from(data))
    assert.deepEqual(readdirSync(dir), ['p.png'])
  })

  it('JPEG honours quality', T, async () => {
    const data = pattern(64, 48)
    await writeImage(join(dir, 'hi.jpg'), data, 64, 48, { quality: 95 })
    await writeImage(join(dir, 'lo.jpeg'), data, 64, 48, { quality: 10 })
    const hi = psnr(data, (await readImage(join(dir, 'hi.jpg'))).data)
    const lo = psnr(data, (await readImage(join(dir, 'lo.jpeg'))).data)
    assert.ok(hi > 35, `q95: ${hi.toFixed(2)} dB`)
    assert.ok(hi > lo + 3, `q95 ${hi.toFixed(2)} dB, q10 ${lo.toFixed(2)} dB`)
  })

  it('a failed overwrite keeps the old image; bad arguments are refused', T, async () => {
    const out = join(dir, 'keep.png')
    await writeImage(out, pattern(8, 8), 8, 8)
    const before = readFileSync(out)
    await assert.rejects(writeImage(out, new Uint8Array(10), 8, 8), { code: 'ERR_ARGUMENT' })
    await assert.rejects(writeImage(out, pattern(8, 8), 8, 8, { quality: 0 }), { code: 'ERR_ARGUMENT' })
    await assert.rejects(writeImage(join(dir, 'x.gifx'), pattern(8, 8), 8, 8), { code: 'ERR_UNSUPPORTED' })
    await assert.rejects(writeImage(join(dir, 'no', 'x.png'), pattern(8, 8), 8, 8), { code: 'ERR_WRITE' })
    await assert.rejects(writeImage(out, pattern(8, 8), 8, 8, { overwrite: false }), { code: 'ERR_WRITE' })
    assert.deepEqual(readFileSync(out), before)
    assert.ok(
      readdirSync(dir).every((n) => !n.startsWith('.')),
      'no temporaries left',
    )
  })

  it('a corrupt PNG is reported, not decoded to garbage', T, async () => {
    const out = join(dir, 'c.png')
    await writeImage(out, pattern(64, 64), 64, 64)
    const bytes = readFileSync(out)
    writeFileSync(join(dir, 'cut.png'), bytes.subarray(0, 40))
    await assert.rejects(readImage(join(dir, 'cut.png')), (err: NodeJS.ErrnoException) => {
      assert.ok(['ERR_VIDEO_CORRUPT', 'ERR_UNSUPPORTED'].includes(String(err.code)), String(err.code))
      return true
    })
  })

  it(
    'reads the evaluation JPEGs like PIL (within chroma-upsampling differences)',
    {
      ...T,
      skip: (!hasEval || !hasSkimage) && 'needs ../shared/eval and .venv with numpy/PIL',
    },
    async (t) => {
      const name = readdirSync(join(evalDir, 'images'))
        .filter((n) => n.endsWith('.jpg'))
        .sort()[0] as string
      const path = join(evalDir, 'images', name)
      const img = await readImage(path)
      const raw = join(dir, 'pil.raw')
      const r = spawnSync(
        python,
        [
          '-c',
          [
            'import sys, numpy as np',
            'from PIL import Image',
            'a = np.asarray(Image.open(sys.argv[1]).convert("RGB"))',
            'a.tofile(sys.argv[2]); print(a.shape[1], a.shape[0])',
          ].join('\n'),
          path,
          raw,
        ],
        { encoding: 'utf8' },
      )
      assert.equal(r.status, 0, r.stderr)
      const [w, h] = r.stdout.trim().split(' ').map(Number)
      assert.deepEqual([img.width, img.height], [w, h])
      const pil = new Uint8Array(readFileSync(raw))
      let sad = 0
      for (let i = 0; i < pil.length; i++) sad += Math.abs((pil[i] as number) - (img.data[i] as number))
      const mad = sad / pil.length
      t.diagnostic(`${name} ${w}x${h}: mean |ffmpeg - PIL| = ${mad.toFixed(3)} levels`)
      assert.ok(mad < 2, `mean |ffmpeg - PIL| = ${mad.toFixed(3)}`)
    },
  )
})
