// AOTInductor packages and bundles written by fixtures/make_aoti_fixtures.py, cached in the temp
// dir by the script's hash (each test file runs in its own process; the compiles run once per
// machine: four compiles, 5-12 minutes on 2 busy cores, most of it g++ on the generated code).
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { pythonBin, repoRoot } from './python.js'

const script = path.join(__dirname, '..', 'fixtures', 'make_aoti_fixtures.py')
// The exporter's weight storage code, which the script writes the storage bundles with.
const storageSources = ['aoti_weights.py', 'quantize.py'].map((f) => path.join(repoRoot, 'python', 'videovae', f))

export interface AotiFixtures {
  dir: string
  /** The tiny spatial decoder, exported without its weights: [z [B,4,T,h,w]] -> [x [B,3,T,8h,8w]]. */
  decoder: string
  decoderWeights: string
  /** x, and PyTorch's eager y for it. */
  decoderIo: string
  /** The tiny four-stage model as an AOTInductor bundle and as a TorchScript bundle. */
  bundleAoti: string
  bundleTs: string
  /** bundleAoti with the decoder's side file stored as float16 / int8 (aoti.weights_storage); decoderIo has y_float16 / y_int8 for them. */
  bundleAotiFloat16: string
  bundleAotiInt8: string
}

let cached: AotiFixtures | undefined

/** A skip reason when the project's Python (torch) is missing, else false. */
export const needsPython: string | false = fs.existsSync(pythonBin) ? false : `no Python venv at ${pythonBin} (run scripts/setup.sh)`

export function aotiFixtures(): AotiFixtures {
  if (cached) return cached
  const hash = createHash('sha256').update(fs.readFileSync(script))
  for (const f of storageSources) hash.update(fs.readFileSync(f))
  const key = hash.update(pythonBin).digest('hex').slice(0, 12)
  const dir = path.join(os.tmpdir(), `videovae-aoti-fixtures-${key}`)
  if (!fs.existsSync(path.join(dir, 'bundle-aoti', 'manifest.json'))) {
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-aoti-fixtures-'))
    execFileSync(pythonBin, [script, temp], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, OMP_NUM_THREADS: '2' } })
    fs.rmSync(dir, { recursive: true, force: true })
    fs.renameSync(temp, dir)
  }
  cached = {
    dir,
    decoder: path.join(dir, 'bundle-aoti', 'spatial_decoder.pt2'),
    decoderWeights: path.join(dir, 'bundle-aoti', 'spatial_decoder.weights.safetensors'),
    decoderIo: path.join(dir, 'decoder_io.safetensors'),
    bundleAoti: path.join(dir, 'bundle-aoti'),
    bundleTs: path.join(dir, 'bundle-ts'),
    bundleAotiFloat16: path.join(dir, 'bundle-aoti-float16'),
    bundleAotiInt8: path.join(dir, 'bundle-aoti-int8'),
  }
  return cached
}
