/**
 * Re-chunking of a frame stream: blocks of any length (what readVideo yields) become chunks of
 * exactly `chunkFrames` frames (the last may be shorter), or one chunk of everything
 * (`chunkFrames` 0). A block that already is a whole chunk passes through without a copy;
 * otherwise each chunk gets a fresh buffer (a zero-copy tensor may still hold the last one).
 */
import { VideoVaeError } from '../errors.js'

/** RGB frames, row-major `[T, H, W, 3]` (lib/io's FrameChunk fits). */
export interface FrameBlock {
  frames: Uint8Array
  shape: readonly [number, number, number, 3] | readonly number[]
}

/** One chunk of a stream: `[t, H, W, 3]` and the index of its first frame. */
export interface FrameChunk {
  frames: Uint8Array
  shape: [number, number, number, 3]
  startFrame: number
}

function blockShape(block: FrameBlock): [number, number, number] {
  const [T, H, W, C] = block.shape as number[]
  if (block.shape.length !== 4 || C !== 3 || !(block.frames instanceof Uint8Array) || block.frames.length !== T! * H! * W! * 3) {
    throw new VideoVaeError('ERR_SHAPE', `frame blocks must be RGB [T,H,W,3] matching their data, got [${block.shape}]`)
  }
  return [T!, H!, W!]
}

export async function* frameChunks(source: AsyncIterable<FrameBlock> | Iterable<FrameBlock>, chunkFrames: number): AsyncGenerator<FrameChunk> {
  let pending: Uint8Array[] = []
  let filled = 0
  let startFrame = 0
  let size: [number, number] | null = null
  const frameBytes = (): number => size![0] * size![1] * 3
  const take = (count: number): FrameChunk => {
    const bytes = count * frameBytes()
    const first = pending[0]!
    let frames: Uint8Array
    if (first.length >= bytes) {
      frames = first.length === bytes ? first : first.subarray(0, bytes)
      pending = first.length === bytes ? pending.slice(1) : [first.subarray(bytes), ...pending.slice(1)]
    } else {
      frames = new Uint8Array(bytes)
      let off = 0
      while (off < bytes) {
        const p = pending[0]!
        const n = Math.min(p.length, bytes - off)
        frames.set(p.subarray(0, n), off)
        off += n
        pending = n === p.length ? pending.slice(1) : [p.subarray(n), ...pending.slice(1)]
      }
    }
    filled -= count
    const chunk: FrameChunk = { frames, shape: [count, size![0], size![1], 3], startFrame }
    startFrame += count
    return chunk
  }
  for await (const block of source) {
    const [T, H, W] = blockShape(block)
    if (!size) size = [H, W]
    else if (size[0] !== H || size[1] !== W) {
      throw new VideoVaeError('ERR_SHAPE', `frame size changed from ${size[0]}x${size[1]} to ${H}x${W} mid-stream`)
    }
    if (T === 0) continue
    pending.push(block.frames)
    filled += T
    while (chunkFrames > 0 && filled >= chunkFrames) yield take(chunkFrames)
  }
  if (filled > 0) yield take(filled)
}
