/**
 * The list of items to encode: a CSV or JSONL manifest (`path`, optional `caption`, `id`), a
 * directory (every video under it) or a glob pattern (`clips/**\/*.mp4`). Relative paths are
 * resolved against the manifest's directory. A malformed manifest is an error before any work
 * starts; a path that does not exist is not (it becomes that item's failure).
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'

import { BatchError } from './errors.js'

export interface BatchItem {
  /** Unique name of the item in the dataset (default: the path as written in the manifest). */
  id: string
  /** Absolute path of the clip. */
  path: string
  /** Caption, recorded in the index and given to text models. */
  caption?: string
}

/** Extensions picked up when the manifest is a directory. */
export const VIDEO_EXTENSIONS = new Set(['.mp4', '.mov', '.mkv', '.webm', '.avi', '.m4v', '.mpg', '.mpeg', '.gif', '.ts', '.wmv', '.flv'])

function manifestError(where: string, message: string): BatchError {
  return new BatchError('ERR_MANIFEST', `${where}: ${message}`)
}

/** Reads the items of a manifest file, directory or glob, in a stable order. */
export async function readManifest(spec: string): Promise<BatchItem[]> {
  let items: BatchItem[]
  const st = await stat(spec).catch(() => null)
  if (st?.isDirectory()) {
    items = (await walk(spec)).filter((f) => VIDEO_EXTENSIONS.has(path.extname(f).toLowerCase())).map((f) => fileItem(spec, f))
    if (items.length === 0) throw manifestError(spec, 'the directory holds no video files')
  } else if (st === null && /[*?[]/.test(spec)) {
    items = await globItems(spec)
    if (items.length === 0) throw manifestError(spec, 'the pattern matches no files')
  } else if (st === null) {
    throw manifestError(spec, 'no such manifest file, directory or matching pattern')
  } else {
    const text = await readFile(spec, 'utf8').catch((err: Error) => {
      throw manifestError(spec, `cannot read it (${err.message})`)
    })
    const ext = path.extname(spec).toLowerCase()
    if (ext === '.csv') items = parseCsvManifest(text, spec)
    else if (ext === '.jsonl' || ext === '.ndjson') items = parseJsonlManifest(text, spec)
    else throw manifestError(spec, `unknown manifest format '${ext}' (use .csv, .jsonl, a directory or a glob pattern)`)
    if (items.length === 0) throw manifestError(spec, 'the manifest lists no items')
  }
  checkUniqueIds(items, spec)
  return items
}

function fileItem(root: string, file: string): BatchItem {
  return { id: path.relative(root, file).split(path.sep).join('/'), path: path.resolve(file) }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await walk(full)))
    else if (entry.isFile()) out.push(full)
  }
  return out
}

/** `*` and `?` within a name, `**` across directories (Node 20 has no fs.glob). */
function globRegex(pattern: string): RegExp {
  let re = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '*' && pattern[i + 1] === '*') {
      re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*'
      i += pattern[i + 2] === '/' ? 2 : 1
    } else if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

async function globItems(pattern: string): Promise<BatchItem[]> {
  const parts = pattern.split('/')
  const firstWild = parts.findIndex((p) => /[*?[]/.test(p))
  const root = parts.slice(0, firstWild).join('/') || (pattern.startsWith('/') ? '/' : '.')
  const rest = parts.slice(firstWild).join('/')
  const re = globRegex(rest)
  const files = await walk(root).catch(() => [] as string[])
  return files.filter((f) => re.test(path.relative(root, f).split(path.sep).join('/'))).map((f) => fileItem(root, f))
}

function resolveItem(raw: { path: string; id?: string; caption?: string }, manifest: string): BatchItem {
  const item: BatchItem = { id: raw.id ?? raw.path, path: path.resolve(path.dirname(manifest), raw.path) }
  if (raw.caption !== undefined && raw.caption !== '') item.caption = raw.caption
  return item
}

/** One JSON object per line: {"path": ..., "caption"?: ..., "id"?: ...}; blank lines skipped. */
export function parseJsonlManifest(text: string, file: string): BatchItem[] {
  const items: BatchItem[] = []
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return
    const where = `${file}:${i + 1}`
    let obj: unknown
    try {
      obj = JSON.parse(line)
    } catch {
      throw manifestError(where, 'not a JSON object')
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw manifestError(where, 'not a JSON object')
    const o = obj as Record<string, unknown>
    if (typeof o.path !== 'string' || o.path.trim() === '') throw manifestError(where, '"path" is missing or not a string')
    if (o.caption !== undefined && o.caption !== null && typeof o.caption !== 'string') throw manifestError(where, '"caption" must be a string')
    if (o.id !== undefined && typeof o.id !== 'string' && typeof o.id !== 'number') throw manifestError(where, '"id" must be a string or a number')
    const id = o.id === undefined || o.id === '' ? undefined : String(o.id)
    items.push(
      resolveItem({ path: o.path.trim(), ...(id === undefined ? {} : { id }), ...(typeof o.caption === 'string' ? { caption: o.caption } : {}) }, file),
    )
  })
  return items
}

/** RFC 4180 records: quoted fields may hold commas, quotes ("") and newlines. */
export function parseCsv(text: string): { fields: string[]; line: number }[] {
  const rows: { fields: string[]; line: number }[] = []
  let fields: string[] = []
  let field = ''
  let quoted = false
  let line = 1
  let rowLine = 1
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else {
        if (c === '\n') line++
        field += c
      }
    } else if (c === '"' && field === '') quoted = true
    else if (c === ',') {
      fields.push(field)
      field = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      fields.push(field)
      if (fields.length > 1 || fields[0] !== '') rows.push({ fields, line: rowLine })
      fields = []
      field = ''
      line++
      rowLine = line
    } else field += c
  }
  if (quoted) throw new BatchError('ERR_MANIFEST', `an unterminated quoted field starts on line ${rowLine}`)
  fields.push(field)
  if (fields.length > 1 || fields[0] !== '') rows.push({ fields, line: rowLine })
  return rows
}

/** A CSV with a header row naming the columns `path` (required), `caption`, `id`. */
export function parseCsvManifest(text: string, file: string): BatchItem[] {
  let rows
  try {
    rows = parseCsv(text.replace(/^\uFEFF/, ''))
  } catch (err) {
    throw manifestError(file, (err as Error).message)
  }
  const header = rows.shift()
  if (header === undefined) return []
  const names = header.fields.map((h) => h.trim().toLowerCase())
  const col = (name: string): number => names.indexOf(name)
  const [p, c, id] = [col('path'), col('caption'), col('id')]
  if (p < 0) throw manifestError(`${file}:1`, `the header must name a 'path' column (got ${header.fields.join(',')})`)
  return rows.map(({ fields, line }) => {
    const where = `${file}:${line}`
    const value = (i: number): string | undefined => (i < 0 ? undefined : fields[i])
    const filePath = value(p)?.trim()
    if (!filePath) throw manifestError(where, 'the path is empty')
    const idValue = value(id)?.trim()
    const caption = value(c)
    return resolveItem({ path: filePath, ...(idValue ? { id: idValue } : {}), ...(caption === undefined ? {} : { caption }) }, file)
  })
}

function checkUniqueIds(items: BatchItem[], spec: string): void {
  const seen = new Map<string, number>()
  items.forEach((item, i) => {
    const first = seen.get(item.id)
    if (first !== undefined) throw manifestError(spec, `items ${first + 1} and ${i + 1} have the same id '${item.id}'; ids must be unique`)
    seen.set(item.id, i)
  })
}
