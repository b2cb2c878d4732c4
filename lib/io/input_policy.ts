/**
 * What ffmpeg may do with an input file: untrusted inputs (the default) are read only through the
 * `file` protocol and only by demuxers of self-contained media (containers, raw streams, images).
 * Playlists (HLS, DASH), concat lists, SDP/RTP, text renderers and the like can make ffmpeg open
 * other files or URLs that the caller never named, so they are refused unless the input is
 * declared trusted.
 */
import { VideoIOError } from './io_error.js'

/** The protocols an untrusted input may use: the local file itself, nothing else. */
export const UNTRUSTED_PROTOCOLS = 'file'

/**
 * Demuxers (ffmpeg short names) allowed for untrusted inputs. None of them opens another file or
 * URL: self-contained containers, raw elementary streams, still images and image sequences
 * (`image2`), and a few audio formats (harmless; they fail later as having no video stream).
 */
export const ALLOWED_DEMUXERS: readonly string[] = [
  // containers
  'mov',
  'mp4',
  'matroska',
  'webm',
  'avi',
  'flv',
  'mpegts',
  'mpeg',
  'mxf',
  'nut',
  'ogg',
  'asf',
  'ivf',
  'dv',
  'gif',
  'apng',
  'yuv4mpegpipe',
  // raw video streams
  'h264',
  'hevc',
  'm4v',
  'mpegvideo',
  'vc1',
  'obu',
  'mjpeg',
  // audio only (no video stream: ERR_NO_FRAMES)
  'wav',
  'mp3',
  'flac',
  'aac',
  // still images and numbered sequences
  'image2',
  'png_pipe',
  'jpeg_pipe',
  'bmp_pipe',
  'tiff_pipe',
  'webp_pipe',
  'ppm_pipe',
  'pgm_pipe',
  'pbm_pipe',
  'pam_pipe',
  'j2k_pipe',
  'jpegls_pipe',
  'jpegxl_pipe',
  'dpx_pipe',
  'exr_pipe',
  'qoi_pipe',
  'psd_pipe',
  'gif_pipe',
  'pcx_pipe',
  'sgi_pipe',
  'sunrast_pipe',
  'xwd_pipe',
  'pfm_pipe',
  'phm_pipe',
]

/** How to opt in, for error messages. */
export const TRUSTED_HINT = 'if you trust the file, pass { trusted: true } (CLI: --trusted-input)'

/**
 * ffmpeg/ffprobe input options (placed before `-i`) that enforce the allowlists on an untrusted
 * input; none for a trusted one (ffmpeg's defaults). ffmpeg applies them to every file a demuxer
 * opens, so even the probe never reads what the allowlist forbids.
 */
export function inputPolicyArgs(trusted: boolean | undefined): string[] {
  if (trusted === true) return []
  return ['-protocol_whitelist', UNTRUSTED_PROTOCOLS, '-format_whitelist', ALLOWED_DEMUXERS.join(',')]
}

/** Whether ffmpeg's `format_name` (comma-separated aliases, e.g. `mov,mp4,m4a`) is allowed. */
export function isAllowedFormat(formatName: string): boolean {
  return formatName.split(',').some((name) => ALLOWED_DEMUXERS.includes(name.trim()))
}

/** What a refused demuxer does, for the message. */
function describeFormat(format: string): string {
  if (format === 'hls' || format === 'dash' || format === 'webm_dash_manifest' || format === 'imf')
    return 'a playlist or manifest that makes ffmpeg open the files or URLs it lists'
  if (format === 'concat') return 'an ffconcat list that makes ffmpeg read the files it names'
  if (format === 'sdp' || format === 'rtp' || format === 'rtsp') return 'a network stream description'
  return 'not one of the self-contained video or image formats allowed for untrusted input'
}

/** The error for a demuxer outside the allowlist. */
export function formatNotAllowed(path: string, format: string): VideoIOError {
  return new VideoIOError(
    'ERR_FORMAT_NOT_ALLOWED',
    `${path} is in ffmpeg format '${format}', ${describeFormat(format)}; refused for untrusted input (${TRUSTED_HINT})`,
    { path },
  )
}

/** The error for a protocol that ffmpeg refused to open on behalf of `path`. */
export function protocolNotAllowed(path: string, protocol: string): VideoIOError {
  return new VideoIOError(
    'ERR_FORMAT_NOT_ALLOWED',
    `${path} makes ffmpeg open a '${protocol}' URL, which ffmpeg does not allow here (untrusted input may only use the local file; ${TRUSTED_HINT})`,
    { path },
  )
}

/**
 * The demuxer or protocol that ffmpeg refused because of a whitelist, from its stderr
 * (`[hls @ 0x..] Format not on whitelist`, `Protocol 'rtp' not on whitelist`); undefined when it
 * refused nothing.
 */
export function refusedByPolicy(stderr: string): { format: string } | { protocol: string } | undefined {
  const format = /\[([\w,]+) @ [^\]]*\] Format not on whitelist/i.exec(stderr)
  if (format !== null) return { format: format[1] as string }
  const protocol = /Protocol '([^']+)' not on whitelist/i.exec(stderr)
  if (protocol !== null) return { protocol: protocol[1] as string }
  return undefined
}
