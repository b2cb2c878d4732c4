/**
 * Native latent slicing and joining along T, so a latent never makes a round trip through JS
 * memory: views for chunked decoding, one native cat for a streamed encode's parts.
 */
import { nativeAsync, nativeSync } from '../errors.js'
import { native } from '../native.js'
import { Tensor } from '../tensor.js'
import type { LatentChunk } from './streams.js'

/** A view (no copy) of latent frames `[start, start + length)` of `[B, z, T, h, w]`. */
export function narrowT(latent: Tensor, start: number, length: number): Tensor {
  const handle = latent.handle()
  return Tensor.fromHandle(nativeSync(() => native().tensorNarrow(handle, 2, start, length)))
}

/** `parts` joined along T in one new tensor on their device; one part is returned as it is. */
export async function catT(parts: Tensor[]): Promise<Tensor> {
  if (parts.length === 1) return parts[0]!
  const handles = parts.map((p) => p.handle())
  return Tensor.fromHandle(await nativeAsync(() => native().tensorCat(handles, 2)))
}

/**
 * A latent `[1, z, T, h, w]` as chunks of `step` latent frames (native views), each with the
 * output frames it stands for (`factor` per latent frame, at most `frames` in all, so the tail's
 * padding is cropped). Each view is freed when the consumer asks for the next one.
 */
export async function* latentChunks(latent: Tensor, layout: { step: number; factor: number; frames: number }): AsyncGenerator<LatentChunk> {
  const total = latent.shape[2]!
  for (let start = 0; start < total && start * layout.factor < layout.frames; start += layout.step) {
    const length = Math.min(layout.step, total - start)
    const view = length === total ? latent : narrowT(latent, start, length)
    try {
      yield { latent: view, startFrame: start * layout.factor, frames: Math.min(length * layout.factor, layout.frames - start * layout.factor) }
    } finally {
      if (view !== latent) view.dispose()
    }
  }
}
