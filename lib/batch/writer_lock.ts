/**
 * One live process per writer: a lock file holding host and pid. A lock left by a process
 * that died (SIGKILL, a lost node) is taken over; one held by a live process on this host is
 * an ERR_BUSY. Locks from other hosts are trusted only while they are fresh (touched within
 * `staleMs`), because their pid cannot be checked from here.
 */
import { hostname } from 'node:os'
import { open, readFile, rm, stat, utimes } from 'node:fs/promises'

import { BatchError } from './errors.js'

const STALE_MS = 10 * 60 * 1000
/** Locks this process holds: a lock file with our pid that is not among them is from an earlier process. */
const held = new Set<string>()

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export class WriterLock {
  readonly #file: string
  #timer: NodeJS.Timeout | undefined

  private constructor(file: string) {
    this.#file = file
  }

  static async acquire(file: string, what: string): Promise<WriterLock> {
    const me = `${hostname()} ${process.pid}\n`
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(file, 'wx')
        await fh.writeFile(me)
        await fh.close()
        const lock = new WriterLock(file)
        held.add(file)
        // Refresh the mtime so other hosts see the lock is alive.
        lock.#timer = setInterval(() => void utimes(file, new Date(), new Date()).catch(() => undefined), STALE_MS / 4)
        lock.#timer.unref()
        return lock
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const [host, pidText] = (await readFile(file, 'utf8').catch(() => '')).trim().split(' ')
      const pid = Number(pidText)
      const age = Date.now() - ((await stat(file).catch(() => null))?.mtimeMs ?? 0)
      const mine = pid === process.pid && held.has(file)
      const live = host === hostname() ? mine || (Number.isInteger(pid) && pid !== process.pid && alive(pid)) : age < STALE_MS
      if (live) throw new BatchError('ERR_BUSY', `${what} is being written by another process (${host} pid ${pidText}, lock ${file})`)
      await rm(file, { force: true })
    }
    throw new BatchError('ERR_BUSY', `cannot take the lock ${file}`)
  }

  async release(): Promise<void> {
    clearInterval(this.#timer)
    held.delete(this.#file)
    await rm(this.#file, { force: true })
  }
}
