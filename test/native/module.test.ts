// TorchModule: bitwise parity with PyTorch, argument/result kinds, concurrency, and the event
// loop staying responsive while a multi-second forward runs on a worker thread.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { getNumThreads, readSafetensors, setDeviceConcurrency, setNumThreads, Tensor, TorchModule } from '../../lib/index.js'
import { fixtures } from './helpers/fixtures.js'

const THREADS = 2 // the same as make_fixtures.py

function bytes(array: ArrayBufferView): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength)
}

test('a scripted conv net gives bitwise the same output in Node as in PyTorch', async () => {
  setNumThreads(THREADS)
  assert.equal(getNumThreads(), THREADS)
  const { tensors } = await readSafetensors(fixtures().parity)
  const net = await TorchModule.load(fixtures().convnet)
  const y = (await net.forward(tensors.x)) as Tensor
  assert.deepEqual(y.shape, tensors.y.shape)
  assert.equal(y.dtype, 'float32')
  assert.ok(bytes(await y.data()).equals(bytes(await tensors.y.data())), 'outputs differ from PyTorch')
  // Repeated calls (and the JIT's profiling runs) stay identical.
  for (let i = 0; i < 3; i++) {
    const again = (await net.forward(tensors.x)) as Tensor
    assert.ok(bytes(await again.data()).equals(bytes(await tensors.y.data())), `run ${i + 2} differs`)
    again.dispose()
  }
  net.dispose()
})

test('methods take lists, floats, bools, strings, None and return tuples, lists, dicts, scalars', async () => {
  const box = await TorchModule.load(fixtures().toolbox)
  assert.deepEqual([...box.methods].sort(), ['alloc', 'fail', 'forward', 'identity', 'mix', 'pick', 'scalar', 'scaled', 'spin', 'stats'])
  assert.equal(box.device, 'cpu')
  const a = Tensor.from(new Float32Array([1, 2]), [2])
  const b = Tensor.from(new Float32Array([10, 20]), [2])

  const [total, plusOne, count, name, notFlag, extra] = (await box.call('mix', [a, b], 2, true, 'hi', null)) as [
    Tensor,
    Tensor[],
    number,
    string,
    boolean,
    null,
  ]
  assert.deepEqual(await total.data(), new Float32Array([22, 44]))
  assert.equal(plusOne.length, 2)
  assert.deepEqual(await plusOne[1].data(), new Float32Array([11, 21]))
  assert.equal(count, 2)
  assert.equal(name, 'hi!')
  assert.equal(notFlag, false)
  assert.equal(extra, null)

  // The optional argument may be given, or left out to take its default.
  const withExtra = (await box.call('mix', [a], 1, false, '', b)) as unknown[]
  assert.deepEqual(await (withExtra[5] as Tensor).data(), new Float32Array([10, 20]))
  const defaulted = (await box.call('mix', [a], 1, false, 'x')) as unknown[]
  assert.equal(defaulted[5], null)

  const stats = (await box.call('stats', b)) as { mean: Tensor; max: Tensor }
  assert.deepEqual(await stats.mean.data(), new Float32Array([15]))
  assert.deepEqual(await stats.max.data(), new Float32Array([20]))

  assert.equal(await box.call('scalar', 3, 2), 6) // 2 goes in as a float because the schema says so
  const doubled = (await box.forward(a)) as Tensor
  assert.deepEqual(await doubled.data(), new Float32Array([2, 4]))
  box.dispose()
})

test('a result that aliases a zero-copy input keeps reading valid memory', async () => {
  const box = await TorchModule.load(fixtures().toolbox)
  const source = new Float32Array([4, 5, 6])
  const input = Tensor.from(source, [3])
  const same = (await box.call('identity', input)) as Tensor
  input.dispose()
  source[0] = 40 // still the same memory: the result holds the buffer alive
  assert.deepEqual(await same.data(), new Float32Array([40, 5, 6]))
  same.dispose()
  box.dispose()
})

test('concurrent calls on one module are safe and each gets its own result', async () => {
  const box = await TorchModule.load(fixtures().toolbox)
  const inputs = Array.from({ length: 16 }, (_, i) => Tensor.from(new Float32Array([i, -i]), [2]))
  const outputs = (await Promise.all(inputs.map((x) => box.forward(x)))) as Tensor[]
  for (let i = 0; i < inputs.length; i++) assert.deepEqual(await outputs[i].data(), new Float32Array([2 * i, -2 * i]))
  for (const t of [...inputs, ...outputs]) t.dispose()
  box.dispose()
})

