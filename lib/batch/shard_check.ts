/**
 * Checks that a shard file holds what the index says about it: a valid header, the exact size
 * that header implies (nothing cut off), and each named float32 tensor with its shape; with
 * `readData`, every byte of those tensors is read back too. Used right after a shard is
 * written (before its index lines are appended) and by `videovae batch --verify`.
 */
import { open } from 'node:fs/promises'

import { readSafetensorsHeader, type SafetensorsHeader } from '../safetensors.js'

const PIECE = 16 << 20

/** Expected tensors: name to shape. */
export type ExpectedTensors = Map<string, number[]>

/** The header of a shard, or the reason it cannot be used; the size check included. */
export async function shardHeader(file: string): Promise<SafetensorsHeader | string> {
  let header: SafetensorsHeader
  try {
    header = await readSafetensorsHeader(file)
  } catch (err) {
    return (err as Error).message
  }
  const end = header.dataStart + Math.max(0, ...header.tensors.map((t) => t.end))
  if (header.fileSize !== end) return `${file} has ${header.fileSize} bytes, its header describes ${end}`
  return header
}

/** The first problem of `expected` in a shard whose header is `header`, or undefined. */
export async function checkTensors(file: string, header: SafetensorsHeader, expected: ExpectedTensors, readData: boolean): Promise<string | undefined> {
  const byName = new Map(header.tensors.map((t) => [t.name, t]))
  for (const [name, shape] of expected) {
    const t = byName.get(name)
    if (t === undefined) return `${file} lacks the tensor ${name}`
    if (t.dtype !== 'float32' || t.shape.join(',') !== shape.join(',')) {
      return `${file}: tensor ${name} is ${t.dtype} [${t.shape}], the index says float32 [${shape}]`
    }
  }
  if (!readData) return undefined
  let fh
  try {
    fh = await open(file, 'r')
    const buffer = Buffer.allocUnsafe(PIECE)
    for (const name of expected.keys()) {
      const t = byName.get(name)!
      for (let at = header.dataStart + t.begin; at < header.dataStart + t.end;) {
        const { bytesRead } = await fh.read(buffer, 0, Math.min(PIECE, header.dataStart + t.end - at), at)
        if (bytesRead === 0) return `${file} ended at byte ${at} while reading ${name}`
        at += bytesRead
      }
    }
  } catch (err) {
    return `reading ${file} failed: ${(err as Error).message}`
  } finally {
    await fh?.close()
  }
  return undefined
}

/** The first problem of a shard just written with `expected`, or undefined. */
export async function checkShard(file: string, expected: ExpectedTensors, readData = false): Promise<string | undefined> {
  const header = await shardHeader(file)
  if (typeof header === 'string') return header
  return checkTensors(file, header, expected, readData)
}
