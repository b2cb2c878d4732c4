/** A JSON file written atomically: temporary file, every byte checked, fsync, rename. */
import { writeFileAtomic } from '../durable_file.js'

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, [Buffer.from(`${JSON.stringify(value, null, 2)}\n`)])
}
