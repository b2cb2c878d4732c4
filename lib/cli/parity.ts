/**
 * Parity of a bundle against a golden case of ../shared/parity/cases (tensors.safetensors plus
 * case.json): every stored output tensor is recomputed with this package and compared.
 *
 * How each tensor is produced (the case's `pipeline` says which are stored):
 * - spatial_mean, spatial_logvar, z_spatial: `stages[0].forward(input, text_emb, text_mask, image)`
 *   (the spatial encoder alone; z_spatial is the posterior mode, i.e. the mean);
 * - temporal_mean, temporal_logvar, latent: `vae.encode(input, { posterior: true })` (the whole
 *   encoder; on the image path `latent` comes from `encode(input, { image: true })`);
 * - dec_temporal_out: `stages[2].forward(latent, text_emb, text_mask)` on the stored latent;
 * - reconstruction: `vae.decode(latent)` on the stored latent (so each decoder-side tensor
 *   measures the decoder alone, not errors carried over from the encoder);
 * - latent_chunk<k>: `vae.encode(input, { chunkFrames: chunk_size })` sliced along T at the
 *   chunk boundaries (chunks are independent, so this is the encode of each padded chunk);
 * - reconstruction_chunked: `vae.reconstruct(input, { chunkFrames: chunk_size })`.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'

import type { TorchModule } from '../module.js'
import { readSafetensors } from '../safetensors.js'
import { Tensor } from '../tensor.js'
import { VideoVAE } from '../vae.js'
import { CliError } from './errors.js'

/** The tensors of a case that are inputs, not outputs. */
const INPUTS = new Set(['input', 'text_emb', 'text_mask'])

export interface ParityOptions {
  /** Pass when every max |difference| is at most this. Default 1e-4. */
  tolerance?: number
  /** 'cpu' (default), 'cuda' or 'cuda:N'. */
  device?: string
  /** libtorch intra-op threads. Default: the case's (2 for the shared fixtures), for bit parity. */
  threads?: number
  /** An already loaded model of the bundle (the bundle directory is then not read). */
  model?: VideoVAE
  /** Called after each tensor is compared. */
  onTensor?: (name: string, result: TensorParity) => void
}

export interface TensorParity {
  /** max |computed - expected|; null when the shapes differ or a value is NaN. */
  max_abs: number | null
  /** Shape of the computed tensor. */
  shape: number[]
  /** Why the tensor could not be compared (shape mismatch, NaN). */
  error?: string
}

export interface ParityReport {
  case: string
  tolerance: number
  tensors: Record<string, TensorParity>
  /** Largest max_abs over all tensors (null when one could not be compared). */
  max_abs: number | null
  pass: boolean
}

interface CaseJson {
  case: string
  pipeline: 'video' | 'image' | 'chunked'
  chunk_size: number | null
  text: unknown
  threads?: number
  tensors: Record<string, { shape: number[] }>
}

function caseError(message: string): CliError {
  return new CliError('ERR_CASE', message)
}

/** Reads and checks a case directory's case.json. */
export async function readCase(caseDir: string): Promise<CaseJson> {
  const file = path.join(caseDir, 'case.json')
  let raw: string
  try {
    raw = await readFile(file, 'utf8')
  } catch (err) {
    throw caseError(`not a parity case: cannot read ${file} (${(err as Error).message})`)
  }
  let c: CaseJson
  try {
    c = JSON.parse(raw) as CaseJson
  } catch (err) {
    throw caseError(`${file} is not valid JSON: ${(err as Error).message}`)
  }
  if (!['video', 'image', 'chunked'].includes(c.pipeline)) throw caseError(`${file}: unknown pipeline ${JSON.stringify(c.pipeline)}`)
  if (typeof c.tensors !== 'object' || c.tensors === null) throw caseError(`${file}: no "tensors"`)
  if (c.pipeline === 'chunked' && !(Number.isInteger(c.chunk_size) && (c.chunk_size as number) > 0)) {
    throw caseError(`${file}: the chunked pipeline needs a positive chunk_size`)
  }
  return c
}

/** max |a - b| over two tensors of the same shape (NaN when a value is NaN). */
async function compare(computed: Tensor, expected: Tensor): Promise<TensorParity> {
  const shape = computed.shape
  const want = expected.shape
  if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
    return { max_abs: null, shape, error: `shape [${shape}] differs from the stored [${want}]` }
  }
  const a = (await computed.data()) as Float32Array
  const b = (await expected.data()) as Float32Array
  let max = 0
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!)
    if (!(d <= max)) {
      if (Number.isNaN(d)) return { max_abs: null, shape, error: `NaN at element ${i}` }
      max = d
    }
  }
  return { max_abs: max, shape }
}

/** Slices `[B,C,T,H,W]` along T into pieces of the given lengths. */
async function splitT(t: Tensor, lengths: number[]): Promise<Tensor[]> {
  const [b, c, total, h, w] = t.shape as [number, number, number, number, number]
  const data = (await t.data()) as Float32Array
  const plane = h * w
  const pieces: Tensor[] = []
  let start = 0
  for (const len of lengths) {
    const n = Math.max(0, Math.min(len, total - start))
    const out = new Float32Array(b * c * n * plane)
    for (let bc = 0; bc < b * c; bc++) {
      const src = (bc * total + start) * plane
      out.set(data.subarray(src, src + n * plane), bc * n * plane)
    }
    pieces.push(Tensor.from(out, [b, c, n, h, w]))
    start += len
  }
  return pieces
}