test('the event loop keeps ticking during a multi-second forward', async () => {
  const box = await TorchModule.load(fixtures().toolbox)
  const x = Tensor.from(new Float32Array(256 * 256).fill(0.01), [256, 256])
  // Warm up (the JIT profiles the first runs), then calibrate to about 2.5 s on this machine.
  for (let i = 0; i < 3; i++) ((await box.call('spin', x, 5)) as Tensor).dispose()
  let t0 = performance.now()
  ;((await box.call('spin', x, 100)) as Tensor).dispose()
  const perIteration = Math.max(0.01, (performance.now() - t0) / 100)
  const iters = Math.ceil(2500 / perIteration)

  let ticks = 0
  const interval = setInterval(() => ticks++, 10)
  t0 = performance.now()
  const y = (await box.call('spin', x, iters)) as Tensor
  const elapsed = performance.now() - t0
  clearInterval(interval)
  assert.ok(elapsed > 1000, `the forward took only ${elapsed.toFixed(0)} ms`)
  // An idle loop ticks every ~10 ms; a blocked one would not tick at all.
  assert.ok(ticks >= elapsed / 10 / 4, `only ${ticks} ticks in ${elapsed.toFixed(0)} ms`)
  console.log(`spin: ${iters} iterations, ${elapsed.toFixed(0)} ms, ${ticks} interval ticks`)
  for (const t of [x, y]) t.dispose()
  box.dispose()
})

test('the per-device limit bounds how many module jobs run at once', async () => {
  const { runOnDevice } = await import('../../lib/device_queue.js')
  let running = 0
  let peak = 0
  const job = async () => {
    running++
    peak = Math.max(peak, running)
    await new Promise((resolve) => setTimeout(resolve, 5))
    running--
  }
  await Promise.all(Array.from({ length: 8 }, () => runOnDevice('cuda:7', job)))
  assert.equal(peak, 1) // CUDA default: one job per device
  peak = 0
  setDeviceConcurrency('cpu', 2)
  await Promise.all(Array.from({ length: 8 }, () => runOnDevice('cpu', job)))
  assert.equal(peak, 2)
  setDeviceConcurrency('cpu', 3)
})

test('quantizedWeights: every 2+-dim weight must be given, by name, as int8 values of its shape', async () => {
  const weights = { 'body.0.weight': [16, 3, 3, 3], 'body.2.weight': [16, 4, 3, 3], 'body.4.weight': [4, 16, 1, 1] }
  const entry = (name: string, shape: number[], dtype: 'int8' | 'float32' = 'int8') => ({
    name,
    values: Tensor.from(dtype === 'int8' ? new Int8Array(shape.reduce((a, b) => a * b)) : new Float32Array(shape.reduce((a, b) => a * b)), shape),
    scale: Tensor.from(new Float32Array(shape[0]!).fill(0.5), [shape[0]!]),
  })
  const all = Object.entries(weights).map(([n, s]) => entry(n, s))
  const load = (quantizedWeights: ReturnType<typeof entry>[]) => TorchModule.load(fixtures().convnet, { quantizedWeights })
  await assert.rejects(load([...all, entry('body.9.weight', [4, 4])]), { code: 'ERR_BUNDLE', message: /'body.9.weight' is not a parameter/ })
  await assert.rejects(load([entry('body.0.weight', [16, 3, 3, 3], 'float32')]), {
    code: 'ERR_BUNDLE',
    message: /'body.0.weight' has the wrong dtype or shape/,
  })
  await assert.rejects(load([entry('body.0.weight', [16, 3, 3, 1])]), { code: 'ERR_BUNDLE', message: /wrong dtype or shape/ })
  await assert.rejects(load(all.slice(0, 2)), { code: 'ERR_BUNDLE', message: /have no weight 'body.4.weight'/ })
  // All three given (zeros): the convs output their biases only, so the result no longer
  // depends on the input.
  const net = await load(all)
  const { tensors } = await readSafetensors(fixtures().parity)
  const values = (await ((await net.forward(tensors.x)) as Tensor).data()) as Float32Array
  const plane = 32 * 32
  assert.ok(
    values.slice(0, plane).every((v) => v === values[0]),
    'zero weights: a constant plane',
  )
  net.dispose()
})
