// writeSafetensors from host typed arrays: the same bytes as from Tensors, read by Python, bad input refused.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { Tensor, writeSafetensors, type HostArray } from '../../lib/index.js'
import { tempDir } from './helpers/fixtures.js'
import { readSafetensorsInPython } from './helpers/python.js'

const dir = tempDir()

const hosts: Record<string, HostArray> = {
  latent: { data: new Float32Array([0.5, -1.25, 3e-8, 1e30, 0, -0]), shape: [1, 2, 3] },
  f64: { data: new Float64Array([Math.PI]), shape: [1] },
  f16: { data: new Uint16Array([0x3c00, 0xc000, 0x7bff]), shape: [3], dtype: 'float16' },
  bf16: { data: new Uint16Array([0x3f80, 0x4049]), shape: [2], dtype: 'bfloat16' },
  mask: { data: new Uint8Array([1, 0, 1]), shape: [3], dtype: 'bool' },
  i64: { data: new BigInt64Array([-(2n ** 62n), 2n ** 50n + 1n]), shape: [2] },
  scalar: { data: new Float32Array([42]), shape: [] },
}

test('host arrays write the same bytes as the same data in Tensors', async () => {
  const fromHost = path.join(dir, 'host.safetensors')
  const fromTensors = path.join(dir, 'tensors.safetensors')
  const tensors = Object.fromEntries(
    Object.entries(hosts).map(([k, h]) => [k, Tensor.from(h.data, [...h.shape], h.dtype === undefined ? {} : { dtype: h.dtype })]),
  )
  await writeSafetensors(fromHost, hosts, { note: 'x' })
  await writeSafetensors(fromTensors, tensors, { note: 'x' })
  const bytes = fs.readFileSync(fromHost)
  assert.ok(bytes.length > 100)
  assert.deepEqual(bytes, fs.readFileSync(fromTensors))
  for (const t of Object.values(tensors)) t.dispose()
})

test('Python safetensors reads what was written from host arrays, a Tensor beside them', async () => {
  const file = path.join(dir, 'mixed.safetensors')
  await writeSafetensors(file, { ...hosts, text: Tensor.from(new Int32Array([7, -7]), [2, 1]) }, { producer: 'node' })
  const { meta, tensors: seen } = readSafetensorsInPython(file)
  assert.deepEqual(meta, { producer: 'node' })
  assert.deepEqual(seen.latent, { dtype: 'float32', shape: [1, 2, 3], values: Array.from(hosts.latent!.data as Float32Array) })
  assert.deepEqual(seen.f64, { dtype: 'float64', shape: [1], values: [Math.PI] })
  assert.deepEqual(seen.f16, { dtype: 'float16', shape: [3], values: [0x3c00, 0xc000, 0x7bff] })
  assert.deepEqual(seen.bf16, { dtype: 'bfloat16', shape: [2], values: [0x3f80, 0x4049] })
  assert.deepEqual(seen.mask, { dtype: 'bool', shape: [3], values: [1, 0, 1] })
  assert.deepEqual(seen.i64, { dtype: 'int64', shape: [2], values: [String(-(2n ** 62n)), String(2n ** 50n + 1n)] })
  assert.deepEqual(seen.scalar, { dtype: 'float32', shape: [], values: [42] })
  assert.deepEqual(seen.text, { dtype: 'int32', shape: [2, 1], values: [7, -7] })
})

test('host arrays that do not match their shape or dtype are refused before anything is written', async () => {
  const file = path.join(dir, 'bad.safetensors')
  const bad: [unknown, string, RegExp][] = [
    [{ data: new Float32Array(6), shape: [2, 2] }, 'ERR_SHAPE', /'x' has 6 values for shape \[2, 2\]/],
    [{ data: new Float32Array(2), shape: [2.5] }, 'ERR_SHAPE', /not a list of non-negative integers/],
    [{ data: new Float32Array(2), shape: [2], dtype: 'int32' }, 'ERR_DTYPE', /Float32Array does not carry int32/],
    [{ data: new Uint16Array(2), shape: [2] }, 'ERR_DTYPE', /float16 or bfloat16/],
    [{ data: new Float32Array(2), shape: [2], dtype: 'float8' }, 'ERR_DTYPE', /unknown dtype "float8"/],
    [{ data: [1, 2], shape: [2] }, 'ERR_ARGUMENT', /'x' is neither a Tensor nor/],
    [new Float32Array(2), 'ERR_ARGUMENT', /'x' is neither a Tensor nor/],
  ]
  for (const [value, code, message] of bad) {
    await assert.rejects(
      writeSafetensors(file, { x: value as HostArray }),
      (e: { code?: string; message: string }) => e.code === code && message.test(e.message),
    )
  }
  assert.equal(fs.existsSync(file), false)
  assert.deepEqual(
    fs.readdirSync(dir).filter((n) => n.includes('bad')),
    [],
  )
})
