/** Shared fixtures of the I/O tests: temp dirs, synthetic videos made with ffmpeg, paths. */
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'

import { VideoIOError, type VideoIOErrorCode } from '../../lib/io/index.js'

/** The repository root: the nearest directory above the cwd holding package.json. */
export function repoRoot(): string {
  let dir = process.cwd()
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir)
    if (up === dir) return process.cwd()
    dir = up
  }
  return dir
}

/** The evaluation clips (never copied into the repository). */
export const evalDir = resolve(repoRoot(), '../shared/eval')
export const hasEval = existsSync(join(evalDir, 'videos', '8.mp4'))
export const python = join(repoRoot(), '.venv', 'bin', 'python')
export const hasSkimage = existsSync(python) && spawnSync(python, ['-c', 'import skimage, numpy'], { stdio: 'ignore' }).status === 0

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix = 'videovae-io-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Options of {@link makeVideo}. */
export interface MakeVideoOptions {
  width?: number
  height?: number
  frames?: number
  fps?: number
  /** lavfi source filter (size and rate are appended). Default: 'testsrc2'. */
  source?: string
  /** Extra output arguments (codec etc.). Default: lossless-ish x264 yuv444p crf 0, moov at end. */
  codecArgs?: string[]
}

/** Writes a testsrc2 clip with ffmpeg. */
export function makeVideo(path: string, opts: MakeVideoOptions = {}): string {
  const { width = 100, height = 60, frames = 30, fps = 10 } = opts
  const codecArgs = opts.codecArgs ?? ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '0', '-pix_fmt', 'yuv444p']
  execFileSync('ffmpeg', [
    '-nostdin',
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `${opts.source ?? 'testsrc2'}=size=${width}x${height}:rate=${fps}`,
    '-frames:v',
    String(frames),
    ...codecArgs,
    path,
  ])
  return path
}

/** One frame of a `[T,H,W,3]` buffer. */
export function frameOf(frames: Uint8Array, index: number, width: number, height: number): Uint8Array {
  const size = width * height * 3
  return frames.subarray(index * size, (index + 1) * size)
}

/** Crops `[T,H,W,3]` frames in plain JS (the reference for the ffmpeg crop). */
export function cropFrames(frames: Uint8Array, t: number, w: number, h: number, x: number, y: number, cw: number, ch: number): Uint8Array {
  const out = new Uint8Array(t * cw * ch * 3)
  let o = 0
  for (let f = 0; f < t; f++) {
    for (let r = 0; r < ch; r++) {
      const s = ((f * h + y + r) * w + x) * 3
      out.set(frames.subarray(s, s + cw * 3), o)
      o += cw * 3
    }
  }
  return out
}

/** Asserts that `p` rejects with a VideoIOError of `code` whose message matches `re`. */
export async function rejectsWith(p: Promise<unknown>, code: VideoIOErrorCode, re?: RegExp): Promise<VideoIOError> {
  let caught: unknown
  await assert.rejects(p, (err: unknown) => {
    caught = err
    return true
  })
  assert.ok(caught instanceof VideoIOError, `not a VideoIOError: ${String(caught)}`)
  assert.equal(caught.code, code, caught.message)
  if (re !== undefined) assert.match(caught.message, re)
  return caught
}