function asPair(result: unknown, what: string): [Tensor, Tensor] {
  if (!Array.isArray(result) || result.length !== 2 || !(result[0] instanceof Tensor) || !(result[1] instanceof Tensor)) {
    throw new CliError('ERR_BUNDLE', `${what} did not return (mean, logvar)`)
  }
  return [result[0], result[1]]
}

/**
 * Runs the bundle on a parity case and compares every stored output tensor.
 * @returns the report; `pass` is false when any tensor exceeds the tolerance or cannot be compared.
 */
export async function runParity(bundleDir: string, caseDir: string, options: ParityOptions = {}): Promise<ParityReport> {
  const tolerance = options.tolerance ?? 1e-4
  const meta = await readCase(caseDir)
  const device = options.device ?? 'cpu'
  const { tensors: stored } = await readSafetensors(path.join(caseDir, 'tensors.safetensors'), { device })
  const outputs = Object.keys(meta.tensors).filter((n) => !INPUTS.has(n))
  for (const name of outputs) {
    if (!(name in stored)) throw caseError(`${caseDir}: tensor ${name} is listed in case.json but missing from tensors.safetensors`)
  }
  const input = stored.input
  if (input === undefined) throw caseError(`${caseDir}: tensors.safetensors has no "input"`)
  const textEmb = stored.text_emb ?? null
  const textMask = stored.text_mask ?? null
  const text = textEmb ? { textEmbedding: textEmb, ...(textMask ? { textMask } : {}) } : {}
  const image = meta.pipeline === 'image'

  const threads = options.threads ?? meta.threads
  const vae = options.model ?? (await VideoVAE.load(bundleDir, { device: device as 'cpu', ...(threads ? { threads } : {}) }))
  const owned: Tensor[] = []
  const keep = <T extends Tensor>(t: T): T => (owned.push(t), t)
  const computed = new Map<string, Tensor>()
  const want = (...names: string[]): boolean => names.some((n) => outputs.includes(n))
  try {
    const stages: readonly TorchModule[] = vae.stages
    if (want('spatial_mean', 'spatial_logvar', 'z_spatial')) {
      const [mean, logvar] = asPair(await stages[0]!.forward(input, textEmb, textMask, image), 'the spatial encoder')
      keep(mean)
      keep(logvar)
      computed.set('spatial_mean', mean).set('spatial_logvar', logvar).set('z_spatial', mean)
    }
    if (want('temporal_mean', 'temporal_logvar', 'latent')) {
      const post = await vae.encode(input, { ...text, image, posterior: true })
      keep(post.mean)
      keep(post.logvar)
      keep(post.latent)
      computed.set('latent', post.latent)
      if (!image) computed.set('temporal_mean', post.mean).set('temporal_logvar', post.logvar)
    }
    const storedLatent = stored.latent
    if (want('dec_temporal_out') && storedLatent) {
      const out = await stages[2]!.forward(storedLatent, textEmb, textMask)
      if (!(out instanceof Tensor)) throw new CliError('ERR_BUNDLE', 'the temporal decoder did not return a tensor')
      computed.set('dec_temporal_out', keep(out))
    }
    if (want('reconstruction') && storedLatent) {
      computed.set('reconstruction', keep(await vae.decode(storedLatent, { ...text, image })))
    }
    const chunkNames = outputs.filter((n) => /^latent_chunk\d+$/.test(n)).sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)))
    if (chunkNames.length > 0) {
      const latent = keep(await vae.encode(input, { ...text, chunkFrames: meta.chunk_size as number }))
      const lengths = chunkNames.map((n) => stored[n]!.shape[2] as number)
      const pieces = await splitT(latent, lengths)
      chunkNames.forEach((n, i) => computed.set(n, keep(pieces[i]!)))
    }
    if (want('reconstruction_chunked')) {
      computed.set('reconstruction_chunked', keep(await vae.reconstruct(input, { ...text, chunkFrames: meta.chunk_size as number })))
    }

    const report: ParityReport = { case: meta.case ?? path.basename(caseDir), tolerance, tensors: {}, max_abs: 0, pass: true }
    for (const name of outputs) {
      const mine = computed.get(name)
      const result: TensorParity = mine
        ? await compare(mine, stored[name]!)
        : { max_abs: null, shape: [], error: `no way to compute "${name}" for the ${meta.pipeline} pipeline` }
      report.tensors[name] = result
      if (result.max_abs === null || result.max_abs > tolerance) report.pass = false
      if (result.max_abs === null) report.max_abs = null
      else if (report.max_abs !== null) report.max_abs = Math.max(report.max_abs, result.max_abs)
      options.onTensor?.(name, result)
    }
    return report
  } finally {
    for (const t of owned) t.dispose()
    for (const t of Object.values(stored)) t.dispose()
    if (!options.model) vae.dispose()
  }
}
