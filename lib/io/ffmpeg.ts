/**
 * The system ffmpeg and ffprobe: where they are, how to run them, and how their failures become
 * typed errors. Everything in lib/io talks to ffmpeg through this file.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { statSync } from 'node:fs'

import { findTool, missingToolMessage, toolEnvVar, type FfmpegTool } from './ffmpeg_path.js'
import { formatNotAllowed, protocolNotAllowed, refusedByPolicy } from './input_policy.js'
import { VideoIOError, type VideoIOErrorCode, type VideoIOErrorOptions } from './io_error.js'

export { VideoIOError, type VideoIOErrorCode, type VideoIOErrorOptions } from './io_error.js'

export type { FfmpegTool } from './ffmpeg_path.js'

const located = new Map<string, string>()

/**
 * The path of `ffmpeg` or `ffprobe`: the environment variable `FFMPEG_PATH` / `FFPROBE_PATH` when
 * set (it must name an executable file), else the first match on `PATH` (lib/io/ffmpeg_path.ts).
 * @throws VideoIOError `ERR_FFMPEG_MISSING` when it cannot be found, naming the fix.
 */
export function locateTool(tool: FfmpegTool): string {
  const key = `${tool}\0${process.env[toolEnvVar[tool]] ?? ''}\0${process.env.PATH ?? ''}`
  const cached = located.get(key)
  if (cached !== undefined) return cached
  const found = findTool(tool)
  if (found === null) throw new VideoIOError('ERR_FFMPEG_MISSING', missingToolMessage(tool))
  located.set(key, found.path)
  return found.path
}

/** How a tool process ended. */
export interface ToolExit {
  /** Exit code, or null when killed by a signal or never started. */
  code: number | null
  /** The signal that ended it, or null. */
  signal: NodeJS.Signals | null
  /** The error that prevented it from starting, if any. */
  spawnError?: Error
}

/** A running ffmpeg/ffprobe process with its stderr kept (the tail) for error messages. */
export interface ToolProcess {
  readonly child: ChildProcess
  /** Resolves when the process has ended; never rejects. */
  readonly done: Promise<ToolExit>
  /** The last lines of stderr so far (at most {@link STDERR_TAIL_BYTES}). */
  stderrTail(): string
  /** Ends the process now (SIGKILL) if it is still running. */
  kill(): void
}

const live = new Set<ChildProcess>()

/**
 * Kills (SIGKILL) every ffmpeg/ffprobe still running; synchronous, for exit hooks, so that no
 * process keeps writing once temporaries are removed.
 */
export function killAllTools(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
  live.clear()
}

/** How much of stderr is kept for error messages. */
export const STDERR_TAIL_BYTES = 8192

/** Options of {@link spawnTool}. */
export interface SpawnToolOptions {
  /** Whether stdin is a pipe (for writers) or ignored. Default: false (ignored). */
  stdin?: boolean
  /** Whether stdout is a pipe or ignored. Default: true (pipe). */
  stdout?: boolean
}

/**
 * Starts ffmpeg or ffprobe with `args`. Never throws for a failed start after the tool was
 * located: the failure shows up in `done` (as `spawnError`).
 * @throws VideoIOError `ERR_FFMPEG_MISSING` when the tool cannot be located.
 */
export function spawnTool(tool: FfmpegTool, args: readonly string[], options: SpawnToolOptions = {}): ToolProcess {
  const exe = locateTool(tool)
  const child = spawn(exe, args, {
    stdio: [options.stdin === true ? 'pipe' : 'ignore', options.stdout === false ? 'ignore' : 'pipe', 'pipe'],
    windowsHide: true,
  })
  live.add(child)
  let tail = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (s: string) => {
    tail += s
    if (tail.length > STDERR_TAIL_BYTES * 2) tail = tail.slice(-STDERR_TAIL_BYTES)
  })
  const done = new Promise<ToolExit>((resolve) => {
    let spawnError: Error | undefined
    child.once('error', (err) => {
      spawnError = err
      // 'close' may not follow a failed spawn on every platform.
      if (child.pid === undefined) {
        live.delete(child)
        resolve({ code: null, signal: null, spawnError: err })
      }
    })
    child.once('close', (code, signal) => {
      live.delete(child)
      resolve(spawnError === undefined ? { code, signal } : { code, signal, spawnError })
    })
  })
  return {
    child,
    done,
    stderrTail: () => (tail.length > STDERR_TAIL_BYTES ? tail.slice(-STDERR_TAIL_BYTES) : tail),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        child.kill('SIGKILL')
      }
    },
  }
}

/** Result of {@link runTool}. */
export interface ToolResult extends ToolExit {
  stdout: Buffer
  stderr: string
}

/** Runs a tool to completion, collecting stdout. */
export async function runTool(tool: FfmpegTool, args: readonly string[]): Promise<ToolResult> {
  const proc = spawnTool(tool, args)
  const chunks: Buffer[] = []
  proc.child.stdout?.on('data', (b: Buffer) => chunks.push(b))
  const exit = await proc.done
  return { ...exit, stdout: Buffer.concat(chunks), stderr: proc.stderrTail() }
}

/** The last few non-empty lines of ffmpeg's stderr, for messages. */
export function stderrSummary(stderr: string, maxLines = 6, maxChars = 800): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '')
  let text = lines.slice(-maxLines).join(' | ')
  if (text.length > maxChars) text = '…' + text.slice(-maxChars)
  return text
}

