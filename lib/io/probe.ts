/** `probeVideo`: what ffprobe says about the first video stream of a file. */
import { checkInputFile, formatFrameRate, fileUrl, parseRational, runTool, translateToolError, VideoIOError } from './ffmpeg.js'
import { formatNotAllowed, inputPolicyArgs, isAllowedFormat } from './input_policy.js'
import { DEFAULT_SEQUENCE_FPS, findImageSequence, isImageSequencePath } from './image_sequence.js'

/** Facts about the first video stream of a file (cover art excluded), as ffmpeg will decode it. */
export interface VideoInfo {
  /** Width of the decoded frames in pixels (after the display rotation is applied). */
  width: number
  /** Height of the decoded frames in pixels (after the display rotation is applied). */
  height: number
  /** Frame rate in frames per second (average rate when known, else the stream's base rate). */
  fps: number
  /** The same rate as an exact ffmpeg rational, e.g. `'30000/1001'`; usable as a writer `fps`. */
  fpsFraction: string
  /**
   * Number of frames: the container's count, or a decoded count with `countFrames`; null when
   * unknown.
   */
  frameCount: number | null
  /** Duration in seconds (stream, else container); null when unknown. */
  durationSeconds: number | null
  /** ffmpeg's codec name, e.g. `'h264'`. */
  codec: string
  /** ffmpeg's pixel format of the stream, e.g. `'yuv420p'`. */
  pixFmt: string
  /** Display rotation in degrees (0, 90, 180, 270) that ffmpeg applies when decoding. */
  rotation: number
}

/** Options of {@link probeVideo}. */
export interface ProbeOptions {
  /**
   * Frame rate of an image sequence input (`frames/%04d.png`), which has none of its own.
   * Default: 25 (ffmpeg's).
   */
  sequenceFps?: number | string
  /**
   * Decode the whole stream to count frames exactly when the container does not store the count
   * (slow: a full decode). Default: false.
   */
  countFrames?: boolean
  /**
   * The file is trusted: any format and protocol ffmpeg supports may be used, including
   * playlists (HLS), concat lists and SDP, which make ffmpeg open other files or URLs. Default:
   * false (self-contained video and image formats only, local file protocol only).
   */
  trusted?: boolean
}

interface FfprobeStream {
  width?: number
  height?: number
  codec_name?: string
  pix_fmt?: string
  r_frame_rate?: string
  avg_frame_rate?: string
  nb_frames?: string
  nb_read_frames?: string
  duration?: string
  tags?: Record<string, string>
  side_data_list?: Array<{ rotation?: number | string }>
}

interface FfprobeOutput {
  streams?: FfprobeStream[]
  format?: { duration?: string; format_name?: string }
}

function positiveInt(text: string | undefined): number | null {
  if (text === undefined) return null
  const n = Number(text)
  return Number.isInteger(n) && n >= 0 ? n : null
}

function positiveFloat(text: string | undefined): number | null {
  if (text === undefined) return null
  const n = Number(text)
  return Number.isFinite(n) && n >= 0 ? n : null
}

function rotationOf(stream: FfprobeStream): number {
  let deg = 0
  for (const sd of stream.side_data_list ?? []) {
    if (sd.rotation !== undefined && Number.isFinite(Number(sd.rotation))) deg = Number(sd.rotation)
  }
  if (deg === 0 && stream.tags?.rotate !== undefined) deg = Number(stream.tags.rotate) || 0
  return (((Math.round(deg / 90) * 90) % 360) + 360) % 360
}

/**
 * Probes the first video stream of `path` with ffprobe.
 * @throws VideoIOError `ERR_NOT_FOUND`, `ERR_VIDEO_CORRUPT`, `ERR_UNSUPPORTED`, `ERR_NO_FRAMES`
 * (no video stream), `ERR_FFMPEG_MISSING`.
 */
export async function probeVideo(path: string, options: ProbeOptions = {}): Promise<VideoInfo> {
  if (isImageSequencePath(path)) return probeSequence(path, options)
  checkInputFile(path)
  const args = [
    '-v',
    'error',
    '-select_streams',
    'V:0',
    '-show_entries',
    'stream=width,height,codec_name,pix_fmt,r_frame_rate,avg_frame_rate,nb_frames,nb_read_frames,duration' +
      ':stream_tags=rotate:stream_side_data=rotation:format=duration,format_name',
    '-of',
    'json',
  ]
  if (options.countFrames === true) args.push('-count_frames')
  args.push(...inputPolicyArgs(options.trusted), '-i', fileUrl(path))
  const res = await runTool('ffprobe', args)
  if (res.code !== 0 || res.spawnError !== undefined) {
    throw translateToolError('ffprobe', 'probe', path, res, res.stderr)
  }
  let parsed: FfprobeOutput
  try {
    parsed = JSON.parse(res.stdout.toString('utf8')) as FfprobeOutput
  } catch (err) {
    throw new VideoIOError('ERR_FFMPEG', `ffprobe printed unreadable output for ${path}`, {
      path,
      stderr: res.stderr,
      cause: err,
    })
  }
  // ffmpeg renders text files (.txt, .nfo, .asc, ...) as ANSI-art video: not a real video.
  const formatName = parsed.format?.format_name ?? ''
  if (formatName === 'tty') {
    throw new VideoIOError('ERR_UNSUPPORTED', `${path} is a text file, not a video or image`, { path })
  }
  // ffprobe's -format_whitelist already refused the rest; this also covers an ffmpeg that ignores it.
  if (options.trusted !== true && !isAllowedFormat(formatName)) throw formatNotAllowed(path, formatName)
  const stream = parsed.streams?.[0]
  if (stream === undefined) {
    throw new VideoIOError('ERR_NO_FRAMES', `${path} has no video stream`, { path })
  }
  const w = stream.width ?? 0
  const h = stream.height ?? 0
  if (!(w > 0 && h > 0)) {
    throw new VideoIOError('ERR_VIDEO_CORRUPT', `${path}: the video stream has no frame size`, { path })
  }
  const rotation = rotationOf(stream)
  const swap = rotation === 90 || rotation === 270
  const rate = parseRational(stream.avg_frame_rate) ?? parseRational(stream.r_frame_rate)
  const counted = options.countFrames === true ? positiveInt(stream.nb_read_frames) : null
  return {
    width: swap ? h : w,
    height: swap ? w : h,
    fps: rate === null ? 0 : rate.num / rate.den,
    fpsFraction: rate === null ? '0/1' : `${rate.num}/${rate.den}`,
    frameCount: counted ?? positiveInt(stream.nb_frames),
    durationSeconds: positiveFloat(stream.duration) ?? positiveFloat(parsed.format?.duration),
    codec: stream.codec_name ?? 'unknown',
    pixFmt: stream.pix_fmt ?? 'unknown',
    rotation,
  }
}

/**
 * Probes a numbered image sequence: its first file gives the size and format, the files present
 * give the frame count, and the rate is `sequenceFps`.
 */
async function probeSequence(pattern: string, options: ProbeOptions): Promise<VideoInfo> {
  const sequence = findImageSequence(pattern)
  const first = await probeVideo(sequence.firstFile, options.trusted === true ? { trusted: true } : {})
  const rate = parseRational(formatFrameRate(options.sequenceFps ?? DEFAULT_SEQUENCE_FPS, 'sequenceFps'))
  const { num, den } = rate as { num: number; den: number }
  return {
    ...first,
    fps: num / den,
    fpsFraction: `${num}/${den}`,
    frameCount: sequence.frameCount,
    durationSeconds: (sequence.frameCount * den) / num,
  }
}
