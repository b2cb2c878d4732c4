/**
 * Full disks for the tests: a small tmpfs (needs root, as here and in CI; a test skips with the
 * reason when mount is refused), filled up to the bytes a test leaves free, and a child process
 * under a file-size limit (`ulimit -f`, no root needed), whose writes past the limit fail with
 * EFBIG (SIGXFSZ ignored). Programs the child spawns get the default SIGXFSZ back (libuv resets
 * signals), so ffmpeg under the limit is killed rather than failing a write.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ROOT } from './parity.js'

export const CHILD = path.join(ROOT, 'test', 'support', 'full_disk_child.ts')

/** A tmpfs of `kib` KiB mounted on a fresh directory, or the reason there is none. */
export function smallTmpfs(kib: number): { dir: string; skip: false } | { dir: ''; skip: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-full-disk-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir], { stdio: 'pipe' })
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true })
    return { dir: '', skip: `cannot mount a tmpfs to fill (${String((err as { stderr?: Buffer }).stderr ?? err).trim() || 'not root'})` }
  }
  process.on('exit', () => {
    spawnSync('umount', ['-l', dir])
    try {
      fs.rmSync(dir, { recursive: true, force: true })
    } catch {
      // still busy right after the lazy unmount: an empty directory in the temp dir
    }
  })
  return { dir, skip: false }
}

/** Bytes free on the filesystem of `dir`. */
export function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir)
  return s.bavail * s.bsize
}

/** Fills the filesystem of `dir` until about `leave` bytes are free (a file named .filler). */
export function fillUp(dir: string, leave: number): void {
  const filler = path.join(dir, '.filler')
  fs.rmSync(filler, { force: true })
  const size = freeBytes(dir) - leave
  if (size > 0) fs.writeFileSync(filler, Buffer.alloc(size, 1))
}

/** Frees what fillUp took. */
export function unfill(dir: string): void {
  fs.rmSync(path.join(dir, '.filler'), { force: true })
}

export interface LimitedRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `command args` with files limited to `kib` KiB and SIGXFSZ ignored. */
export function underFileLimit(kib: number, command: string, args: string[], env: NodeJS.ProcessEnv = {}): LimitedRun {
  const r = spawnSync('bash', ['-c', 'trap "" XFSZ; ulimit -f "$0"; exec "$@"', String(kib), command, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 16 * 1024 * 1024,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Runs one write of full_disk_child.ts under a file-size limit; its JSON verdict. */
export function childWrite(kib: number, kind: string, dest: string, n: number): { ok: boolean; code?: string; message?: string } {
  const r = underFileLimit(kib, process.execPath, ['--import', 'tsx', CHILD, kind, dest, String(n)])
  const line = r.stdout.trim().split('\n').pop() ?? ''
  try {
    return JSON.parse(line) as { ok: boolean; code?: string; message?: string }
  } catch {
    throw new Error(`the child crashed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`)
  }
}

/** Names in `dir` other than the filler: what a failed write must not leave behind. */
export function names(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n !== '.filler' && n !== 'lost+found')
    .sort()
}
