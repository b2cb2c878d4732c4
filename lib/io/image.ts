/** Still images (PNG, JPEG, BMP, TIFF, WebP...) to and from 8-bit RGB, through ffmpeg. */
import type { Writable } from 'node:stream'
import { createTempFile } from './atomic_output.js'
import { fileUrl, spawnTool, translateToolError, VideoIOError } from './ffmpeg.js'
import { checkImageOutput } from './output_check.js'
import { inputPolicyArgs } from './input_policy.js'
import { probeVideo } from './probe.js'
import { imageEncoderArgs, jpegQscale } from './video_writer.js'

/** An 8-bit RGB image. */
export interface RgbImage {
  /** RGB bytes, row-major `[H,W,3]`. */
  data: Uint8Array
  width: number
  height: number
}

/** Parses ffmpeg's binary PPM (`P6\n<w> <h>\n255\n` + RGB bytes). */
function parsePpm(buf: Buffer, path: string): RgbImage {
  const m = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(buf.subarray(0, 64).toString('latin1'))
  if (m === null || m[3] !== '255') {
    throw new VideoIOError('ERR_FFMPEG', `${path}: unexpected image data from ffmpeg`, { path })
  }
  const width = Number(m[1])
  const height = Number(m[2])
  const size = width * height * 3
  const header = m[0].length
  if (buf.length < header + size) {
    throw new VideoIOError('ERR_VIDEO_CORRUPT', `${path}: the decoded image is incomplete`, { path })
  }
  const data = new Uint8Array(size)
  data.set(buf.subarray(header, header + size))
  return { data, width, height }
}

/** Options of {@link readImage}. */
export interface ReadImageOptions {
  /** Any ffmpeg format and protocol may be used (see `ReadVideoOptions.trusted`). Default: false. */
  trusted?: boolean
}

/**
 * Reads the first frame of an image file (or of a video) as 8-bit RGB. Alpha is dropped, 16-bit
 * images are reduced to 8 bits, and JPEG chroma is upsampled by ffmpeg (it may differ by a level
 * or so from libjpeg/PIL). EXIF orientation is not applied.
 * @throws VideoIOError `ERR_NOT_FOUND`, `ERR_VIDEO_CORRUPT`, `ERR_UNSUPPORTED`, `ERR_NO_FRAMES`,
 * `ERR_FORMAT_NOT_ALLOWED`, `ERR_FFMPEG_MISSING`.
 */
export async function readImage(path: string, options: ReadImageOptions = {}): Promise<RgbImage> {
  const trusted = options.trusted === true
  await probeVideo(path, trusted ? { trusted } : {}) // clear errors for missing, damaged, text or audio-only files
  const proc = spawnTool('ffmpeg', [
    '-nostdin',
    '-v',
    'error',
    ...inputPolicyArgs(trusted),
    '-i',
    fileUrl(path),
    '-map',
    '0:V:0',
    '-frames:v',
    '1',
    '-f',
    'image2pipe',
    '-c:v',
    'ppm',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ])
  const chunks: Buffer[] = []
  proc.child.stdout?.on('data', (b: Buffer) => chunks.push(b))
  const exit = await proc.done
  if (exit.code !== 0 || exit.spawnError !== undefined) {
    throw translateToolError('ffmpeg', 'read', path, exit, proc.stderrTail())
  }
  const buf = Buffer.concat(chunks)
  if (buf.length === 0) throw new VideoIOError('ERR_NO_FRAMES', `${path}: no image in the file`, { path })
  return parsePpm(buf, path)
}

/** Options of {@link writeImage}. */
export interface WriteImageOptions {
  /** JPEG (and WebP) quality, 1 (worst) to 100 (best); PNG is always lossless. Default: 95. */
  quality?: number
  /** Replace an existing file (only ever after a successful write). Default: true. */
  overwrite?: boolean
}

const writableExts = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.ppm'])

/**
 * Writes an 8-bit RGB image `[H,W,3]`; the format comes from the extension (`.png`, `.jpg`,
 * `.jpeg`, `.bmp`, `.tif`, `.tiff`, `.webp`, `.ppm`). Written to a temporary beside `path` and
 * renamed into place on success.
 * @throws VideoIOError `ERR_ARGUMENT`, `ERR_UNSUPPORTED`, `ERR_WRITE`, `ERR_FFMPEG_MISSING`.
 */
export async function writeImage(path: string, data: Uint8Array, width: number, height: number, options: WriteImageOptions = {}): Promise<void> {
  const ext = (/\.[^./\\]+$/.exec(path)?.[0] ?? '').toLowerCase()
  if (!writableExts.has(ext)) {
    throw new VideoIOError('ERR_UNSUPPORTED', `${path}: unknown image extension '${ext}'`, { path })
  }
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new VideoIOError('ERR_ARGUMENT', `image size must be positive integers, got ${width}x${height}`)
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * 3) {
    throw new VideoIOError(
      'ERR_ARGUMENT',
      `image data must be ${width * height * 3} bytes ([${height},${width},3] RGB), got ${(data as { length?: number } | null)?.length ?? 'none'}`,
    )
  }
  const quality = options.quality ?? 95
  jpegQscale(quality)
  const temp = await createTempFile(path, options.overwrite ?? true)
  const proc = spawnTool(
    'ffmpeg',
    [
      '-nostdin',
      '-v',
      'error',
      '-xerror',
      '-y',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      `${width}x${height}`,
      '-i',
      'pipe:0',
      '-frames:v',
      '1',
      ...imageEncoderArgs(ext, quality),
      '-update',
      '1',
      '-f',
      'image2',
      fileUrl(temp.tempPath),
    ],
    { stdin: true, stdout: false },
  )
  try {
    const stdin = proc.child.stdin as Writable
    stdin.on('error', () => undefined) // a broken pipe shows as ffmpeg's exit status
    stdin.end(data)
    const exit = await proc.done
    if (exit.code !== 0 || exit.spawnError !== undefined) {
      throw translateToolError('ffmpeg', 'write', path, exit, proc.stderrTail())
    }
    await checkImageOutput(temp.tempPath, path) // a full disk can leave a cut-off image behind exit 0
    await temp.commit()
  } finally {
    proc.kill()
    await proc.done
    await temp.discard()
  }
}
