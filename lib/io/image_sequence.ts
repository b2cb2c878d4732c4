/**
 * Numbered image sequences (`frames/%04d.png`) as video input: which files a pattern names, and
 * the ffmpeg input arguments that read them as one stream.
 */
import { readdirSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import { fileUrl, formatFrameRate, VideoIOError } from './ffmpeg.js'
import { inputPolicyArgs } from './input_policy.js'

const imageExts = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.ppm'])
const numberPattern = /%(0?\d+)?d/

/** Frame rate given to image sequences when the reader is not told one (ffmpeg's default). */
export const DEFAULT_SEQUENCE_FPS = 25

function extOf(path: string): string {
  const m = /\.[^./\\]+$/.exec(path)
  return m === null ? '' : m[0].toLowerCase()
}

/** Whether `ext` (lower case, with the dot) is a still-image extension ffmpeg reads and writes. */
export function isImageExt(ext: string): boolean {
  return imageExts.has(ext)
}

/** Whether `path` names an image sequence (a `%d`/`%04d` pattern with an image extension). */
export function isImageSequencePath(path: string): boolean {
  const name = basename(path)
  return numberPattern.test(name) && imageExts.has(extOf(name))
}

/** The files of a sequence: the first number and how many consecutive frames follow it. */
export interface ImageSequence {
  /** Number of the first frame file. */
  startNumber: number
  /** Number of frames (files `startNumber` .. `startNumber + frameCount - 1`). */
  frameCount: number
  /** Path of the first frame file. */
  firstFile: string
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * Lists the files that `pattern` names, as ffmpeg's image2 reader would read them. The numbers
 * must be consecutive: ffmpeg fails at a gap, so a gap is reported here, by number.
 * @throws VideoIOError `ERR_NOT_FOUND` when no file matches, `ERR_ARGUMENT` at a gap.
 */
export function findImageSequence(pattern: string): ImageSequence {
  const dir = dirname(pattern)
  const name = basename(pattern)
  const m = numberPattern.exec(name) as RegExpExecArray
  const width = m[1] === undefined ? 0 : Number(m[1])
  // %04d matches exactly 4 digits below 10000 and more above; %d any number of digits.
  const digits = width > 0 ? `\\d{${width},}` : '\\d+'
  const re = new RegExp(`^${escapeRegExp(name.slice(0, m.index))}(${digits})${escapeRegExp(name.slice(m.index + m[0].length))}$`)
  let entries: string[]
  try {
    entries = readdirSync(dir === '' ? '.' : dir)
  } catch (err) {
    throw new VideoIOError('ERR_NOT_FOUND', `${pattern}: the folder ${dir} cannot be read`, { path: pattern, cause: err })
  }
  const numbers = new Map<number, string>()
  for (const entry of entries) {
    const hit = re.exec(entry)
    if (hit === null) continue
    const n = Number(hit[1])
    // %04d: 0012 is frame 12, 12 is not a match; wider numbers must not be zero-padded beyond.
    if (width > 0 && (hit[1] as string).length > width && (hit[1] as string).startsWith('0')) continue
    numbers.set(n, entry)
  }
  if (numbers.size === 0) {
    throw new VideoIOError('ERR_NOT_FOUND', `${pattern}: no file matches the frame-number pattern`, { path: pattern })
  }
  const startNumber = Math.min(...numbers.keys())
  let frameCount = 0
  while (numbers.has(startNumber + frameCount)) frameCount++
  if (frameCount !== numbers.size) {
    const last = Math.max(...numbers.keys())
    throw new VideoIOError(
      'ERR_ARGUMENT',
      `${pattern}: frame number ${startNumber + frameCount} is missing (the files run from ${startNumber} to ${last}); an image sequence must have no gaps`,
      { path: pattern },
    )
  }
  const firstFile = `${dir}/${numbers.get(startNumber) as string}`
  return { startNumber, frameCount, firstFile }
}

/**
 * ffmpeg input options (before `-i`) and input URL of a sequence at `fps` frames per second,
 * under the input allowlists unless `trusted`.
 */
export function sequenceInputArgs(pattern: string, sequence: ImageSequence, fps: number | string, trusted = false): string[] {
  return [
    ...inputPolicyArgs(trusted),
    '-f',
    'image2',
    '-framerate',
    formatFrameRate(fps, 'sequenceFps'),
    '-start_number',
    String(sequence.startNumber),
    '-i',
    fileUrl(pattern),
  ]
}
