/**
 * .safetensors files (https://github.com/huggingface/safetensors), compatible both ways with
 * the Python package: an 8-byte little-endian header length, a JSON header (space-padded),
 * then the raw little-endian tensor bytes. Reading is zero-copy where alignment allows;
 * writing goes to a temporary file, fsync, rename, so a crash never leaves half a file.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'

import { type DType, DTYPES, type TensorArray } from './dtype.js'
import { VideoVaeError } from './errors.js'
import { Tensor } from './tensor.js'

const FILE_DTYPES: Readonly<Record<string, DType>> = {
  F32: 'float32',
  F64: 'float64',
  F16: 'float16',
  BF16: 'bfloat16',
  U8: 'uint8',
  I8: 'int8',
  I16: 'int16',
  I32: 'int32',
  I64: 'int64',
  BOOL: 'bool'
}
const FILE_DTYPE_OF = Object.fromEntries(Object.entries(FILE_DTYPES).map(([k, v]) => [v, k])) as Record<DType, string>

export interface SafetensorsContent {
  tensors: Record<string, Tensor>
  /** The file's __metadata__ (string values only, as the format requires). */
  metadata: Record<string, string>
}

export interface ReadSafetensorsOptions {
  /** Device for the tensors: 'cpu' (default, zero-copy views of the file's bytes) or 'cuda[:N]'. */
  device?: string
}

interface HeaderEntry {
  dtype: string
  shape: number[]
  data_offsets: [number, number]
}

function corrupt(file: string, why: string): VideoVaeError {
  return new VideoVaeError('ERR_SAFETENSORS', `${file} is not a valid safetensors file: ${why}`)
}

function ioError(error: unknown, file: string, action: 'reading' | 'writing'): VideoVaeError {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT' && action === 'reading') return new VideoVaeError('ERR_NOT_FOUND', `no such file: ${file}`, { cause: error })
  return new VideoVaeError('ERR_IO', `${action} ${file} failed: ${(error as Error).message}`, { cause: error })
}

function parseHeader(file: string, bytes: Buffer): { entries: [string, HeaderEntry][]; metadata: Record<string, string>; dataStart: number } {
  if (bytes.length < 8) throw corrupt(file, 'shorter than its 8-byte header length')
  const headerLength = bytes.readBigUInt64LE(0)
  if (headerLength > BigInt(bytes.length - 8)) throw corrupt(file, `header length ${headerLength} exceeds the file`)
  const dataStart = 8 + Number(headerLength)
  let header: Record<string, unknown>
  try {
    header = JSON.parse(bytes.subarray(8, dataStart).toString('utf8'))
  } catch {
    throw corrupt(file, 'header is not JSON')
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw corrupt(file, 'header is not an object')
  const { __metadata__: rawMetadata = {}, ...rest } = header
  const metadata: Record<string, string> = {}
  for (const [k, v] of Object.entries(rawMetadata as object)) metadata[k] = String(v)
  const dataLength = bytes.length - dataStart
  const entries = Object.entries(rest).map(([name, raw]): [string, HeaderEntry] => {
    const entry = raw as HeaderEntry
    const dtype = FILE_DTYPES[entry?.dtype]
    if (!dtype) throw corrupt(file, `tensor '${name}' has unsupported dtype ${JSON.stringify(entry?.dtype)}`)
    const [begin, end] = entry.data_offsets ?? []
    const numel = (entry.shape ?? []).reduce((a, b) => a * b, 1)
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end > dataLength) {
      throw corrupt(file, `tensor '${name}' has data_offsets outside the file`)
    }
    if (end - begin !== numel * DTYPES[dtype].bytes) {
      throw corrupt(file, `tensor '${name}' has ${end - begin} bytes for shape [${entry.shape}] of ${entry.dtype}`)
    }
    return [name, entry]
  })
  return { entries, metadata, dataStart }
}

/** Reads every tensor and the metadata of a .safetensors file. */
export async function readSafetensors(file: string, options: ReadSafetensorsOptions = {}): Promise<SafetensorsContent> {
  let bytes: Buffer
  try {
    bytes = await fs.readFile(file)
  } catch (error) {
    throw ioError(error, file, 'reading')
  }
  const { entries, metadata, dataStart } = parseHeader(file, bytes)
  const tensors: Record<string, Tensor> = {}
  try {
    for (const [name, entry] of entries) {
      const dtype = FILE_DTYPES[entry.dtype]
      const { array, bytes: itemBytes } = DTYPES[dtype]
      const offset = bytes.byteOffset + dataStart + entry.data_offsets[0]
      const length = (entry.data_offsets[1] - entry.data_offsets[0]) / itemBytes
      // The format does not promise alignment: view the file's bytes when aligned, else copy.
      const view =
        offset % itemBytes === 0
          ? new array(bytes.buffer, offset, length)
          : new array(bytes.buffer.slice(offset, offset + length * itemBytes), 0, length)
      tensors[name] = Tensor.from(view, entry.shape, { dtype, device: options.device })
    }
  } catch (error) {
    for (const tensor of Object.values(tensors)) tensor.dispose()
    throw error
  }
  return { tensors, metadata }
}

/**
 * Writes tensors (any device; copied to the host) and optional string metadata. Tensors are
 * laid out largest element size first, so every tensor is aligned for its dtype.
 */
export async function writeSafetensors(
  file: string,
  tensors: Record<string, Tensor> | Map<string, Tensor>,
  metadata: Record<string, string> = {}
): Promise<void> {
  const named = tensors instanceof Map ? [...tensors] : Object.entries(tensors)
  for (const [name, tensor] of named) {
    if (!(tensor instanceof Tensor)) throw new VideoVaeError('ERR_ARGUMENT', `'${name}' is not a Tensor`)
    if (name === '__metadata__') throw new VideoVaeError('ERR_ARGUMENT', "'__metadata__' cannot name a tensor")
    tensor.handle() // ERR_DISPOSED before any work
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new VideoVaeError('ERR_ARGUMENT', `metadata '${key}' must be a string`)
  }
  named.sort(([a, ta], [b, tb]) => DTYPES[tb.dtype].bytes - DTYPES[ta.dtype].bytes || (a < b ? -1 : a > b ? 1 : 0))

  const chunks: TensorArray[] = []
  const header: Record<string, unknown> = {}
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata
  let offset = 0
  for (const [name, tensor] of named) {
    const data = await tensor.data()
    header[name] = { dtype: FILE_DTYPE_OF[tensor.dtype], shape: tensor.shape, data_offsets: [offset, offset + data.byteLength] }
    offset += data.byteLength
    chunks.push(data)
  }
  let json = JSON.stringify(header)
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8)
  const prefix = Buffer.alloc(8)
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(json)))

  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    const handle = await fs.open(temp, 'w')
    try {
      await handle.writev([prefix, Buffer.from(json), ...chunks.map((c) => new Uint8Array(c.buffer, c.byteOffset, c.byteLength))])
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.rename(temp, file)
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined) // the directory may be gone: report the write error
    throw ioError(error, file, 'writing')
  }
  await syncDirectory(path.dirname(file))
}

/** Makes the rename itself durable. Best effort: not every platform can fsync a directory. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await fs.open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // ignored
  }
}
