// Assertions the AOTInductor tests share: how far two tensors are apart, and which coded error
// a rejection carries.
import assert from 'node:assert/strict'

import { VideoVaeError, type Tensor } from '../../../lib/index.js'

/** Largest |a - b| over two float32 tensors of the same shape. */
export async function maxAbsDiff(a: Tensor, b: Tensor): Promise<number> {
  assert.deepEqual(a.shape, b.shape)
  const x = (await a.data()) as Float32Array
  const y = (await b.data()) as Float32Array
  let max = 0
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]! - y[i]!))
  return max
}

/** A validator for assert.rejects: a VideoVaeError with this code (and message words, if given). */
export const code =
  (c: string, words?: RegExp) =>
  (e: unknown): boolean =>
    e instanceof VideoVaeError && e.code === c && (!words || words.test(e.message))
