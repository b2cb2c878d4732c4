// safetensors on faults: a full disk (short writes) never passes for success nor touches the file
// being replaced; malformed headers are ERR_SAFETENSORS naming the problem; files over 2 GiB read.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { readSafetensors, Tensor, writeSafetensors } from '../../lib/index.js'
import { childWrite, fillUp, names, smallTmpfs, unfill } from '../support/full_disk.js'
import { tempDir } from './helpers/fixtures.js'

const dir = tempDir()
let n = 0

/** A file with this header text (length-prefixed, as the format has it) and data bytes. */
function fileWith(header: string, data: Buffer = Buffer.alloc(16)): string {
  const file = path.join(dir, `h${n++}.safetensors`)
  const prefix = Buffer.alloc(8)
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(header)))
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header), data]))
  return file
}

const f32 = (offsets: [number, number], shape: unknown = [(offsets[1] - offsets[0]) / 4]) => ({ dtype: 'F32', shape, data_offsets: offsets })

describe('readSafetensors: malformed headers', () => {
  const cases: [string, string, RegExp][] = [
    ['dtype "__proto__"', JSON.stringify({ a: { ...f32([0, 4]), dtype: '__proto__' } }), /tensor 'a' has unsupported dtype "__proto__"/],
    ['dtype "toString"', JSON.stringify({ a: { ...f32([0, 4]), dtype: 'toString' } }), /tensor 'a' has unsupported dtype "toString"/],
    ['__metadata__ a string', JSON.stringify({ __metadata__: 'x', a: f32([0, 4]) }), /__metadata__ is "x", not an object/],
    ['__metadata__ an array', JSON.stringify({ __metadata__: ['x'], a: f32([0, 4]) }), /__metadata__ is \["x"\], not an object/],
    ['__metadata__ null', JSON.stringify({ __metadata__: null, a: f32([0, 4]) }), /__metadata__ is null, not an object/],
    ['shape a string', JSON.stringify({ a: f32([0, 4], '1') }), /tensor 'a' has shape "1", not a list/],
    ['shape with a negative size', JSON.stringify({ a: f32([0, 4], [-1]) }), /tensor 'a' has shape \[-1\]/],
    ['reversed data_offsets', JSON.stringify({ a: f32([8, 4], [1]) }), /tensor 'a' has reversed data_offsets \[8, 4\]/],
    ['overlapping data_offsets', JSON.stringify({ a: f32([0, 8]), b: f32([4, 12]) }), /tensors 'a' \[0, 8\] and 'b' \[4, 12\] overlap/],
    ['a tensor named __proto__', '{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', /a tensor is named '__proto__'/],
    ['data_offsets past the end', JSON.stringify({ a: f32([0, 64]) }), /tensor 'a' has data_offsets \[0, 64\] outside the file \(16 data bytes\)/],
    ['an entry that is not an object', JSON.stringify({ a: 3 }), /tensor 'a' is described by 3, not an object/],
  ]
  for (const [what, header, message] of cases) {
    it(what, async () => {
      await assert.rejects(readSafetensors(fileWith(header)), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ERR_SAFETENSORS', err.message)
        assert.match(err.message, message)
        return true
      })
    })
  }

  it('a header length beyond the file is ERR_SAFETENSORS', async () => {
    const file = fileWith('{}')
    const bytes = fs.readFileSync(file)
    bytes.writeBigUInt64LE(1n << 40n)
    fs.writeFileSync(file, bytes)
    await assert.rejects(readSafetensors(file), { code: 'ERR_SAFETENSORS', message: /header length 1099511627776 exceeds the file/ })
  })
})

describe('readSafetensors: files over 2 GiB', () => {
  it('reads the tensors at the end of a sparse 2.1 GiB file', async () => {
    const begin = 2 ** 31 + 64 * 1024 * 1024 // past 2 GiB: the data before is a hole
    const header = JSON.stringify({ __metadata__: { big: 'yes' }, head: f32([0, 8]), tail: f32([begin, begin + 16]) })
    const file = fileWith(header, Buffer.from(new Float32Array([0.5, -0.5]).buffer))
    const dataStart = 8 + Buffer.byteLength(header)
    fs.truncateSync(file, dataStart + begin)
    fs.appendFileSync(file, Buffer.from(new Float32Array([1, 2, 3, 4]).buffer))
    assert.ok(fs.statSync(file).size > 2 ** 31)
    try {
      const { tensors, metadata } = await readSafetensors(file)
      assert.deepEqual(metadata, { big: 'yes' })
      assert.deepEqual(Array.from((await tensors.tail!.data()) as Float32Array), [1, 2, 3, 4])
      assert.deepEqual(Array.from((await tensors.head!.data()) as Float32Array), [0.5, -0.5])
      for (const t of Object.values(tensors)) t.dispose()
    } finally {
      fs.rmSync(file)
    }
  })
})

describe('writeSafetensors on a full disk', () => {
  it('under a file-size limit: ERR_IO, the existing file as it was, no temporary', () => {
    const sub = fs.mkdtempSync(path.join(dir, 'limit-'))
    const out = path.join(sub, 'out.safetensors')
    fs.writeFileSync(out, 'the previous file')
    const verdict = childWrite(64, 'safetensors', out, 65536) // 256 KiB of float32 against 64 KiB
    assert.equal(verdict.ok, false, 'a short write must not pass for success')
    assert.equal(verdict.code, 'ERR_IO', verdict.message)
    assert.match(verdict.message!, /writing .*out\.safetensors failed: .*(EFBIG|too large)/)
    assert.equal(fs.readFileSync(out, 'utf8'), 'the previous file')
    assert.deepEqual(fs.readdirSync(sub), ['out.safetensors'])
  })

  const disk = smallTmpfs(1024)
  it('on a full tmpfs: ERR_IO, the existing file as it was, no temporary', { skip: disk.skip }, async () => {
    const out = path.join(disk.dir, 'out.safetensors')
    fs.writeFileSync(out, 'the previous file')
    fillUp(disk.dir, 64 * 1024)
    const t = Tensor.from(new Float32Array(65536).fill(1.5), [65536])
    try {
      await assert.rejects(writeSafetensors(out, { t }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ERR_IO', err.message)
        assert.match(err.message, /ENOSPC|no space/i)
        return true
      })
      assert.equal(fs.readFileSync(out, 'utf8'), 'the previous file')
      assert.deepEqual(names(disk.dir), ['out.safetensors'])
      unfill(disk.dir)
      await writeSafetensors(out, { t })
      const back = await readSafetensors(out)
      assert.equal(((await back.tensors.t!.data()) as Float32Array)[65535], 1.5)
      back.tensors.t!.dispose()
    } finally {
      t.dispose()
      unfill(disk.dir)
    }
  })
})
