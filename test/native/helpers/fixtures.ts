// TorchScript modules and reference files written by fixtures/make_fixtures.py, cached in the
// temp dir by the script's hash (each test file runs in its own process; Python runs once).
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { pythonBin } from './python.js'

const script = path.join(__dirname, '..', 'fixtures', 'make_fixtures.py')

export interface Fixtures {
  dir: string
  convnet: string
  toolbox: string
  parity: string
  dtypes: string
  dtypesJson: string
}

let cached: Fixtures | undefined

export function fixtures(): Fixtures {
  if (cached) return cached
  const hash = createHash('sha256').update(fs.readFileSync(script)).update(pythonBin).digest('hex').slice(0, 12)
  const dir = path.join(os.tmpdir(), `videovae-test-fixtures-${hash}`)
  if (!fs.existsSync(path.join(dir, 'dtypes.json'))) {
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-fixtures-'))
    execFileSync(pythonBin, [script, temp], { stdio: 'inherit', env: { ...process.env, OMP_NUM_THREADS: '2' } })
    fs.rmSync(dir, { recursive: true, force: true })
    fs.renameSync(temp, dir)
  }
  cached = {
    dir,
    convnet: path.join(dir, 'convnet.pt'),
    toolbox: path.join(dir, 'toolbox.pt'),
    parity: path.join(dir, 'parity.safetensors'),
    dtypes: path.join(dir, 'dtypes.safetensors'),
    dtypesJson: path.join(dir, 'dtypes.json'),
  }
  return cached
}

/** A fresh temp directory, removed when the process exits. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-test-'))
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}
