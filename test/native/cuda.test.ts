// CUDA paths. Without a GPU (or with a CPU libtorch) only the "absent" checks run; with one,
// transfers, module calls and allocator stats are exercised.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { cuda, cudnnBenchmarkState, memory, readSafetensors, Tensor, TorchModule, VideoVAE } from '../../lib/index.js'
import { fixtures } from './helpers/fixtures.js'

const hasCuda = cuda.isAvailable()
const needsCuda = { skip: hasCuda ? false : 'no CUDA device (or CPU-only libtorch)' }

test('without CUDA the queries answer plainly and nothing throws', { skip: hasCuda }, () => {
  assert.equal(cuda.deviceCount(), 0)
  cuda.emptyCache()
  assert.equal(memory().cuda, undefined)
})

test('float32 on CUDA is IEEE float32 unless TF32 is allowed', () => {
  assert.equal(cuda.tf32(), false)
  cuda.setTF32(true)
  assert.equal(cuda.tf32(), true)
  cuda.setTF32(false)
  assert.equal(cuda.tf32(), false)
  assert.throws(() => cuda.setTF32('yes' as unknown as boolean), { code: 'ERR_ARGUMENT' })
})

test('cuDNN benchmark mode: off by default, a process-wide switch, booleans only', () => {
  assert.equal(cuda.cudnnBenchmark(), false) // libtorch's default, as PyTorch's
  cuda.setCudnnBenchmark(true)
  assert.equal(cuda.cudnnBenchmark(), true)
  for (const bad of ['yes', 1, null, undefined]) {
    assert.throws(() => cuda.setCudnnBenchmark(bad as unknown as boolean), { code: 'ERR_ARGUMENT', message: /boolean/ })
  }
  assert.equal(cuda.cudnnBenchmark(), true, 'a refused value changes nothing')
  cuda.setCudnnBenchmark(false)
  assert.equal(cuda.cudnnBenchmark(), false)
  // Only CUDA runs can be affected, and the report says so.
  cuda.setCudnnBenchmark(true)
  assert.deepEqual(cudnnBenchmarkState('cpu'), { enabled: true, applies: false })
  assert.deepEqual(cudnnBenchmarkState('cuda:0'), { enabled: true, applies: hasCuda })
  cuda.setCudnnBenchmark(false)
  assert.deepEqual(cudnnBenchmarkState('cuda:0'), { enabled: false, applies: false })
})

test('VideoVAE.load({ cudnnBenchmark }) sets the switch; a non-boolean is ERR_ARGUMENT before anything loads', async () => {
  await assert.rejects(VideoVAE.load('/nonexistent-bundle', { cudnnBenchmark: 'on' as unknown as boolean }), { code: 'ERR_ARGUMENT' })
  const vae = await VideoVAE.load(undefined, { cudnnBenchmark: true })
  assert.equal(cuda.cudnnBenchmark(), true)
  vae.dispose()
  ;(await VideoVAE.load(undefined, { cudnnBenchmark: false })).dispose()
  assert.equal(cuda.cudnnBenchmark(), false)
})

test('host -> CUDA -> host round trip through pinned memory', needsCuda, async () => {
  const data = new Float32Array(4096).map((_, i) => i / 7)
  const onGpu = Tensor.from(data, [64, 64], { device: 'cuda' })
  assert.equal(onGpu.device, 'cuda:0')
  assert.deepEqual(await onGpu.data(), data)
  const half = await onGpu.to({ dtype: 'float16' })
  const back = await half.to({ device: 'cpu', dtype: 'float32' })
  assert.equal(back.device, 'cpu')
  const values = (await back.data()) as Float32Array
  assert.ok(values.every((v, i) => Math.abs(v - data[i]) <= Math.abs(data[i]) * 1e-3 + 1e-3))
  const stats = memory().cuda!
  assert.ok(stats.length >= 1 && stats[0].allocatedBytes > 0 && stats[0].reservedBytes >= stats[0].allocatedBytes)
  for (const t of [onGpu, half, back]) t.dispose()
  cuda.emptyCache()
})

test('a module on CUDA matches the CPU result closely and refuses CPU inputs', needsCuda, async () => {
  const { tensors } = await readSafetensors(fixtures().parity)
  const net = await TorchModule.load(fixtures().convnet, { device: 'cuda:0' })
  assert.equal(net.device, 'cuda:0')
  await assert.rejects(net.forward(tensors.x), { code: 'ERR_DEVICE' })
  const x = await tensors.x.to({ device: 'cuda:0' })
  const y = (await net.forward(x)) as Tensor
  const got = (await y.data()) as Float32Array
  const want = (await tensors.y.data()) as Float32Array
  const worst = got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0)
  assert.ok(worst < 1e-4, `max abs difference ${worst} (TF32 must be off)`)
  await assert.rejects(TorchModule.load(fixtures().convnet, { device: `cuda:${cuda.deviceCount()}` }), { code: 'ERR_DEVICE' })
  for (const t of [x, y]) t.dispose()
  net.dispose()
})
