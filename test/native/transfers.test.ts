// memory().transfers counts every copy between JS memory and native tensors (Tensor.from up,
// data() down, in count and bytes); the engine's native latent ops (a narrow view, a cat along
// T) move nothing across and give the same numbers as slicing and joining in JS.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { catT, latentChunks, narrowT } from '../../lib/engine/latent_ops.js'
import { memory, Tensor } from '../../lib/index.js'
import { transfersSince } from '../../lib/runtime.js'

test('Tensor.from and data() are counted once each, in bytes', async () => {
  const before = memory().transfers
  const t = Tensor.from(
    new Float32Array(24).map((_, i) => i),
    [2, 3, 4],
  )
  const u = Tensor.from(new Uint8Array(10), [10], { dtype: 'uint8', copy: true })
  await t.data()
  const moved = transfersSince(before)
  t.dispose()
  u.dispose()
  assert.deepEqual(moved, { toNative: { count: 2, bytes: 96 + 10 }, toHost: { count: 1, bytes: 96 } })
})

test('narrowT and catT: native views and joins along T, no transfer', async () => {
  // [1, 2, 5, 1, 3]: value = 100 * c + 10 * t + x
  const data = new Float32Array(30)
  for (let c = 0; c < 2; c++) for (let t = 0; t < 5; t++) for (let x = 0; x < 3; x++) data[(c * 5 + t) * 3 + x] = 100 * c + 10 * t + x
  const latent = Tensor.from(data, [1, 2, 5, 1, 3])
  const before = memory().transfers
  const a = narrowT(latent, 0, 2)
  const b = narrowT(latent, 2, 3)
  assert.deepEqual(b.shape, [1, 2, 3, 1, 3])
  const joined = await catT([b, a])
  const moved = transfersSince(before)
  assert.deepEqual(moved, { toNative: { count: 0, bytes: 0 }, toHost: { count: 0, bytes: 0 } })
  const got = (await joined.data()) as Float32Array
  const order = [2, 3, 4, 0, 1]
  const expected = new Float32Array(30)
  for (let c = 0; c < 2; c++) for (let t = 0; t < 5; t++) for (let x = 0; x < 3; x++) expected[(c * 5 + t) * 3 + x] = 100 * c + 10 * order[t]! + x
  assert.deepEqual(got, expected)
  assert.throws(() => narrowT(latent, 4, 2), { code: 'ERR_SHAPE' })
  await assert.rejects(catT([latent, Tensor.from(new Float32Array(6), [1, 2, 1, 1, 3]), Tensor.from(new Float32Array(2), [1, 2, 1, 1, 1])]), {
    code: 'ERR_SHAPE',
  })

  // Chunks of 2 latent frames, 4 output frames each, 18 real frames: 8 + 8 + 2.
  const chunks = []
  for await (const c of latentChunks(latent, { step: 2, factor: 4, frames: 18 })) chunks.push([c.startFrame, c.frames, c.latent.shape[2]])
  assert.deepEqual(chunks, [
    [0, 8, 2],
    [8, 8, 2],
    [16, 2, 1],
  ])
  for (const t of [a, b, joined, latent]) t.dispose()
})
