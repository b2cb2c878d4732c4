/**
 * Option groups shared by several commands and the parsers that turn their text into
 * checked values (a malformed value is a usage error, exit 2).
 */
import { InvalidArgumentError, Option, type Command } from 'commander'

import { MAX_FPS, MIN_FPS } from '../io/frame_rate.js'
import type { FitMode, ReadVideoOptions } from '../io/video_reader.js'
import type { TilingOptions } from '../vae_options.js'
import { VideoVaeError } from '../errors.js'
import { checkChunkFrames, checkTile, type ShapeRules } from '../rules.js'
import { maxThreads } from '../runtime.js'
import { CliError, EXIT, usageError } from './errors.js'

/** A parser for integers >= min (and multiples of `multiple`). */
export function intArg(what: string, min = 0, multiple = 1): (value: string) => number {
  return (value: string) => {
    const n = Number(value)
    if (!/^\s*[+-]?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`${what} must be an integer >= ${min}`)
    }
    if (n % multiple !== 0) throw new InvalidArgumentError(`${what} must be a multiple of ${multiple}`)
    return n
  }
}

/** --threads: an integer from 1 to maxThreads() (libtorch's OpenMP cannot be told to use more). */
export function threadsArg(value: string): number {
  const n = intArg('--threads', 1)(value)
  if (n > maxThreads()) throw new InvalidArgumentError(`--threads must be at most ${maxThreads()} (4 per CPU, at least 256)`)
  return n
}

