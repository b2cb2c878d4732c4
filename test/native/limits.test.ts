// Issue 27: process-wide knobs and inputs that used to crash or slip through. Thread counts
// beyond what OpenMP can create segfaulted the next job; setDeviceConcurrency took any kind and
// threw an uncoded RangeError; a SharedArrayBuffer-backed typed array gave ERR_INTERNAL.
import assert from 'node:assert/strict'
import os from 'node:os'
import { test } from 'node:test'

import { getNumThreads, maxThreads, setDeviceConcurrency, setNumThreads, Tensor } from '../../lib/index.js'

test('setNumThreads accepts 1 to maxThreads() and refuses the rest with ERR_ARGUMENT', () => {
  const max = maxThreads()
  assert.equal(max, Math.max(256, 4 * os.availableParallelism()))
  const before = getNumThreads()
  for (const bad of [10000, max + 1, 1e6, 0, -1, 1.5, Number.NaN, Infinity]) {
    assert.throws(() => setNumThreads(bad), { code: 'ERR_ARGUMENT', message: /threads must be an integer from 1 to \d+/ }, String(bad))
  }
  assert.equal(getNumThreads(), before, 'a refused count changes nothing')
  setNumThreads(1)
  assert.equal(getNumThreads(), 1)
})

test('setDeviceConcurrency refuses unknown device kinds and non-positive counts with ERR_ARGUMENT', () => {
  assert.throws(() => setDeviceConcurrency('cpu', 0), { code: 'ERR_ARGUMENT', message: /jobs must be a positive integer, got 0/ })
  assert.throws(() => setDeviceConcurrency('cuda', 1.5), { code: 'ERR_ARGUMENT' })
  assert.throws(() => setDeviceConcurrency('tpu' as 'cpu', 1), { code: 'ERR_ARGUMENT', message: /'cpu' or 'cuda', got tpu/ })
  setDeviceConcurrency('cpu', 3)
})

test('Tensor.from copies a SharedArrayBuffer-backed typed array', async () => {
  const shared = new Float32Array(new SharedArrayBuffer(6 * 4))
  shared.set([0, 0.5, 1, 1.5, 2, 2.5])
  const t = Tensor.from(shared, [2, 3])
  shared[0] = 99 // another thread may write shared memory at any time: the tensor holds a copy
  assert.deepEqual(Array.from((await t.data()) as Float32Array), [0, 0.5, 1, 1.5, 2, 2.5])
  const bytes = Tensor.from(new Uint8Array(new SharedArrayBuffer(4)).fill(7), [4], { dtype: 'uint8' })
  assert.deepEqual(Array.from((await bytes.data()) as Uint8Array), [7, 7, 7, 7])
  t.dispose()
  bytes.dispose()
})
