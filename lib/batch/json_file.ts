/** A JSON file written atomically: temporary file, fsync, rename. */
import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import path from 'node:path'

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    const fh = await open(temp, 'w')
    try {
      await fh.writeFile(`${JSON.stringify(value, null, 2)}\n`)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(temp, file)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
}
