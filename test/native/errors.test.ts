// Every error code the native core raises: synchronous throws for Tensor.from, rejected
// promises for everything asynchronous, libtorch messages without C++ backtraces.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { readSafetensors, Tensor, TorchModule, VideoVaeError, writeSafetensors } from '../../lib/index.js'
import { fixtures, tempDir } from './helpers/fixtures.js'

const dir = tempDir()

/** Asserts a rejection with `code`, a VideoVaeError, and no C++ backtrace in the message. */
async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof VideoVaeError, `not a VideoVaeError: ${error}`)
    assert.equal(error.code, code, error.message)
    assert.doesNotMatch(error.message, /Exception raised from|frame #\d|\.cpp:\d/)
    if (message) assert.match(error.message, message)
    return true
  })
}

test('ERR_DISPOSED: using a disposed tensor or module', async () => {
  const t = Tensor.from(new Float32Array(3), [3])
  t.dispose()
  await rejectsWith(t.data(), 'ERR_DISPOSED')
  await rejectsWith(t.to({ dtype: 'float16' }), 'ERR_DISPOSED')
  assert.throws(() => t.shape, { code: 'ERR_DISPOSED' })
  const box = await TorchModule.load(fixtures().toolbox)
  await rejectsWith(box.forward(t), 'ERR_DISPOSED')
  await rejectsWith(box.call('mix', [t], 1, true, 'x'), 'ERR_DISPOSED')
  await rejectsWith(writeSafetensors(path.join(dir, 'x.safetensors'), { t }), 'ERR_DISPOSED')
  box.dispose()
  await rejectsWith(box.forward(Tensor.from(new Float32Array(1), [1])), 'ERR_DISPOSED')
})

test('ERR_SHAPE: shapes that do not fit the data or the module', async () => {
  assert.throws(() => Tensor.from(new Float32Array(5), [2, 3]), { code: 'ERR_SHAPE' })
  assert.throws(() => Tensor.from(new Float32Array(6), [2, -3]), { code: 'ERR_SHAPE' })
  assert.throws(() => Tensor.from(new Float32Array(6), [2, 1.5] as number[]), { code: 'ERR_SHAPE' })
  const net = await TorchModule.load(fixtures().convnet)
  await rejectsWith(net.forward(Tensor.from(new Float32Array(2 * 8 * 8), [1, 2, 8, 8])), 'ERR_SHAPE', /3 channels/)
  net.dispose()
})

test('ERR_DTYPE: unknown dtypes, mismatched typed arrays, and the wrong dtype for a module', async () => {
  assert.throws(() => Tensor.from(new Float32Array(4), [4], { dtype: 'int64' }), { code: 'ERR_DTYPE' })
  assert.throws(() => Tensor.from(new Float32Array(4), [4], { dtype: 'complex64' as never }), { code: 'ERR_DTYPE' })
  const t = Tensor.from(new Float32Array(4), [4])
  await rejectsWith(t.to({ dtype: 'float8' as never }), 'ERR_DTYPE')
  const net = await TorchModule.load(fixtures().convnet)
  await rejectsWith(net.forward(Tensor.from(new Float64Array(3 * 8 * 8), [1, 3, 8, 8])), 'ERR_DTYPE', /double/)
  net.dispose()
})

test('ERR_DEVICE: malformed devices, and CUDA where there is none', async (t) => {
  assert.throws(() => Tensor.from(new Float32Array(1), [1], { device: 'tpu' }), { code: 'ERR_DEVICE' })
  assert.throws(() => Tensor.from(new Float32Array(1), [1], { device: 'cuda:x' }), { code: 'ERR_DEVICE' })
  await rejectsWith(TorchModule.load(fixtures().convnet, { device: 'gpu' }), 'ERR_DEVICE')
  const { cuda } = await import('../../lib/index.js')
  if (cuda.isAvailable()) {
    t.diagnostic('CUDA present: the no-CUDA cases are covered by cuda.test.ts instead')
    return
  }
  assert.throws(() => Tensor.from(new Float32Array(1), [1], { device: 'cuda' }), { code: 'ERR_DEVICE', message: /CUDA is not available/ })
  const cpu = Tensor.from(new Float32Array(1), [1])
  await rejectsWith(cpu.to({ device: 'cuda:0' }), 'ERR_DEVICE')
  await rejectsWith(TorchModule.load(fixtures().convnet, { device: 'cuda' }), 'ERR_DEVICE')
})