const corruptPatterns: readonly RegExp[] = [
  /moov atom not found/i,
  /partial file/i,
  /truncat/i,
  /corrupt/i,
  /invalid nal unit/i,
  /error splitting the input/i,
  /error while decoding/i,
  /EBML header parsing failed/i,
  /could not find codec parameters/i,
  /error reading header/i,
  /end of file/i,
]

/** What the failed process was doing, for error messages and classification. */
export type ToolOperation = 'read' | 'probe' | 'write'

/**
 * Turns a failed ffmpeg/ffprobe run into a {@link VideoIOError} with a code chosen from what
 * ffmpeg printed, and the tail of stderr in the message.
 */
export function translateToolError(tool: FfmpegTool, op: ToolOperation, path: string, exit: ToolExit, stderr: string): VideoIOError {
  const opts: VideoIOErrorOptions = { path, stderr, exitCode: exit.code, cause: exit.spawnError }
  if (exit.spawnError !== undefined) {
    return new VideoIOError('ERR_FFMPEG_MISSING', `could not start ${tool}: ${exit.spawnError.message}; ${missingToolMessage(tool)}`, opts)
  }
  const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`
  const detail = stderrSummary(stderr)
  const suffix = detail === '' ? '' : `: ${detail}`
  let code: VideoIOErrorCode
  let what: string
  const refused = op === 'write' ? undefined : refusedByPolicy(stderr)
  if (op === 'write') {
    if (/unknown encoder|encoder .* not found|not divisible by|not supported|unable to find a suitable output format|invalid argument/i.test(stderr)) {
      code = 'ERR_UNSUPPORTED'
      what = `cannot encode ${path}`
    } else {
      code = 'ERR_WRITE'
      what = `failed to write ${path}`
    }
  } else if (refused !== undefined) {
    // ffmpeg renders text files (.txt, .nfo, ...) as ANSI-art video: not a real video.
    if ('format' in refused && refused.format === 'tty') {
      return new VideoIOError('ERR_UNSUPPORTED', `${path} is a text file, not a video or image`, opts)
    }
    const err = 'format' in refused ? formatNotAllowed(path, refused.format) : protocolNotAllowed(path, refused.protocol)
    return new VideoIOError(err.code, err.message, opts)
  } else if (/no such file or directory/i.test(stderr)) {
    code = 'ERR_NOT_FOUND'
    what = `${path} not found`
  } else if (corruptPatterns.some((re) => re.test(stderr))) {
    code = 'ERR_VIDEO_CORRUPT'
    what = `${path} is damaged or truncated`
  } else if (/invalid data found when processing input|decoder .* not found|unknown decoder|unsupported codec|not supported/i.test(stderr)) {
    code = 'ERR_UNSUPPORTED'
    what = `${path} is not a video or image format ffmpeg can read`
  } else {
    code = 'ERR_FFMPEG'
    what = `${tool} failed on ${path}`
  }
  return new VideoIOError(code, `${what} (${tool} ${how})${suffix}`, opts)
}

/**
 * Checks that an input path names an existing, non-empty regular file.
 * @throws VideoIOError `ERR_NOT_FOUND` / `ERR_VIDEO_CORRUPT` (empty file).
 */
export function checkInputFile(path: string): void {
  let size: number
  try {
    const st = statSync(path)
    if (!st.isFile()) throw new VideoIOError('ERR_NOT_FOUND', `${path} is not a regular file`, { path })
    size = st.size
  } catch (err) {
    if (err instanceof VideoIOError) throw err
    throw new VideoIOError('ERR_NOT_FOUND', `${path} not found`, { path, cause: err })
  }
  if (size === 0) throw new VideoIOError('ERR_VIDEO_CORRUPT', `${path} is empty`, { path })
}

/** An error for an aborted operation, keeping the signal's reason as the cause. */
export function abortError(signal: AbortSignal | undefined, path?: string): VideoIOError {
  return new VideoIOError('ERR_ABORTED', `operation aborted${path === undefined ? '' : ` (${path})`}`, {
    path,
    cause: signal?.reason as unknown,
  })
}

/** Parses an ffmpeg rational like `30000/1001` (or a plain number); null when invalid or zero. */
export function parseRational(text: string | undefined): { num: number; den: number } | null {
  if (text === undefined) return null
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(?:[/:]\s*(\d+(?:\.\d+)?))?\s*$/.exec(text)
  if (m === null) return null
  const num = Number(m[1])
  const den = m[2] === undefined ? 1 : Number(m[2])
  if (!Number.isFinite(num) || !Number.isFinite(den) || num <= 0 || den <= 0) return null
  return { num, den }
}

/**
 * A frame rate for ffmpeg's command line: a positive number, or a rational string such as
 * `'30000/1001'` (kept exact).
 * @throws VideoIOError `ERR_ARGUMENT` when not a positive rate.
 */
export function formatFrameRate(fps: number | string, what = 'fps'): string {
  if (typeof fps === 'number') {
    if (!Number.isFinite(fps) || fps <= 0) {
      throw new VideoIOError('ERR_ARGUMENT', `${what} must be a positive number, got ${fps}`)
    }
    return String(fps)
  }
  const r = parseRational(fps)
  if (r === null) {
    throw new VideoIOError('ERR_ARGUMENT', `${what} must be a positive number or 'num/den', got '${fps}'`)
  }
  return `${r.num}/${r.den}`
}

/**
 * A local path as an ffmpeg URL (`file:` prefix), so that names containing `:` or starting with
 * `-` are never taken for a protocol or an option.
 */
export function fileUrl(path: string): string {
  return `file:${path}`
}