/** A positive number. */
export function numberArg(what: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${what} must be a number >= 0`)
    return n
  }
}

/** A frame rate: a positive number or an exact rational like 30000/1001. */
export function rateArg(value: string): string {
  const m = /^\s*(\d+(?:\.\d+)?)(?:\/(\d+))?\s*$/.exec(value)
  if (m === null || Number(m[1]) <= 0 || (m[2] !== undefined && Number(m[2]) === 0)) {
    throw new InvalidArgumentError('the frame rate must be a positive number or a fraction like 30000/1001')
  }
  const rate = Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2]))
  if (rate < MIN_FPS || rate > MAX_FPS) throw new InvalidArgumentError(`the frame rate must be between ${MIN_FPS} and ${MAX_FPS} fps`)
  return value.trim()
}

/** 'cpu', 'cuda' or 'cuda:N'. */
export function deviceArg(value: string): string {
  if (value === 'cpu' || value === 'cuda' || /^cuda:\d{1,3}$/.test(value)) return value
  throw new InvalidArgumentError("use 'cpu', 'cuda' or 'cuda:N'")
}

/** TxHxW (e.g. 16x256x256). */
export function sizeArg(value: string): [number, number, number] {
  const m = /^\s*(\d+)\s*[xX×,]\s*(\d+)\s*[xX×,]\s*(\d+)\s*$/.exec(value)
  if (m === null) throw new InvalidArgumentError('the size must be TxHxW, e.g. 16x256x256')
  const dims = [Number(m[1]), Number(m[2]), Number(m[3])] as [number, number, number]
  if (dims.some((d) => d < 1)) throw new InvalidArgumentError('every dimension must be at least 1')
  return dims
}

/** --json, --verbose, --quiet: every command has them. */
export function addOutputFlags(cmd: Command, json = true): Command {
  if (json) cmd.option('--json', 'print one JSON object on stdout and nothing else there')
  return cmd
    .option('-q, --quiet', 'no progress bars (they are drawn only when stderr is a terminal anyway)')
    .option('--verbose', 'stack traces and ffmpeg/libtorch details on errors')
}

export interface ModelFlags {
  bundle?: string
  device?: string
  threads?: number
  dtype?: 'float32' | 'bfloat16' | 'float16'
  cudnnBenchmark?: boolean
}

/** --bundle, --device, --threads, --dtype, --cudnn-benchmark. */
export function addModelOptions(cmd: Command, bundleRequired = false): Command {
  const bundle = new Option(
    '--bundle <dir>',
    bundleRequired ? 'bundle directory (manifest.json + TorchScript stages)' : 'bundle directory (default: the embedded default model)',
  )
  if (bundleRequired) bundle.makeOptionMandatory()
  return cmd
    .addOption(bundle)
    .option('--device <device>', "'cpu', 'cuda' or 'cuda:N'", deviceArg, 'cpu')
    .option('--threads <n>', "libtorch intra-op threads (default: libtorch's choice)", threadsArg)
    .addOption(
      new Option('--dtype <dtype>', 'compute dtype: float32 (the reference) or bfloat16 / float16 (weights converted at load)')
        .choices(['float32', 'bfloat16', 'float16'])
        .default('float32'),
    )
    .option('--cudnn-benchmark', 'CUDA: let cuDNN time its algorithms on the first call of each shape and keep the fastest (no effect on the CPU)')
}

export interface RunFlags {
  chunkFrames?: number
  tile?: number
  tileOverlap?: number
  image?: boolean
}

/** Frames per independent chunk when --chunk-frames is not given: 16 like the official video script, 1 for stills. */
export const DEFAULT_CHUNK = { video: 16, image: 1 } as const

/** The chunk size of a run: --chunk-frames, else the default of the path (0 = the whole clip). */
export function chunkOf(flags: RunFlags, image: boolean): number {
  return flags.chunkFrames ?? (image ? DEFAULT_CHUNK.image : DEFAULT_CHUNK.video)
}

const CHUNK_HELP =
  "frames per independent chunk, as the official process_in_chunks (on the video path a multiple of the bundle's rules.t_multiple, 4; " +
  'default 16 like the official video script, 1 on the image path; 0 = the whole clip at once). ' +
  'Memory is bounded by one chunk; results depend on the chunk size'

/** --chunk-frames, --tile, --tile-overlap (their shape rules come from the bundle: {@link runOptions}). */
export function addRunOptions(cmd: Command, chunkHelp = CHUNK_HELP): Command {
  return cmd
    .option('--chunk-frames <n>', chunkHelp, intArg('--chunk-frames', 0))
    .option(
      '--tile <px>',
      "spatial tiles of px x px pixels, cross-faded (bounded memory for large frames; a multiple of the bundle's rules.hw_multiple, 8)",
      intArg('--tile', 1),
    )
    .option('--tile-overlap <px>', 'overlap of neighbouring tiles (a multiple of the same below --tile; default tile/4)', intArg('--tile-overlap', 0))
}

/** The flag combinations that need no bundle (usage errors, checked before anything is read). */
export function checkRunFlags(flags: RunFlags): void {
  if (flags.tileOverlap !== undefined && flags.tile === undefined) throw usageError('--tile-overlap needs --tile')
}

const FLAG_NAMES = { chunkFrames: '--chunk-frames', tileSize: '--tile', tileOverlap: '--tile-overlap' }

/**
 * The run options of VideoVAE.encode/decode from the flags, checked against the bundle's shape
 * rules (lib/rules.ts) once it is known: a value that breaks them is ERR_ARGUMENT, exit 2.
 */
export function runOptions(flags: RunFlags, image: boolean, rules: ShapeRules): { chunkFrames?: number; tile?: TilingOptions; image: boolean } {
  checkRunFlags(flags)
  const out: { chunkFrames?: number; tile?: TilingOptions; image: boolean } = { image }
  try {
    if (flags.chunkFrames !== undefined) out.chunkFrames = checkChunkFrames(rules, flags.chunkFrames, image, FLAG_NAMES.chunkFrames, true)
    if (flags.tile !== undefined) {
      checkTile(rules, { size: flags.tile, ...(flags.tileOverlap === undefined ? {} : { overlap: flags.tileOverlap }) }, FLAG_NAMES)
      out.tile = { size: flags.tile, ...(flags.tileOverlap === undefined ? {} : { overlap: flags.tileOverlap }) }
    }
  } catch (err) {
    throw asFlagError(err)
  }
  return out
}

/** A rule broken by a command-line value: still ERR_ARGUMENT, but the command line's fault (exit 2). */
export function asFlagError(err: unknown): unknown {
  return err instanceof VideoVaeError && err.code === 'ERR_ARGUMENT' && !(err instanceof CliError)
    ? new CliError('ERR_ARGUMENT', err.message, EXIT.USAGE, { cause: err })
    : err
}

export interface ReadFlags {
  trustedInput?: boolean
  start?: number
  frames?: number
  fps?: string
  fit?: FitMode
  image?: boolean
  maxSize?: { width: number; height: number }
  sequenceFps?: string
}

/** WxH (e.g. 1280x720). */
export function frameSizeArg(value: string): { width: number; height: number } {
  const m = /^\s*(\d+)\s*[xX×]\s*(\d+)\s*$/.exec(value)
  if (m === null || Number(m[1]) < 1 || Number(m[2]) < 1) throw new InvalidArgumentError('the size must be WxH, e.g. 1280x720')
  return { width: Number(m[1]), height: Number(m[2]) }
}

/** Help of --trusted-input (see README "Untrusted input"). */
export const TRUSTED_INPUT_HELP =
  'let ffmpeg use any format and protocol for the inputs, including playlists (HLS), concat lists and SDP, which read other files or URLs; only for inputs you trust'

/** --image, --start, --frames, --fps, --fit: how input videos are read. */
export function addReadOptions(cmd: Command): Command {
  return cmd
    .option('--image', 'the image path: every frame encoded as a still (automatic for image files)')
    .option('--trusted-input', TRUSTED_INPUT_HELP)
    .option('--start <n>', 'first frame to read', intArg('--start', 0))
    .option('--frames <n>', 'read at most n frames', intArg('--frames', 1))
    .option('--fps <rate>', 'resample to this frame rate first (e.g. 8 or 30000/1001)', rateArg)
    .option('--max-size <WxH>', 'cap each side independently, scaling without keeping the aspect ratio (the official script reads at 1280x720)', frameSizeArg)
    .option('--sequence-fps <rate>', 'frame rate of an image-sequence input like frames/%04d.png (default 25)', rateArg)
    .addOption(
      new Option(
        '--fit <mode>',
        'bring frame sizes to multiples of 8: pad (edge pixels, cropped off again on output), crop (centre), resize, or none (refuse other sizes)',
      )
        .choices(['pad', 'crop', 'resize', 'none'])
        .default('pad'),
    )
}

/** readVideo options from the flags; `rules`: --fit brings sizes to the bundle's rules.hw_multiple (else 8). */
export function readOptions(flags: ReadFlags, rules?: ShapeRules): ReadVideoOptions {
  return {
    ...(rules === undefined ? {} : { fitMultiple: rules.rules.hwMultiple }),
    ...(flags.start === undefined ? {} : { start: flags.start }),
    ...(flags.frames === undefined ? {} : { count: flags.frames }),
    ...(flags.fps === undefined ? {} : { fps: flags.fps }),
    ...(flags.maxSize === undefined ? {} : { maxSize: flags.maxSize }),
    ...(flags.sequenceFps === undefined ? {} : { sequenceFps: flags.sequenceFps }),
    ...(flags.trustedInput === true ? { trusted: true } : {}),
    fit: flags.fit ?? 'pad',
  }
}

export interface LimitFlags {
  memoryLimit?: number | false
}

/** A byte size with a binary unit (6GB, 512MB, 1.5G, 2TiB); 0 or 'none': no limit. */
export function byteSizeArg(value: string): number | false {
  const text = value.trim().toLowerCase()
  if (text === '0' || text === 'none') return false
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt])i?b?$/.exec(text)
  if (m === null || Number(m[1]) <= 0) throw new InvalidArgumentError('the size must be a number with a unit, e.g. 8GB or 512MB (0 or none: no limit)')
  const scale = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2] as 'k' | 'm' | 'g' | 't']
  return Math.round(Number(m[1]) * scale)
}

/** --memory-limit: the preflight check of a job's estimated memory (lib/memory_limit.ts). */
export function addLimitOptions(cmd: Command): Command {
  return cmd.option(
    '--memory-limit <size>',
    'refuse an input whose job needs more than this estimated peak memory (the model of `videovae info --size`), before decoding it: ' +
      'e.g. 16GB; 0 or none: no limit (default: 3/4 of the memory this process may use, at least 6GB)',
    byteSizeArg,
  )
}
