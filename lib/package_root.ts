import fs from 'node:fs'
import path from 'node:path'

let root: string | undefined

/** The directory of videovae's package.json, from lib/ (tsx) as from dist/cjs/ (published). */
export function packageRoot(): string {
  if (root) return root
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json')
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'videovae') {
      root = dir
      return dir
    }
    if (path.dirname(dir) === dir) throw new Error(`videovae: package.json not found above ${__dirname}`)
  }
}
