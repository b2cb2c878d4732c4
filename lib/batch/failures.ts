/**
 * The failures file: one JSON line per item that could not be encoded (corrupt, too short,
 * unreadable, ...) with its error. Each run starts it afresh, because a rerun tries every item
 * that is not committed again: after a run it lists exactly the items that failed in it.
 */
import { open, type FileHandle } from 'node:fs/promises'

import { writeFully } from '../durable_file.js'
import type { BatchItem } from './manifest.js'

export interface FailureRecord {
  id: string
  source: string
  /** Stable error code, e.g. ERR_VIDEO_CORRUPT, ERR_TOO_SHORT, ERR_NOT_FOUND. */
  code: string
  error: string
}

/** The stable code and the one-line message of any error. */
export function describeError(err: unknown): { code: string; error: string } {
  const code = (err as { code?: unknown } | null)?.code
  const message = err instanceof Error ? err.message : String(err)
  return {
    code: typeof code === 'string' ? code : 'ERR_INTERNAL',
    error: message
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .join(' | '),
  }
}

export class FailuresFile {
  readonly #fh: FileHandle
  readonly records: FailureRecord[] = []

  private constructor(fh: FileHandle) {
    this.#fh = fh
  }

  /** Opens the file; `fresh` empties it (a new run), otherwise appends (a worker restarting). */
  static async open(file: string, fresh: boolean): Promise<FailuresFile> {
    return new FailuresFile(await open(file, fresh ? 'w' : 'a'))
  }

  async add(item: BatchItem, err: unknown): Promise<FailureRecord> {
    const record = { id: item.id, source: item.path, ...describeError(err) }
    this.records.push(record)
    await writeFully(this.#fh, [Buffer.from(`${JSON.stringify(record)}\n`)])
    await this.#fh.sync()
    return record
  }

  async close(): Promise<void> {
    await this.#fh.close()
  }
}
