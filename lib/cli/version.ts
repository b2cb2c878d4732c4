import { readFileSync } from 'node:fs'
import path from 'node:path'

import { packageRoot } from '../package_root.js'

/** The package version, from package.json. */
export function version(): string {
  try {
    return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}
