// Batched encode calls run other conv kernels than single-clip ones, so a clip's latents move by
// float32 rounding (~1e-5) with the clips it happens to share a call with. `--batch-size 1`
// is the documented way to bitwise reproducible latents: each equals VideoVAE.encode of the
// clip alone, bit for bit (same threads), whatever else is in the run.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'

import { readSafetensors } from '../../lib/index.js'
import { VideoVAE } from '../../lib/vae.js'
import { cli, needsPython, ROOT, tempDir } from '../cli/helpers.js'
import { jsonl, makeClips, referenceLatents } from './helpers.js'

describe('batch --batch-size 1 is bitwise reproducible', { skip: needsPython }, () => {
  const dir = tempDir()
  const clips = makeClips(dir, 3)
  const manifest = path.join(dir, 'clips.jsonl')
  fs.writeFileSync(manifest, clips.map((c, i) => JSON.stringify({ path: c, id: `c${i}` })).join('\n'))
  const out = path.join(dir, 'out')
  let vae: VideoVAE
  before(async () => {
    vae = await VideoVAE.load(undefined, { threads: 2 })
  })
  after(() => vae?.dispose())

  it('every stored latent equals VideoVAE.encode of its clip bit for bit', async () => {
    const r = cli(['batch', manifest, '-o', out, '--batch-size', '1', '--threads', '2'])
    assert.equal(r.code, 0, r.stderr)
    const entries = jsonl<{ id: string; shard: string; offset: number }>(path.join(out, 'index.jsonl'))
    assert.deepEqual(entries.map((e) => e.id).sort(), ['c0', 'c1', 'c2'])
    for (const e of entries) {
      const ref = await referenceLatents(vae, clips[Number(e.id.slice(1))]!)
      const { tensors } = await readSafetensors(path.join(out, e.shard))
      for (const key of ['mean', 'logvar'] as const) {
        const got = (await tensors[`${e.offset}/${key}`]!.data()) as Float32Array
        assert.deepEqual(
          Buffer.from(got.buffer, got.byteOffset, got.byteLength),
          Buffer.from(ref[key]!.buffer, ref[key]!.byteOffset, ref[key]!.byteLength),
          `${e.id} ${key} is not bit-identical`,
        )
      }
      for (const t of Object.values(tensors)) t.dispose()
    }
  })

  it('the README names --batch-size 1 for bitwise reproducible latents', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('## Batch encoding'), readme.indexOf('\n## ', readme.indexOf('## Batch encoding') + 1))
    assert.match(section, /\*\*Reproducibility\.\*\*[^]*`--batch-size 1`[^]*bit for bit/)
  })
})
