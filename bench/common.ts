/**
 * What the CPU benchmarks share: the seeded input file every runner reads, the configs, the
 * glibc setting that makes Python's allocator keep freed memory, and running one measurement
 * process that prints a JSON line.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { Tensor, writeSafetensors } from '../lib/index.js'
import { ROOT } from '../test/support/parity.js'

/** The model configs of the CPU benchmarks: a parity case (synthetic weights) and a T x H x W input. */
export const CONFIGS: Record<string, { case: string; size: [number, number, number] }> = {
  'ch32-smoke': { case: '16z-ch32-video', size: [8, 64, 64] },
  'ch32-256': { case: '16z-ch32-video', size: [16, 256, 256] },
  'full-128': { case: '16z-full-video', size: [8, 128, 128] },
}

/**
 * glibc told to keep freed memory (no mmap for large blocks, no trimming): the Python-side
 * equivalent of the addon's host cache, for a like-for-like comparison with PyTorch.
 */
export const MALLOC_KEEP = { ...process.env, MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: String(2 ** 40) }

/** Runs a measurement process and parses the last line of its stdout (stderr passes through). */
export function runJson<T>(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): T {
  const out = execFileSync(file, args, { encoding: 'utf8', cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 })
  return JSON.parse(out.trim().split('\n').pop()!) as T
}

/** A seeded uniform [-1, 1) video [1, 3, T, H, W], written once under .cache/bench and read by every runner. */
export async function inputFile([T, H, W]: [number, number, number]): Promise<string> {
  const file = path.join(ROOT, '.cache', 'bench', `input-${T}x${H}x${W}.safetensors`)
  if (fs.existsSync(file)) return file
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const data = new Float32Array(3 * T * H * W)
  let s = 12345
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    data[i] = s / 2 ** 31 - 1
  }
  const tmp = `${file}.tmp-${process.pid}`
  await writeSafetensors(tmp, { video: Tensor.from(data, [1, 3, T, H, W]) })
  fs.renameSync(tmp, file)
  return file
}

export const loadAverage = (): string => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
