// Tensor: creation (zero-copy and copy), metadata, data(), to(), dispose, counters.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { memory, Tensor, type DType, type TensorArray } from '../../lib/index.js'

/** memory() without the transfer counters, which only grow (the live counters must come back). */
function withoutTransfers(m: ReturnType<typeof memory>): Omit<ReturnType<typeof memory>, 'transfers'> {
  const { transfers: _transfers, ...live } = m
  return live
}

function liveCounters(): Omit<ReturnType<typeof memory>, 'transfers'> {
  return withoutTransfers(memory())
}
import { native } from '../../lib/native.js'

const samples: [DType, TensorArray][] = [
  ['float32', new Float32Array([1.5, -2, 3, 4, 5, 6])],
  ['float64', new Float64Array([1 / 3, 2, 3, 4, 5, 6])],
  ['float16', new Uint16Array([0x3c00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600])],
  ['bfloat16', new Uint16Array([0x3f80, 0x4000, 0x4040, 0x4080, 0x40a0, 0x40c0])],
  ['uint8', new Uint8Array([0, 1, 2, 253, 254, 255])],
  ['int8', new Int8Array([-128, -1, 0, 1, 2, 127])],
  ['int16', new Int16Array([-32768, -1, 0, 1, 2, 32767])],
  ['int32', new Int32Array([-(2 ** 31), -1, 0, 1, 2, 2 ** 31 - 1])],
  ['int64', new BigInt64Array([-(2n ** 63n), -1n, 0n, 1n, 2n ** 40n, 2n ** 63n - 1n])],
  ['bool', new Uint8Array([1, 0, 1, 1, 0, 0])],
]

test('every dtype round-trips through a tensor, with the typed array that carries it', async () => {
  for (const [dtype, data] of samples) {
    const t = Tensor.from(data, [2, 3], { dtype })
    assert.equal(t.dtype, dtype)
    assert.deepEqual(t.shape, [2, 3])
    assert.equal(t.device, 'cpu')
    assert.equal(t.numel, 6)
    const back = await t.data()
    assert.equal(back.constructor, data.constructor, dtype)
    assert.deepEqual(back, data, dtype)
    t.dispose()
  }
})

test('dtype is inferred from the typed array; Uint16Array needs an explicit dtype', () => {
  assert.equal(Tensor.from(new Int32Array(2), [2]).dtype, 'int32')
  assert.equal(Tensor.from(Buffer.from([1, 2, 3]), [3]).dtype, 'uint8')
  assert.throws(() => Tensor.from(new Uint16Array(2), [2]), { code: 'ERR_DTYPE' })
})

test('creation is zero-copy on CPU and copies on request', async () => {
  const shared = new Float32Array([1, 2, 3])
  const copied = new Float32Array([1, 2, 3])
  const a = Tensor.from(shared, [3])
  const b = Tensor.from(copied, [3], { copy: true })
  shared[0] = 100
  copied[0] = 100
  assert.deepEqual(await a.data(), new Float32Array([100, 2, 3]))
  assert.deepEqual(await b.data(), new Float32Array([1, 2, 3]))
  // data() is a copy: writing to it does not touch the tensor.
  const out = (await a.data()) as Float32Array
  out[1] = -1
  assert.deepEqual(await a.data(), new Float32Array([100, 2, 3]))
  a.dispose()
  b.dispose()
})

test('a view into a larger buffer reads only its own elements', async () => {
  const big = new Float32Array([9, 9, 1, 2, 3, 4, 9])
  const t = Tensor.from(big.subarray(2, 6), [2, 2])
  assert.deepEqual(await t.data(), new Float32Array([1, 2, 3, 4]))
  t.dispose()
})

test('resizable ArrayBuffers are copied (their memory may move)', async () => {
  const ResizableArrayBuffer = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer
  const buffer = new ResizableArrayBuffer(16, { maxByteLength: 64 })
  const view = new Float32Array(buffer, 0, 4)
  view.set([1, 2, 3, 4])
  const t = Tensor.from(view, [4])
  view[0] = 50
  assert.deepEqual(await t.data(), new Float32Array([1, 2, 3, 4]))
  t.dispose()
})

test('to() converts dtype and returns a new tensor', async () => {
  const t = Tensor.from(new Float32Array([1, 2.5, -3]), [3])
  const h = await t.to({ dtype: 'float16' })
  assert.equal(h.dtype, 'float16')
  assert.deepEqual(await h.data(), new Uint16Array([0x3c00, 0x4100, 0xc200]))
  const i = await t.to({ dtype: 'int64', device: 'cpu' })
  assert.deepEqual(await i.data(), new BigInt64Array([1n, 2n, -3n]))
  assert.equal(t.dtype, 'float32')
  for (const x of [t, h, i]) x.dispose()
})

test('data() also works when external ArrayBuffers are forbidden (the Electron path)', async () => {
  const t = Tensor.from(new Float32Array([1, 2, 3, 4]), [2, 2])
  native().setExternalBuffers(false)
  try {
    assert.deepEqual(await t.data(), new Float32Array([1, 2, 3, 4]))
  } finally {
    native().setExternalBuffers(true)
  }
  t.dispose()
})

test('empty and scalar tensors', async () => {
  const empty = Tensor.from(new Float32Array(0), [0, 3])
  assert.deepEqual(empty.shape, [0, 3])
  assert.deepEqual(await empty.data(), new Float32Array(0))
  const scalar = Tensor.from(new Float32Array([7]), [])
  assert.deepEqual(scalar.shape, [])
  assert.deepEqual(await scalar.data(), new Float32Array([7]))
  empty.dispose()
  scalar.dispose()
})

test('dispose is idempotent, Symbol.dispose works, and counters follow', () => {
  const before = memory()
  const t = Tensor.from(new Float32Array(256), [16, 16])
  assert.equal(memory().tensors, before.tensors + 1)
  assert.equal(memory().hostBytes, before.hostBytes + 1024)
  t.dispose()
  t.dispose()
  assert.equal(t.disposed, true)
  assert.equal(String(t), 'Tensor(disposed)')
  {
    using scoped = Tensor.from(new Float32Array(4), [4])
    assert.equal(memory().tensors, before.tensors + 1)
    assert.equal(scoped.disposed, false)
  }
  assert.deepEqual(liveCounters(), withoutTransfers(before))
})

test('a tensor disposed while data() runs still resolves (the job holds its own reference)', async () => {
  const t = Tensor.from(new Float32Array([1, 2, 3]), [3])
  const pending = t.data()
  t.dispose()
  assert.deepEqual(await pending, new Float32Array([1, 2, 3]))
})

test('a zero-copy tensor whose ArrayBuffer was transferred away refuses to be used', async () => {
  const data = new Float32Array([1, 2, 3])
  const t = Tensor.from(data, [3])
  structuredClone(data.buffer, { transfer: [data.buffer] })
  assert.equal(data.buffer.byteLength, 0)
  await assert.rejects(t.data(), { code: 'ERR_DISPOSED', message: /detached/ })
  t.dispose()
})
