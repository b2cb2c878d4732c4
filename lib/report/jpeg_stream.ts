/**
 * JPEG-encodes a stream of same-sized RGB images with one ffmpeg process (MJPEG on a pipe), so a
 * report of thousands of frames spawns one encoder, not thousands. Images come back in order.
 */
import type { Writable } from 'node:stream'

import { spawnTool, translateToolError, VideoIOError, type ToolExit, type ToolProcess } from '../io/ffmpeg.js'

/** ffmpeg's MJPEG quantiser (2 best .. 31 worst): small proxies that still show the artefacts. */
const QSCALE = 5

/**
 * Splits concatenated JPEG files. Walks the marker segments up to the scan, then the entropy-coded
 * data to EOI (0xFF 0xD9), where 0xFF is always followed by 0x00 or a restart marker, so a table
 * or comment that happens to hold 0xFF 0xD9 cannot cut an image short. Returns the complete images
 * and the bytes of an incomplete last one.
 */
export function splitJpegs(buf: Buffer): { images: Buffer[]; rest: Buffer } {
  const images: Buffer[] = []
  let start = 0
  for (;;) {
    const end = jpegEnd(buf, start)
    if (end < 0) break
    images.push(buf.subarray(start, end))
    start = end
  }
  return { images, rest: buf.subarray(start) }
}

/** The end offset of the JPEG starting at `start`, or -1 when it is not complete yet. */
function jpegEnd(buf: Buffer, start: number): number {
  if (buf.length - start < 4) return -1
  if (buf[start] !== 0xff || buf[start + 1] !== 0xd8) throw new VideoIOError('ERR_FFMPEG', 'ffmpeg wrote something other than a JPEG')
  let i = start + 2
  // Marker segments (each with a 2-byte length) until the start of scan.
  for (;;) {
    if (i + 4 > buf.length) return -1
    if (buf[i] !== 0xff) throw new VideoIOError('ERR_FFMPEG', 'malformed JPEG from ffmpeg')
    const marker = buf[i + 1]!
    const length = buf.readUInt16BE(i + 2)
    i += 2 + length
    if (marker === 0xda) break
  }
  // Entropy-coded data: 0xFF 0x00 is a stuffed byte, 0xFF 0xD0-D7 a restart, 0xFF 0xD9 the end.
  for (; i + 1 < buf.length; i++) {
    if (buf[i] !== 0xff) continue
    const next = buf[i + 1]!
    if (next === 0xd9) return i + 2
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) continue
    // Another scan (progressive) or table: skip its segment.
    if (i + 4 > buf.length) return -1
    i += 1 + buf.readUInt16BE(i + 2)
  }
  return -1
}

/** One ffmpeg encoder for images of one size. */
export class JpegStream {
  readonly #proc: ToolProcess
  readonly #stdin: Writable
  readonly #what: string
  readonly #images: Buffer[] = []
  #pending: Buffer = Buffer.alloc(0)
  #parseError: Error | undefined
  #exit: ToolExit | undefined

  /** `what` names the report in error messages. */
  constructor(width: number, height: number, what: string) {
    this.#what = what
    this.#proc = spawnTool(
      'ffmpeg',
      [
        '-nostdin',
        '-v',
        'error',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        '-s',
        `${width}x${height}`,
        '-i',
        'pipe:0',
        '-c:v',
        'mjpeg',
        '-q:v',
        String(QSCALE),
        '-pix_fmt',
        'yuvj420p',
        '-f',
        'image2pipe',
        'pipe:1',
      ],
      { stdin: true },
    )
    void this.#proc.done.then((exit) => (this.#exit = exit))
    this.#stdin = this.#proc.child.stdin as Writable
    this.#stdin.on('error', () => undefined) // a broken pipe shows as ffmpeg's exit status
    this.#proc.child.stdout?.on('data', (b: Buffer) => {
      if (this.#parseError !== undefined) return
      try {
        const { images, rest } = splitJpegs(this.#pending.length === 0 ? b : Buffer.concat([this.#pending, b]))
        // Copies: a subarray would keep ffmpeg's whole read buffer alive.
        for (const image of images) this.#images.push(Buffer.from(image))
        this.#pending = Buffer.from(rest)
      } catch (err) {
        this.#parseError = err as Error
        this.#proc.kill()
      }
    })
  }

  /** Queues one image; waits while ffmpeg's pipe is full (memory stays bounded). */
  async push(rgb: Uint8Array): Promise<void> {
    // ffmpeg ends only when its input does: an early exit is a failure, reported now.
    if (this.#exit !== undefined) throw this.#failure(this.#exit)
    if (this.#stdin.write(rgb)) return
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.#stdin.off('drain', done)
        resolve()
      }
      this.#stdin.on('drain', done)
      void this.#proc.done.then(done)
    })
    if (this.#exit !== undefined) throw this.#failure(this.#exit)
  }

  #failure(exit: ToolExit): Error {
    if (this.#parseError !== undefined) return this.#parseError
    return translateToolError('ffmpeg', 'write', this.#what, exit.code === 0 ? { ...exit, code: null } : exit, this.#proc.stderrTail())
  }

  /** Images encoded so far, in order; each is handed out once. */
  take(): Buffer[] {
    return this.#images.splice(0)
  }

  /** Ends the input and returns the remaining images. */
  async finish(): Promise<Buffer[]> {
    this.#stdin.end()
    const exit = await this.#proc.done
    if (this.#parseError !== undefined || exit.code !== 0 || exit.spawnError !== undefined) throw this.#failure(exit)
    if (this.#pending.length > 0) throw new VideoIOError('ERR_FFMPEG', `ffmpeg's JPEG stream for ${this.#what} ended inside an image`)
    return this.take()
  }

  /** Stops ffmpeg (after a failure elsewhere). */
  abort(): void {
    this.#stdin.destroy()
    this.#proc.kill()
  }
}
