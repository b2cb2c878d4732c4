// `videovae batch` with a caption-conditioned bundle (the 16z_cap parity model with the tiny T5
// inside): each item is encoded with its own caption, as VideoVAE.encode does it, the index
// records the caption, and an item without one fails with ERR_TEXT while the run goes on.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { VideoVAE } from '../../lib/vae.js'
import { cli, json, needsPython, tempDir } from '../cli/helpers.js'
import { captionBundle } from '../support/text.js'
import { BATCH_TOLERANCE, jsonl, makeClips, maxAbsDiff, readWithPython, referenceLatents } from './helpers.js'

describe('videovae batch with captions (text bundle)', { skip: needsPython }, () => {
  const dir = tempDir()
  const clips = makeClips(dir, 2)
  // The same clip under two captions: if the caption were ignored, their latents would be equal.
  const items = [
    { id: 'dog', path: clips[0]!, caption: 'a dog running in the park' },
    { id: 'sunset', path: clips[0]!, caption: 'Aerial view of a golden beach at sunset.' },
    { id: 'bars', path: clips[1]!, caption: 'colour bars' },
    { id: 'none', path: clips[1]! },
  ]
  const manifest = path.join(dir, 'm.jsonl')
  fs.writeFileSync(manifest, items.map((o) => JSON.stringify(o)).join('\n'))

  it('encodes every item with its caption, records it, and fails the uncaptioned one', async () => {
    const bundle = captionBundle()
    const out = path.join(dir, 'out')
    const r = cli(['batch', manifest, '-o', out, '--bundle', bundle, '--threads', '2', '--batch-size', '2', '--json'])
    assert.equal(r.code, 3, r.stderr) // the item without a caption failed
    assert.equal(json<{ encoded: number }>(r).encoded, 3)
    const failures = jsonl<{ id: string; code: string; error: string }>(path.join(out, 'failures.jsonl'))
    assert.deepEqual(
      failures.map((f) => [f.id, f.code]),
      [['none', 'ERR_TEXT']],
    )
    assert.match(failures[0]!.error, /needs a caption and the manifest gives none/)

    const { entries, tensors } = readWithPython(out)
    assert.deepEqual(Object.fromEntries(entries.map((e) => [e.id, e.caption])), { dog: items[0]!.caption, sunset: items[1]!.caption, bars: items[2]!.caption })
    const vae = await VideoVAE.load(bundle, { threads: 2 })
    try {
      for (const item of items.slice(0, 3)) {
        const ref = await referenceLatents(vae, item.path, undefined, item.caption)
        assert.ok(maxAbsDiff(tensors[item.id]!.mean!.data, ref.mean!) <= BATCH_TOLERANCE, `${item.id} mean`)
        assert.ok(maxAbsDiff(tensors[item.id]!.logvar!.data, ref.logvar!) <= BATCH_TOLERANCE, `${item.id} logvar`)
      }
    } finally {
      vae.dispose()
    }
    const captionEffect = maxAbsDiff(tensors.dog!.mean!.data, tensors.sunset!.mean!.data)
    assert.ok(captionEffect > 100 * BATCH_TOLERANCE, `the caption changes the latent (${captionEffect})`)
  })
})
