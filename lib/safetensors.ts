/**
 * .safetensors files (https://github.com/huggingface/safetensors), compatible both ways with
 * the Python package: an 8-byte little-endian header length, a JSON header (space-padded),
 * then the raw little-endian tensor bytes. Reading checks the header strictly (every problem
 * is an ERR_SAFETENSORS naming it) and reads each tensor on its own, so size is no limit;
 * writing goes to a temporary file, every byte checked, fsync, rename, so neither a crash nor a
 * full disk ever leaves half a file or touches the file being replaced.
 */
import fs, { type FileHandle } from 'node:fs/promises'

import { arrayCarries, checkDType, type DType, DTYPES, inferDType, type TensorArray } from './dtype.js'
import { writeFileAtomic } from './durable_file.js'
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
  BOOL: 'bool',
}
const FILE_DTYPE_OF = Object.fromEntries(Object.entries(FILE_DTYPES).map(([k, v]) => [v, k])) as Record<DType, string>

export interface SafetensorsContent {
  tensors: Record<string, Tensor>
  /** The file's __metadata__ (string values only, as the format requires). */
  metadata: Record<string, string>
}

export interface ReadSafetensorsOptions {
  /** Device for the tensors: 'cpu' (default; each tensor owns the bytes read for it) or 'cuda[:N]'. */
  device?: string
}

interface HeaderEntry {
  dtype: DType
  shape: number[]
  data_offsets: [number, number]
}

/** What the header of a .safetensors file says (see {@link readSafetensorsHeader}). */
export interface SafetensorsHeader {
  /** Tensors in file order: name, dtype, shape and byte range within the data section. */
  tensors: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[]
  metadata: Record<string, string>
  /** Byte offset of the data section (8 + header length). */
  dataStart: number
  /** The file's size. */
  fileSize: number
}

/** Upstream safetensors refuses larger headers too; it bounds what a bad length makes us allocate. */
const MAX_HEADER_BYTES = 100_000_000
/** Tensors are read in pieces of at most this many bytes (one read(2) cannot pass 2 GiB). */
const READ_PIECE = 1 << 30

function corrupt(file: string, why: string): VideoVaeError {
  return new VideoVaeError('ERR_SAFETENSORS', `${file} is not a valid safetensors file: ${why}`)
}

function ioError(error: unknown, file: string, action: 'reading' | 'writing'): VideoVaeError {
  if (error instanceof VideoVaeError) return error
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT' && action === 'reading') return new VideoVaeError('ERR_NOT_FOUND', `no such file: ${file}`, { cause: error })
  return new VideoVaeError('ERR_IO', `${action} ${file} failed: ${(error as Error).message}`, { cause: error })
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Checks one header entry; `dataLength` is the size of the data section. */
function parseEntry(file: string, name: string, raw: unknown, dataLength: number): HeaderEntry {
  if (name === '__proto__') throw corrupt(file, "a tensor is named '__proto__', which cannot be a tensor name here")
  if (!isPlainObject(raw)) throw corrupt(file, `tensor '${name}' is described by ${JSON.stringify(raw)}, not an object`)
  const dtype = typeof raw.dtype === 'string' && Object.hasOwn(FILE_DTYPES, raw.dtype) ? FILE_DTYPES[raw.dtype]! : undefined
  if (dtype === undefined) throw corrupt(file, `tensor '${name}' has unsupported dtype ${JSON.stringify(raw.dtype)}`)
  const shape = raw.shape
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw corrupt(file, `tensor '${name}' has shape ${JSON.stringify(shape)}, not a list of non-negative integers`)
  }
  const offsets = raw.data_offsets
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw corrupt(file, `tensor '${name}' has data_offsets ${JSON.stringify(offsets)}, not two non-negative integers`)
  }
  const [begin, end] = offsets as [number, number]
  if (end < begin) throw corrupt(file, `tensor '${name}' has reversed data_offsets [${begin}, ${end}]`)
  if (end > dataLength)
    throw corrupt(file, `tensor '${name}' has data_offsets [${begin}, ${end}] outside the file (${dataLength} data bytes): the file is truncated or damaged`)
  const numel = shape.reduce((a: number, b: number) => a * b, 1)
  if (end - begin !== numel * DTYPES[dtype].bytes) {
    throw corrupt(file, `tensor '${name}' has ${end - begin} bytes for shape [${shape}] of ${raw.dtype}`)
  }
  return { dtype, shape: shape as number[], data_offsets: [begin, end] }
}

