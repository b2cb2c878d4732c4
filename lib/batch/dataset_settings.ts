/**
 * dataset.json: the settings every writer of an output directory shares. The first writer
 * creates it (atomically: temporary file, fsync, link); later runs and other writers must
 * match it, so one directory never mixes latents of different bundles or read options.
 */
import { link, readFile, rm } from 'node:fs/promises'
import path from 'node:path'

import { writeTempFile } from '../durable_file.js'
import { BatchError } from './errors.js'

export const DATASET_FORMAT = 'videovae-latent-dataset'
export const DATASET_FORMAT_VERSION = 1

export interface DatasetSettings {
  /** The bundle that encoded the items: variant and sha256 of its manifest.json. */
  bundle: { variant: string; sha256: string }
  /** 'posterior': tensors `mean` and `logvar`; 'sample': one `latent` drawn per item. */
  store: 'posterior' | 'sample'
  /** Base seed of 'sample' (each item draws with a seed derived from it and its id). */
  sampleSeed?: number
  /** Frames per independent chunk (0: the whole clip), as `videovae encode --chunk-frames`. */
  chunkFrames: number
  tile?: { size: number; overlap?: number }
  /** How clips are read: --fit, --frames, --start, --fps, --max-size. */
  read: { fit: string; frames?: number; start?: number; fps?: string; maxSize?: { width: number; height: number } }
}

export const SETTINGS_FILE = 'dataset.json'

/** Key-sorted JSON, so equal settings compare equal as text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`
  }
  return JSON.stringify(value)
}

function differences(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)])
  return [...keys].filter((k) => canonical(a[k]) !== canonical(b[k])).map((k) => `${k}: ${canonical(a[k]) ?? 'unset'} there, ${canonical(b[k]) ?? 'unset'} now`)
}

/** Reads dataset.json (undefined when absent). */
export async function readSettings(outdir: string): Promise<DatasetSettings | undefined> {
  const file = path.join(outdir, SETTINGS_FILE)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    return undefined
  }
  try {
    const json = JSON.parse(text) as { format?: string; settings?: DatasetSettings }
    if (json.format !== DATASET_FORMAT || json.settings === undefined) throw new Error('not a dataset settings file')
    return json.settings
  } catch (err) {
    throw new BatchError('ERR_DATASET_MISMATCH', `${file} is not a videovae dataset description (${(err as Error).message}); use another output directory`)
  }
}

/** Creates dataset.json, or checks that the directory's settings equal `settings`. */
export async function ensureSettings(outdir: string, settings: DatasetSettings): Promise<void> {
  const file = path.join(outdir, SETTINGS_FILE)
  const existing = await readSettings(outdir)
  if (existing === undefined) {
    const body = `${JSON.stringify({ format: DATASET_FORMAT, format_version: DATASET_FORMAT_VERSION, settings }, null, 2)}\n`
    const temp = await writeTempFile(file, [Buffer.from(body)])
    try {
      await link(temp, file) // fails when another writer created it meanwhile: then compare below
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    } finally {
      await rm(temp, { force: true })
    }
    return ensureSettings(outdir, settings)
  }
  if (canonical(existing) !== canonical(settings)) {
    const diff = differences(existing as unknown as Record<string, unknown>, settings as unknown as Record<string, unknown>)
    throw new BatchError(
      'ERR_DATASET_MISMATCH',
      `${outdir} holds a dataset made with other settings (${diff.join('; ')}); use the same options and bundle, or another output directory`,
    )
  }
}
