/**
 * Runs one parity case through a loaded VideoVAE the way the official fixtures were made and
 * returns the max abs error of every stored tensor (shared by the exact and fast-mode tests).
 */
import assert from 'node:assert/strict'

import { readSafetensors, Tensor, type VideoVAE } from '../../lib/index.js'
import { caseDir, maxAbsDiff, readCase } from './parity.js'

async function values(t: Tensor): Promise<Float32Array> {
  return (await t.data()) as Float32Array
}

/** Elements [from, to) along T of a [B,C,T,H,W] tensor's data. */
function sliceT(data: Float32Array, shape: number[], from: number, to: number): Float32Array {
  const [B, C, T, H, W] = shape as [number, number, number, number, number]
  const plane = H * W
  const out = new Float32Array(B * C * (to - from) * plane)
  let o = 0
  for (let bc = 0; bc < B * C; bc++) {
    out.set(data.subarray((bc * T + from) * plane, (bc * T + to) * plane), o)
    o += (to - from) * plane
  }
  return out
}

/**
 * Max abs error per stored tensor of case `name` (against the fixtures, or another file of the same
 * layout); asserts shapes and that every tensor is checked.
 */
export async function parityErrors(vae: VideoVAE, name: string, referenceFile = `${caseDir(name)}/tensors.safetensors`): Promise<Record<string, number>> {
  const meta = readCase(name)
  const { tensors: ref } = await readSafetensors(referenceFile)
  const text = ref.text_emb ? { textEmbedding: ref.text_emb, textMask: ref.text_mask } : {}
  const textArgs = ref.text_emb ? [ref.text_emb, ref.text_mask] : [null, null]
  const image = meta.pipeline === 'image'
  const errors: Record<string, number> = {}
  const check = async (key: string, got: Tensor | Float32Array): Promise<void> => {
    const expected = await values(ref[key]!)
    const actual = got instanceof Tensor ? await values(got) : got
    if (got instanceof Tensor) assert.deepEqual(got.shape, ref[key]!.shape, `${key} shape`)
    errors[key] = maxAbsDiff(actual, expected)
  }

  if (meta.pipeline === 'chunked') {
    const chunk = meta.chunk_size!
    const latent = await vae.encode(ref.input!, { chunkFrames: chunk })
    const data = await values(latent)
    for (let k = 0, t = 0; ref[`latent_chunk${k}`]; k++) {
      const len = ref[`latent_chunk${k}`]!.shape[2]!
      await check(`latent_chunk${k}`, sliceT(data, latent.shape, t, t + len))
      t += len
    }
    await check('reconstruction_chunked', await vae.reconstruct(ref.input!, { chunkFrames: chunk }))
  } else {
    // AOTInductor stages take flat tensors ([x] or [x, text_emb, text_mask]); the image path is a package of its own.
    const aoti = vae.info.engine === 'aoti'
    const flatText = ref.text_emb ? [ref.text_emb, ref.text_mask!] : []
    const spatial = aoti && image ? vae.imageStages[0]! : vae.stages[0]!
    const [mean, logvar] = (await (aoti ? spatial.forward(ref.input!, ...flatText) : spatial.forward(ref.input!, ...textArgs, image))) as Tensor[]
    await check('spatial_mean', mean!)
    await check('spatial_logvar', logvar!)
    if (ref.z_spatial) await check('z_spatial', mean!)
    const post = await vae.encode(ref.input!, { ...text, image, posterior: true })
    if (!image) {
      await check('temporal_mean', post.mean)
      await check('temporal_logvar', post.logvar)
      const decoded = await (aoti ? vae.stages[2]!.forward(post.latent, ...flatText) : vae.stages[2]!.forward(post.latent, ...textArgs))
      await check('dec_temporal_out', (aoti ? (decoded as Tensor[])[0]! : decoded) as Tensor)
    }
    await check('latent', post.latent)
    await check('reconstruction', await vae.decode(post.latent, { ...text, image, frames: post.frames }))
  }
  const expectedKeys = Object.keys(meta.tensors).filter((k) => !['input', 'text_emb', 'text_mask'].includes(k))
  assert.deepEqual(Object.keys(errors).sort(), expectedKeys.sort(), 'every stored tensor is checked')
  return errors
}