function parseHeader(file: string, headerBytes: Buffer, dataStart: number, fileSize: number): SafetensorsHeader {
  let header: unknown
  try {
    header = JSON.parse(headerBytes.toString('utf8'))
  } catch {
    throw corrupt(file, 'header is not JSON')
  }
  if (!isPlainObject(header)) throw corrupt(file, 'header is not an object')
  const metadata: Record<string, string> = {}
  const dataLength = fileSize - dataStart
  const tensors: SafetensorsHeader['tensors'] = []
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(raw)) throw corrupt(file, `__metadata__ is ${JSON.stringify(raw)}, not an object of strings`)
      for (const [k, v] of Object.entries(raw)) {
        if (k === '__proto__') throw corrupt(file, "a metadata key is named '__proto__'")
        metadata[k] = String(v)
      }
      continue
    }
    const entry = parseEntry(file, name, raw, dataLength)
    tensors.push({ name, dtype: entry.dtype, shape: entry.shape, begin: entry.data_offsets[0], end: entry.data_offsets[1] })
  }
  const byBegin = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end)
  for (let i = 1; i < byBegin.length; i++) {
    const [prev, cur] = [byBegin[i - 1]!, byBegin[i]!]
    if (cur.begin < prev.end) throw corrupt(file, `tensors '${prev.name}' [${prev.begin}, ${prev.end}] and '${cur.name}' [${cur.begin}, ${cur.end}] overlap`)
  }
  return { tensors, metadata, dataStart, fileSize }
}

/** Reads exactly `length` bytes at `position` (in pieces), or fails naming a truncated file. */
async function readExactly(fh: FileHandle, file: string, length: number, position: number): Promise<Buffer> {
  const out = Buffer.allocUnsafe(length)
  let done = 0
  while (done < length) {
    const { bytesRead } = await fh.read(out, done, Math.min(length - done, READ_PIECE), position + done)
    if (bytesRead === 0) throw corrupt(file, `the file ended at byte ${position + done}, ${length - done} bytes short: it was truncated`)
    done += bytesRead
  }
  return out
}

async function readHeaderFrom(fh: FileHandle, file: string): Promise<SafetensorsHeader> {
  const fileSize = (await fh.stat()).size
  if (fileSize < 8) throw corrupt(file, 'shorter than its 8-byte header length')
  const headerLength = (await readExactly(fh, file, 8, 0)).readBigUInt64LE(0)
  if (headerLength > BigInt(fileSize - 8)) throw corrupt(file, `header length ${headerLength} exceeds the file (${fileSize} bytes)`)
  if (headerLength > BigInt(MAX_HEADER_BYTES)) throw corrupt(file, `header length ${headerLength} exceeds ${MAX_HEADER_BYTES} bytes`)
  const dataStart = 8 + Number(headerLength)
  return parseHeader(file, await readExactly(fh, file, dataStart - 8, 8), dataStart, fileSize)
}

/** Reads and checks the header of a .safetensors file (not the tensors' bytes). */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  let fh: FileHandle | undefined
  try {
    fh = await fs.open(file, 'r')
    return await readHeaderFrom(fh, file)
  } catch (error) {
    throw ioError(error, file, 'reading')
  } finally {
    await fh?.close()
  }
}

/**
 * Reads every tensor and the metadata of a .safetensors file. The header and each tensor are
 * read separately, so files (and tensors) of any size are read, one tensor's bytes at a time.
 */
export async function readSafetensors(file: string, options: ReadSafetensorsOptions = {}): Promise<SafetensorsContent> {
  const tensors: Record<string, Tensor> = {}
  let fh: FileHandle | undefined
  try {
    fh = await fs.open(file, 'r')
    const { tensors: entries, metadata, dataStart } = await readHeaderFrom(fh, file)
    for (const { name, dtype, shape, begin, end } of entries) {
      const { array, bytes: itemBytes } = DTYPES[dtype]
      const bytes = await readExactly(fh, file, end - begin, dataStart + begin)
      // Small buffers come from a shared pool at any offset: copy those that are not aligned.
      const view =
        bytes.byteOffset % itemBytes === 0
          ? new array(bytes.buffer, bytes.byteOffset, bytes.length / itemBytes)
          : new array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), 0, bytes.length / itemBytes)
      tensors[name] = Tensor.from(view, shape, { dtype, device: options.device })
    }
    return { tensors, metadata }
  } catch (error) {
    for (const tensor of Object.values(tensors)) tensor.dispose()
    throw ioError(error, file, 'reading')
  } finally {
    await fh?.close()
  }
}

