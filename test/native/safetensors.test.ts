// safetensors compatibility both ways with the Python package, and atomic writes.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { readSafetensors, Tensor, writeSafetensors, type DType } from '../../lib/index.js'
import { fixtures, tempDir } from './helpers/fixtures.js'
import { readSafetensorsInPython } from './helpers/python.js'

const dir = tempDir()

/** data() as plain JSON-able values: int64 as strings, everything else as numbers. */
async function plain(tensor: Tensor): Promise<(number | string)[]> {
  const data: ArrayLike<number | bigint> = await tensor.data()
  return Array.from(data, (v) => (typeof v === 'bigint' ? v.toString() : v))
}

test('reads what Python safetensors wrote: every dtype, shapes and metadata', async () => {
  const expected = JSON.parse(fs.readFileSync(fixtures().dtypesJson, 'utf8')) as Record<string, { shape: number[]; values: unknown[] }>
  const { tensors, metadata } = await readSafetensors(fixtures().dtypes)
  assert.deepEqual(metadata, { source: 'python', format: 'pt' })
  assert.deepEqual(Object.keys(tensors).sort(), Object.keys(expected).sort())
  for (const [name, { shape, values }] of Object.entries(expected)) {
    assert.equal(tensors[name].dtype, name)
    assert.deepEqual(tensors[name].shape, shape, name)
    assert.deepEqual(await plain(tensors[name]), values, name)
  }
})

test('Python safetensors reads what Node wrote: every dtype, shapes and metadata', async () => {
  const file = path.join(dir, 'from-node.safetensors')
  const tensors: Record<string, Tensor> = {
    f32: Tensor.from(new Float32Array([0.5, -1.25, 3e-8, 1e30, 0, -0]), [3, 2]),
    f64: Tensor.from(new Float64Array([Math.PI]), [1]),
    f16: Tensor.from(new Uint16Array([0x3c00, 0xc000, 0x7bff]), [3], { dtype: 'float16' }),
    bf16: Tensor.from(new Uint16Array([0x3f80, 0x4049]), [2], { dtype: 'bfloat16' }),
    u8: Tensor.from(new Uint8Array([0, 7, 255]), [1, 3]),
    i8: Tensor.from(new Int8Array([-128, 127]), [2]),
    i16: Tensor.from(new Int16Array([-300, 300]), [2]),
    i32: Tensor.from(new Int32Array([-70000, 70000]), [2]),
    i64: Tensor.from(new BigInt64Array([-(2n ** 62n), 2n ** 50n + 1n]), [2]),
    flags: Tensor.from(new Uint8Array([1, 0, 1]), [3], { dtype: 'bool' }),
    scalar: Tensor.from(new Float32Array([42]), []),
  }
  await writeSafetensors(file, tensors, { producer: 'node', note: 'ünïcode ✓' })
  const { meta, tensors: seen } = readSafetensorsInPython(file)
  assert.deepEqual(meta, { producer: 'node', note: 'ünïcode ✓' })
  const pythonDtype: Record<DType, string> = {
    float32: 'float32',
    float64: 'float64',
    float16: 'float16',
    bfloat16: 'bfloat16',
    uint8: 'uint8',
    int8: 'int8',
    int16: 'int16',
    int32: 'int32',
    int64: 'int64',
    bool: 'bool',
  }
  for (const [name, tensor] of Object.entries(tensors)) {
    assert.equal(seen[name].dtype, pythonDtype[tensor.dtype], name)
    assert.deepEqual(seen[name].shape, tensor.shape, name)
    assert.deepEqual(seen[name].values, await plain(tensor), name)
  }
})

test('a round trip Node -> file -> Node keeps bytes exactly', async () => {
  const file = path.join(dir, 'roundtrip.safetensors')
  const { tensors } = await readSafetensors(fixtures().parity)
  await writeSafetensors(file, new Map(Object.entries(tensors)))
  const again = await readSafetensors(file)
  for (const name of ['x', 'y']) {
    const a = await tensors[name].data()
    const b = await again.tensors[name].data()
    assert.ok(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength)))
  }
})

test('writes are atomic: an existing file is replaced whole and no temp files remain', async () => {
  const sub = path.join(dir, 'atomic')
  fs.mkdirSync(sub)
  const file = path.join(sub, 'weights.safetensors')
  await writeSafetensors(file, { a: Tensor.from(new Float32Array([1]), [1]) })
  await writeSafetensors(file, { b: Tensor.from(new Float32Array([2, 3]), [2]) })
  assert.deepEqual(fs.readdirSync(sub), ['weights.safetensors'])
  const { tensors } = await readSafetensors(file)
  assert.deepEqual(Object.keys(tensors), ['b'])
  // A failing write (target directory missing) leaves nothing behind and says why.
  await assert.rejects(writeSafetensors(path.join(sub, 'missing', 'x.safetensors'), { a: tensors.b }), { code: 'ERR_IO' })
  assert.deepEqual(fs.readdirSync(sub), ['weights.safetensors'])
})

test('header is padded to 8 bytes and tensors are aligned for their dtype', async () => {
  const file = path.join(dir, 'aligned.safetensors')
  await writeSafetensors(file, {
    odd: Tensor.from(new Uint8Array([1, 2, 3]), [3]),
    wide: Tensor.from(new Float64Array([1, 2]), [2]),
    mid: Tensor.from(new Int32Array([5]), [1]),
  })
  const bytes = fs.readFileSync(file)
  const headerLength = Number(bytes.readBigUInt64LE(0))
  assert.equal((8 + headerLength) % 8, 0)
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString())
  assert.deepEqual(header.wide.data_offsets, [0, 16])
  assert.deepEqual(header.mid.data_offsets, [16, 20])
  assert.deepEqual(header.odd.data_offsets, [20, 23])
})