test('ERR_NOT_FOUND: missing files', async () => {
  await rejectsWith(TorchModule.load(path.join(dir, 'missing.pt')), 'ERR_NOT_FOUND')
  await rejectsWith(readSafetensors(path.join(dir, 'missing.safetensors')), 'ERR_NOT_FOUND')
})

test('ERR_MODULE: a corrupt TorchScript archive, an unknown method', async () => {
  const corrupt = path.join(dir, 'corrupt.pt')
  fs.writeFileSync(corrupt, Buffer.from('PK\u0003\u0004 certainly not a zip archive'))
  await rejectsWith(TorchModule.load(corrupt), 'ERR_MODULE', /not a readable TorchScript archive/)
  const truncated = path.join(dir, 'truncated.pt')
  fs.writeFileSync(truncated, fs.readFileSync(fixtures().convnet).subarray(0, 4000))
  await rejectsWith(TorchModule.load(truncated), 'ERR_MODULE')
  const box = await TorchModule.load(fixtures().toolbox)
  await rejectsWith(box.call('nope'), 'ERR_MODULE', /no method 'nope'/)
  box.dispose()
})

test('ERR_ARGUMENT: arguments that do not fit the method schema are refused before any work', async () => {
  const box = await TorchModule.load(fixtures().toolbox)
  const x = Tensor.from(new Float32Array(2), [2])
  await rejectsWith(box.forward('text'), 'ERR_ARGUMENT', /expected Tensor, got string/)
  await rejectsWith(box.forward(x, x), 'ERR_ARGUMENT', /takes 1 argument/)
  await rejectsWith(box.forward(), 'ERR_ARGUMENT', /missing argument 'x'/)
  await rejectsWith(box.call('scalar', 1.5, 2), 'ERR_ARGUMENT', /expected int/)
  await rejectsWith(box.call('mix', x, 1, true, 'x'), 'ERR_ARGUMENT', /expected List\[Tensor\]/)
  await rejectsWith(box.forward(new Float32Array(2) as never), 'ERR_ARGUMENT', /Tensor\.from/)
  box.dispose()
})

test('exception types decide before message words: IndexError is ERR_SHAPE, ValueError ERR_ARGUMENT, no memory ERR_OUT_OF_MEMORY', async () => {
  const box = await TorchModule.load(fixtures().toolbox)
  const x = Tensor.from(new Float32Array(4), [4])
  // No shape word in the message: only the IndexError type makes it ERR_SHAPE (not ERR_LIBTORCH).
  await rejectsWith(box.call('pick', x, 7), 'ERR_SHAPE', /^pick: no item 7$/)
  // "size" in the message would read as ERR_SHAPE: the ValueError type makes it ERR_ARGUMENT.
  await rejectsWith(box.call('scaled', x, -0.5), 'ERR_ARGUMENT', /^scaled: the size factor must be positive$/)
  // A failed allocation reaches us from the interpreter as a plain runtime_error: its words decide.
  await rejectsWith(box.call('alloc', 2 ** 50), 'ERR_OUT_OF_MEMORY', /allocat/)
  const picked = await box.call('pick', x, 1)
  assert.ok(picked instanceof Tensor)
  assert.deepEqual(picked.shape, [])
  box.dispose()
})

test('ERR_LIBTORCH: any other libtorch exception, with its message and no backtrace', async () => {
  const box = await TorchModule.load(fixtures().toolbox)
  await rejectsWith(box.call('fail', Tensor.from(new Float32Array(1), [1])), 'ERR_LIBTORCH', /^boom: deliberate failure$/)
  box.dispose()
})

test('ERR_SAFETENSORS: malformed files', async () => {
  const cases: [string, Buffer][] = [
    ['short', Buffer.from([1, 2, 3])],
    ['huge-header', Buffer.concat([Buffer.from([255, 255, 255, 255, 0, 0, 0, 0]), Buffer.from('{}')])],
    ['not-json', Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{{{{')])],
    [
      'bad-offsets',
      (() => {
        const header = Buffer.from(JSON.stringify({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }))
        const size = Buffer.alloc(8)
        size.writeBigUInt64LE(BigInt(header.length))
        return Buffer.concat([size, header, Buffer.alloc(8)])
      })(),
    ],
  ]
  for (const [name, content] of cases) {
    const file = path.join(dir, `${name}.safetensors`)
    fs.writeFileSync(file, content)
    await rejectsWith(readSafetensors(file), 'ERR_SAFETENSORS')
  }
})

test('the process survives all of the above', () => {
  assert.equal(typeof process.pid, 'number')
})