/**
 * A tensor's values on the host: a typed array, its shape and its dtype (inferred from the array
 * when left out; a Uint16Array needs 'float16' or 'bfloat16'). Saves wrapping host data in a
 * Tensor only to copy it back out.
 */
export interface HostArray {
  data: TensorArray
  shape: readonly number[]
  dtype?: DType
}

/** What writeSafetensors takes for each name: a Tensor (any device) or a host array. */
export type SafetensorsValue = Tensor | HostArray

interface Prepared {
  name: string
  dtype: DType
  shape: number[]
  /** The host bytes, or the tensor to copy them from once checks pass. */
  source: TensorArray | Tensor
}

function prepare(name: string, value: unknown): Prepared {
  if (name === '__metadata__' || name === '__proto__') throw new VideoVaeError('ERR_ARGUMENT', `'${name}' cannot name a tensor`)
  if (value instanceof Tensor) {
    value.handle() // ERR_DISPOSED before any work
    return { name, dtype: value.dtype, shape: value.shape, source: value }
  }
  if (!isPlainObject(value) || !ArrayBuffer.isView(value.data) || value.data instanceof DataView || !Array.isArray(value.shape)) {
    throw new VideoVaeError('ERR_ARGUMENT', `'${name}' is neither a Tensor nor { data: TypedArray, shape: number[], dtype? }`)
  }
  const data = value.data as TensorArray
  const dtype = value.dtype === undefined ? inferDType(data) : checkDType(value.dtype)
  if (!arrayCarries(data, dtype)) {
    throw new VideoVaeError(
      'ERR_DTYPE',
      `'${name}': a ${Object.prototype.toString.call(data).slice(8, -1)} does not carry ${dtype} (use a ${DTYPES[dtype].array.name})`,
    )
  }
  const shape = value.shape as unknown[]
  if (!shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new VideoVaeError('ERR_SHAPE', `'${name}' has shape ${JSON.stringify(shape)}, not a list of non-negative integers`)
  }
  const numel = (shape as number[]).reduce((a, b) => a * b, 1)
  if (numel !== data.length) throw new VideoVaeError('ERR_SHAPE', `'${name}' has ${data.length} values for shape [${shape.join(', ')}] (${numel})`)
  return { name, dtype, shape: [...(shape as number[])], source: data }
}

/**
 * Writes tensors (any device; copied to the host) or host arrays, and optional string metadata.
 * Tensors are laid out largest element size first, so every tensor is aligned for its dtype.
 */
export async function writeSafetensors(
  file: string,
  tensors: Record<string, SafetensorsValue> | Map<string, SafetensorsValue>,
  metadata: Record<string, string> = {},
): Promise<void> {
  const named = (tensors instanceof Map ? [...tensors] : Object.entries(tensors)).map(([name, value]) => prepare(name, value))
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new VideoVaeError('ERR_ARGUMENT', `metadata '${key}' must be a string`)
  }
  named.sort((a, b) => DTYPES[b.dtype].bytes - DTYPES[a.dtype].bytes || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))

  const chunks: TensorArray[] = []
  const header: Record<string, unknown> = {}
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata
  let offset = 0
  for (const { name, dtype, shape, source } of named) {
    const data = source instanceof Tensor ? await source.data() : source
    header[name] = { dtype: FILE_DTYPE_OF[dtype], shape, data_offsets: [offset, offset + data.byteLength] }
    offset += data.byteLength
    chunks.push(data)
  }
  let json = JSON.stringify(header)
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8)
  const prefix = Buffer.alloc(8)
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(json)))

  try {
    await writeFileAtomic(file, [prefix, Buffer.from(json), ...chunks.map((c) => new Uint8Array(c.buffer, c.byteOffset, c.byteLength))])
  } catch (error) {
    throw ioError(error, file, 'writing')
  }
}
