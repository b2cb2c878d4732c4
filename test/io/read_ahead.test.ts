// readAhead: the next chunk is requested as soon as one is handed out (decode overlaps the
// consumer's work), order and errors are kept, and an early stop closes the source.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { readAhead } from '../../lib/io/read_ahead.js'

test('asks for the next item while the consumer works on the current one', async () => {
  const started: number[] = []
  async function* source(): AsyncGenerator<number> {
    for (let i = 0; i < 3; i++) {
      started.push(i)
      await new Promise((resolve) => setTimeout(resolve, 5))
      yield i
    }
  }
  const seen: [number, number[]][] = []
  for await (const v of readAhead(source())) {
    seen.push([v, [...started]])
    await new Promise((resolve) => setTimeout(resolve, 20)) // the consumer's work
  }
  assert.deepEqual(seen, [
    [0, [0, 1]],
    [1, [0, 1, 2]],
    [2, [0, 1, 2]],
  ])
})

test('an error of the source reaches the consumer in order, after the items before it', async () => {
  async function* source(): AsyncGenerator<number> {
    yield 0
    yield 1
    throw new Error('corrupt frame')
  }
  const seen: number[] = []
  await assert.rejects(async () => {
    for await (const v of readAhead(source())) seen.push(v)
  }, /corrupt frame/)
  assert.deepEqual(seen, [0, 1])
})

test('a consumer that stops early closes the source', async () => {
  let closed = false
  async function* source(): AsyncGenerator<number> {
    try {
      for (let i = 0; ; i++) yield i
    } finally {
      closed = true
    }
  }
  for await (const v of readAhead(source())) if (v === 1) break
  assert.equal(closed, true)
})
