/**
 * Helpers of the CLI tests: run `bin/videovae.js` as a child process, make small videos with
 * ffmpeg, and get parity bundles (exported with `videovae export` itself, cached in .cache/).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { caseDir, needsParity, parityCheckpoint, PYTHON, readCase, ROOT, SHARED_DIR } from '../support/parity.js'

export { caseDir, needsParity, PYTHON, readCase, ROOT, SHARED_DIR }

export const BIN = path.join(ROOT, 'bin', 'videovae.js')
export const EVAL_DIR = path.join(SHARED_DIR, 'eval')
export const needsEval: string | false = fs.existsSync(path.join(EVAL_DIR, 'videos', '8.mp4'))
  ? false
  : `evaluation clips not found at ${EVAL_DIR} (set VIDEOVAE_SHARED)`
export const needsPython: string | false = fs.existsSync(PYTHON) ? false : `no Python venv at ${PYTHON} (run scripts/setup.sh)`

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs the CLI to completion. */
export function cli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    maxBuffer: 64 * 1024 * 1024,
  })
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }
}

/** Runs the CLI and calls `during(child)` once it started (to send signals). */
export function cliAsync(args: string[], during?: (child: ReturnType<typeof spawn>) => void): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
    during?.(child)
  })
}

/** The one JSON object a --json run printed on stdout. */
export function json<T = Record<string, unknown>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T
  } catch {
    throw new Error(`stdout is not one JSON object (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`)
  }
}

/** A fresh temp directory, removed when the process exits. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'videovae-cli-test-'))
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A lossless testsrc2 clip (x264 yuv444p crf 0). */
export function makeVideo(file: string, { width = 64, height = 64, frames = 8, fps = 8, source = 'testsrc2' } = {}): string {
  execFileSync('ffmpeg', [
    '-nostdin',
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `${source}=size=${width}x${height}:rate=${fps}`,
    '-frames:v',
    String(frames),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-crf',
    '0',
    '-pix_fmt',
    'yuv444p',
    file,
  ])
  return file
}

/** What ffprobe says about a video: decoded frame count and size. */
export function probe(file: string): { frames: number; width: number; height: number; fps: string } {
  const out = execFileSync(
    'ffprobe',
    ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,width,height,r_frame_rate', '-of', 'json', file],
    { encoding: 'utf8' },
  )
  const s = (JSON.parse(out) as { streams: Record<string, string | number>[] }).streams[0]!
  return { frames: Number(s.nb_read_frames), width: Number(s.width), height: Number(s.height), fps: String(s.r_frame_rate) }
}

/**
 * The bundle of a parity case: its synthetic checkpoint (.cache/parity, made by the fixtures'
 * make_checkpoint.py) exported with `videovae export` into .cache/bundles/<case>/ (reused when
 * its manifest.json exists).
 */
export function caseBundle(name: string): string {
  const dir = path.join(ROOT, '.cache', 'bundles', name)
  if (fs.existsSync(path.join(dir, 'manifest.json'))) return dir
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(path.dirname(dir), { recursive: true })
  const r = cli(['export', '--checkpoint', parityCheckpoint(name), '-o', dir, '--config', readCase(name).config])
  // Another test process may have exported the same bundle meanwhile.
  if (r.code !== 0 && !fs.existsSync(path.join(dir, 'manifest.json'))) {
    throw new Error(`videovae export failed (${r.code}): ${r.stderr}`)
  }
  return dir
}

/** Files of a directory (recursively), for "no output left behind" checks. */
export function listing(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).sort()
}
