// The CLI checks --chunk-frames, --tile, --tile-overlap (and batch --frames) against the
// bundle's manifest rules (lib/rules.ts): a value that breaks them is ERR_ARGUMENT with exit 2,
// naming the flag and the rule; a bundle with other rules accepts other values.
// Runs on the embedded default model (no ../shared).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { readVideoFrames } from '../../lib/io/index.js'
import { writeSafetensors } from '../../lib/safetensors.js'
import { defaultBundleDir } from '../../lib/vae.js'
import { cli, json, makeVideo, tempDir } from './helpers.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a manifest the test edits freely
type Manifest = Record<string, any>

describe('shape rules on the command line', () => {
  const dir = tempDir()
  const video = makeVideo(path.join(dir, 'v.mp4'), { frames: 8, width: 32, height: 32 })
  const out = (name: string): string => path.join(dir, name)
  const manifest = path.join(dir, 'm.csv')
  fs.writeFileSync(manifest, `path\n${video}\n`)
  // The same model with coarser rules: chunks of 8 frames, a 16-pixel grid.
  const coarse = path.join(dir, 'coarse')
  fs.cpSync(defaultBundleDir(), coarse, { recursive: true })
  const m = JSON.parse(fs.readFileSync(path.join(coarse, 'manifest.json'), 'utf8')) as Manifest
  m.rules = { t_multiple: 8, t_min: 8, hw_multiple: 16 }
  fs.writeFileSync(path.join(coarse, 'manifest.json'), JSON.stringify(m))

  const usage = (args: string[], message: RegExp): void => {
    const r = cli(args)
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}\n${r.stderr}`)
    assert.match(r.stderr, new RegExp(`^videovae: ${message.source}.* \\(ERR_ARGUMENT\\)\\n$`))
    assert.equal(r.stdout, '')
  }

  const cases: [string, string[], RegExp][] = [
    [
      'encode --chunk-frames 6',
      ['encode', video, '-o', out('a.safetensors'), '--chunk-frames', '6'],
      /--chunk-frames must be a multiple of 4 \(the bundle's rules\.t_multiple\) and positive on the video path, got 6/,
    ],
    [
      'encode --tile-overlap 4',
      ['encode', video, '-o', out('a.safetensors'), '--tile', '32', '--tile-overlap', '4'],
      /--tile-overlap must be 0 or a multiple of 8 \(the bundle's rules\.hw_multiple\) below --tile \(32\), got 4/,
    ],
    ['reconstruct --chunk-frames 2', ['reconstruct', video, '-o', out('r.mp4'), '--chunk-frames', '2'], /--chunk-frames must be a multiple of 4/],
    [
      'info --tile 12',
      ['info', '--size', '8x64x64', '--tile', '12'],
      /--tile must be a multiple of 8 \(the bundle's rules\.hw_multiple\) and positive, got 12/,
    ],
    ['batch --chunk-frames 10', ['batch', manifest, '-o', out('ds'), '--chunk-frames', '10'], /--chunk-frames must be a multiple of 4/],
    [
      'batch --frames 3',
      ['batch', manifest, '-o', out('ds'), '--frames', '3'],
      /--frames must be at least 4 \(the bundle's rules\.t_min\) on the video path, got 3/,
    ],
    [
      'coarse bundle: info --chunk-frames 4',
      ['info', '--bundle', coarse, '--chunk-frames', '4'],
      /--chunk-frames must be a multiple of 8 \(the bundle's rules\.t_multiple\)/,
    ],
    ['coarse bundle: encode --tile 24', ['encode', video, '-o', out('a.safetensors'), '--bundle', coarse, '--tile', '24'], /--tile must be a multiple of 16/],
  ]
  for (const [name, args, message] of cases) it(`${name}: exit 2, ERR_ARGUMENT`, () => usage(args, message))

  it('decode checks the chunk against the same rules', async () => {
    const latent = out('v.safetensors')
    await writeSafetensors(latent, { latent: { data: new Float32Array(16 * 2 * 4 * 4), shape: [1, 16, 2, 4, 4] } })
    usage(['decode', latent, '-o', out('d.mp4'), '--chunk-frames', '6'], /--chunk-frames must be a multiple of 4/)
    const r = cli(['decode', latent, '-o', out('d.mp4'), '--chunk-frames', '4'])
    assert.equal(r.code, 0, r.stderr)
  })

  it('the coarse bundle accepts what its rules allow, and --fit pads to its grid', () => {
    // 40x24 frames: padded to 48x32 on the 16-pixel grid (to 40x24 on the default 8-pixel one).
    const odd = makeVideo(out('odd.mp4'), { frames: 8, width: 40, height: 24 })
    const r = cli(['encode', odd, '-o', out('c.safetensors'), '--bundle', coarse, '--chunk-frames', '8', '--tile', '16', '--tile-overlap', '0', '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(json<{ outputs: { shape: number[] }[] }>(r).outputs[0]!.shape, [1, 16, 2, 4, 6])
  })

  it('readVideo fits sizes to fitMultiple', async () => {
    const odd = makeVideo(out('odd2.mp4'), { frames: 4, width: 40, height: 24 })
    const sizes = async (fit: 'pad' | 'crop' | 'resize', fitMultiple?: number): Promise<number[]> =>
      (await readVideoFrames(odd, { fit, ...(fitMultiple === undefined ? {} : { fitMultiple }) })).shape.slice(1, 3)
    assert.deepEqual(await sizes('pad'), [24, 40])
    assert.deepEqual(await sizes('pad', 16), [32, 48])
    assert.deepEqual(await sizes('crop', 16), [16, 32])
    assert.deepEqual(await sizes('resize', 16), [32, 48])
    await assert.rejects(readVideoFrames(odd, { fit: 'pad', fitMultiple: 0 }), {
      code: 'ERR_ARGUMENT',
      message: /fitMultiple must be a positive integer, got 0/,
    })
  })
})
