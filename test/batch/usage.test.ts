// --help of the dataset commands and their usage errors. No model runs here.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { cli, tempDir } from '../cli/helpers.js'

describe('batch, worker, stats: help and usage', () => {
  const dir = tempDir()

  it('are listed and have --help', () => {
    const r = cli(['--help'])
    for (const c of ['batch', 'worker', 'stats']) {
      assert.match(r.stdout, new RegExp(`^\\s+${c}\\b`, 'm'))
      const h = cli([c, '--help'])
      assert.equal(h.code, 0, h.stderr)
      assert.match(h.stdout, new RegExp(`^Usage: videovae ${c}`))
    }
  })

  it('usage errors exit 2 and name the problem', () => {
    const manifest = path.join(dir, 'm.csv')
    fs.writeFileSync(manifest, 'path\na.mp4\n')
    const cases: [string[], RegExp][] = [
      [['batch', manifest], /batch needs -o OUTDIR \(or --queue to enqueue for workers\)/],
      [['batch', manifest, '--queue', 'redis://h:1/q', '-o', dir], /with --queue the workers write the output/],
      [['batch', manifest, '-o', dir, '--shard', '3/3'], /--shard must be i\/N with 0 <= i < N/],
      [['batch', manifest, '-o', dir, '--chunk-frames', '6'], /--chunk-frames must be a multiple of 4/],
      [['worker', '-o', dir], /required option '--queue <url>'/],
      [['stats'], /missing required argument 'outdir'/],
    ]
    for (const [args, message] of cases) {
      const r = cli(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, message)
    }
  })

  it('runtime errors exit 1 with a clear line', () => {
    let r = cli(['stats', dir])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /has no committed items \(no index\*\.jsonl lines\) \(ERR_INDEX\)/)
    r = cli(['batch', path.join(dir, 'nothing.csv'), '-o', path.join(dir, 'out')])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /nothing\.csv: no such manifest file, directory or matching pattern \(ERR_MANIFEST\)/)
    r = cli(['batch', path.join(dir, 'm.csv'), '-o', '/proc/nowhere/out'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /ERR_OUTPUT/)
  })
})
