// Reading and verifying a bundle directory: manifest.json plus one TorchScript file (or, with
// "engine": "aoti", one AOTInductor package) per stage (the contract written by
// python/videovae/export.py). Nothing here runs a model.
import { createHash } from 'node:crypto'
import * as path from 'node:path'

import { toNativeSpecs, type AotiInputSpec } from './aoti_inputs.js'
import { checkBundleFile, hashBundleFile, readBundleFile, realBundleRoot } from './bundle_files.js'
import { VideoVaeError } from './errors.js'
import { rulesProblem } from './rules.js'

export const BUNDLE_FORMAT_VERSION = 1

/** The four VideoVAE+ stages stored in a bundle. */
export const STAGE_NAMES = ['spatial_encoder', 'temporal_encoder', 'temporal_decoder', 'spatial_decoder'] as const
export type StageName = (typeof STAGE_NAMES)[number]

/** The one weight quantization this version reads (python/videovae/quantize.py). */
export const QUANTIZATION_SCHEME = 'int8-absmax-dim0'

/** What a bundle holds, as recorded by the exporter (manifest.json, camel-cased). */
export interface BundleInfo {
  /** Bundle directory (absolute). */
  dir: string
  formatVersion: number
  /** `16z`, `4z`, `16z-text` or `4z-text`. */
  variant: string
  /** The official inference config the weights correspond to, e.g. `config_16z`. */
  config: string
  /**
   * Layer widths. `normGroupChannels` is 0 for the official GroupNorm(32) everywhere, k > 0 for
   * min(32, C / k) groups per C-channel norm (the embedded default model uses 4).
   */
  widths: { ch: number; chMult: number[]; numResBlocks: number; hiddenChannel: number; normGroupChannels: number }
  /** Channels of the latent (16 or 4). */
  latentChannels: number
  /** Compression factors: time 4, height 8, width 8. */
  compression: { t: number; h: number; w: number }
  /**
   * Input rules of the video path: T a multiple of 4 and at least 4, H and W multiples of 8 (for
   * VideoVAE+). The one source of every chunk, tile and size check: lib/rules.ts.
   */
  rules: { tMultiple: number; tMin: number; hwMultiple: number }
  /** Caption conditioning, or null for the non-text variants. */
  text: { required: boolean; dim: number; maxLength: number } | null
  /** Storage dtype of the weights (of those not quantized, when `quantization` is set). */
  dtype: string
  /**
   * Weights stored as int8 in a side file (the embedded default model): conv and linear weights
   * with one float32 scale per output slice, rebuilt as float32 at load. null: all in `dtype`.
   */
  quantization: { scheme: typeof QUANTIZATION_SCHEME; file: string } | null
  /** Mid-block attention implementation chosen at export (`exact`, `chunked`, or `sdpa` in fast mode). */
  attention: string
  /**
   * Export mode: `exact` (bit-exact with the official model) or `fast` (same weights, faster
   * layers, within 1e-4 of exact). Bundles written before the field existed are exact.
   */
  mode: 'exact' | 'fast'
  torchVersion: string
  /** 'torchscript' (the default), or 'aoti': the stages are AOTInductor packages (.pt2). */
  engine: 'torchscript' | 'aoti'
  /** How the packages of an `aoti` bundle were compiled (manifest "aoti"); null for TorchScript. */
  aoti: AotiInfo | null
  /** Absolute path of each stage's TorchScript file (or .pt2 package), verified against its sha256. */
  files: Record<StageName, string>
  /** Any extra files (e.g. `t5_encoder`, `spiece_model`), absolute paths. */
  extraFiles: Record<string, string>
  /** The caption encoder (T5 + tokenizer) stored in the bundle, or null (then pass textEmbedding). */
  t5: T5Info | null
  /** sha256 of manifest.json: identifies the bundle in latent metadata. */
  sha256: string
}

/** The stages whose image path is a package of its own in an AOTInductor bundle. */
export const IMAGE_STAGES = ['spatial_encoder', 'spatial_decoder'] as const

/** The AOTInductor build of a bundle (manifest "aoti", see docs in the README "Engines"). */
export interface AotiInfo {
  /** The torch that compiled the packages: a libtorch of another major.minor is refused. */
  torchVersion: string
  /** Packages run only on the device kind they were compiled for. */
  device: 'cpu' | 'cuda'
  /** The vector ISA the CPU kernels were generated for (avx2, avx512, ... or none), checked at load. */
  cpuIsa: string
  /** The /proc/cpuinfo flags the kernels need (manifest cpu_flags, optional), checked at load. */
  cpuFlags: string[]
  /** The dtype the packages compute in (fixed at export). */
  dtype: string
  /** Dynamic shape ranges or buckets, as the exporter recorded them. */
  shapes: unknown
  /** Each package's input specs (from shapes, in the compile dtype), by files key. */
  inputs: Record<string, AotiInputSpec[]>
  /** The image-path packages (`<stage>_image`), absolute paths; a missing one: no image path. */
  imageFiles: Partial<Record<(typeof IMAGE_STAGES)[number], string>>
  /** Weights kept out of a package's shared object (`<stage>.weights.safetensors`), by files key. */
  weightFiles: Record<string, string>
  /**
   * How the side files store the weights (manifest aoti.weights_storage; absent: 'compute'):
   * in the compute dtype, as float16, or int8 + float32 scales per dim-0 slice (`<fqn>.q` and
   * `<fqn>.scale`) with the other floating weights in float16. Converted at load.
   */
  weightsStorage: AotiWeightsStorage
}

export const AOTI_WEIGHTS_STORAGES = ['compute', 'float16', QUANTIZATION_SCHEME] as const
export type AotiWeightsStorage = (typeof AOTI_WEIGHTS_STORAGES)[number]

function parseWeightsStorage(value: unknown, at: string): AotiWeightsStorage {
  if (value === undefined || value === null) return 'compute' // bundles of before
  if (!(AOTI_WEIGHTS_STORAGES as readonly unknown[]).includes(value)) {
    throw bundleError(
      `${at}: unknown "weights_storage" ${JSON.stringify(value)} (this version reads ${AOTI_WEIGHTS_STORAGES.map((s) => `"${s}"`).join(', ')}); re-export the bundle`,
    )
  }
  return value as AotiWeightsStorage
}

/** aoti.shapes: per package, per input (in call order) its dims; every package needs one (its input checks). */
function parseShapes(shapes: unknown, packages: string[], dtype: string, at: string): Record<string, AotiInputSpec[]> {
  if (typeof shapes !== 'object' || shapes === null || Array.isArray(shapes)) {
    throw bundleError(`${at}: "shapes" must map each package to its inputs' shapes; re-export the bundle`)
  }
  const out: Record<string, AotiInputSpec[]> = {}
  for (const key of packages) {
    const inputs = (shapes as Record<string, unknown>)[key]
    if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
      throw bundleError(`${at}: "shapes" has no inputs for package ${key}; re-export the bundle`)
    }
    const specs = Object.entries(inputs).map(([name, shape]) => ({ name, shape, dtype }))
    // Validated here so that a bad manifest is ERR_BUNDLE at load, not a failure later.
    toNativeSpecs(specs, `${at} shapes.${key}`, 'ERR_BUNDLE')
    out[key] = specs as AotiInputSpec[]
  }
  return out
}

function parseAoti(m: Json, resolved: Record<string, string>, where: string): AotiInfo {
  const a = field<Json>(m, 'aoti', 'object', where)
  const at = `${where} aoti`
  const device = field<string>(a, 'device', 'string', at)
  if (device !== 'cpu' && device !== 'cuda') throw bundleError(`${at}: "device" must be "cpu" or "cuda", got ${JSON.stringify(device)}`)
  const packages = [...STAGE_NAMES, ...IMAGE_STAGES.map((s) => `${s}_image`)].filter((k) => resolved[k] !== undefined)
  const weightFiles: Record<string, string> = {}
  for (const key of packages) {
    if (!resolved[key]!.endsWith('.pt2')) throw bundleError(`${where}: files.${key} must be an AOTInductor package (.pt2) in an "aoti" bundle`)
    const weights = resolved[key]!.replace(/\.pt2$/, '.weights.safetensors')
    if (Object.values(resolved).includes(weights)) weightFiles[key] = weights
  }
  return {
    torchVersion: field<string>(a, 'torch_version', 'string', at),
    device,
    cpuIsa: field<string>(a, 'cpu_isa', 'string', at),
    cpuFlags: Array.isArray(a.cpu_flags) ? a.cpu_flags.filter((f): f is string => typeof f === 'string') : [],
    dtype: field<string>(a, 'dtype', 'string', at),
    shapes: a.shapes ?? null,
    inputs: parseShapes(a.shapes, packages, field<string>(a, 'dtype', 'string', at), at),
    imageFiles: Object.fromEntries(IMAGE_STAGES.filter((s) => resolved[`${s}_image`]).map((s) => [s, resolved[`${s}_image`]])),
    weightFiles,
    weightsStorage: parseWeightsStorage(a.weights_storage, at),
  }
}

/** The T5 encoder of a bundle (manifest "t5"): what the tokenizer and the embeddings need. */
export interface T5Info {
  /** Compute dtype of the encoder: 'bfloat16' (like the official embedder) or 'float32'. */
  dtype: string
  dModel: number
  numLayers: number
  numHeads: number
  vocabSize: number
  /** Tokens per caption, </s> included (100). */
  maxLength: number
  padId: number
  eosId: number
  /** Sentinel tokens `<extra_id_N>` on top of the SentencePiece vocabulary. */
  extraIds: number
}

export function parseT5(value: unknown, where: string): T5Info | null {
  if (value === null || value === undefined) return null
  const t = value as Json
  const num = (key: string): number => field<number>(t, key, 'number', `${where} t5`)
  return {
    dtype: field<string>(t, 'dtype', 'string', `${where} t5`),
    dModel: num('d_model'),
    numLayers: num('num_layers'),
    numHeads: num('num_heads'),
    vocabSize: num('vocab_size'),
    maxLength: num('max_length'),
    padId: num('pad_id'),
    eosId: num('eos_id'),
    extraIds: num('extra_ids'),
  }
}

function parseQuantization(value: unknown, extraFiles: Record<string, string>, where: string): BundleInfo['quantization'] {
  if (value === null || value === undefined) return null
  const q = value as Json
  if (q.scheme !== QUANTIZATION_SCHEME) {
    throw bundleError(`${where}: unknown weight quantization ${JSON.stringify(q.scheme)} (this version reads "${QUANTIZATION_SCHEME}"); re-export the bundle`)
  }
  const file = typeof q.file === 'string' ? extraFiles[q.file] : undefined
  if (!file) throw bundleError(`${where}: "quantization" names file ${JSON.stringify(q.file)}, which files does not list`)
  return { scheme: QUANTIZATION_SCHEME, file }
}

export function bundleError(message: string, cause?: unknown): VideoVaeError {
  return new VideoVaeError('ERR_BUNDLE', message, cause === undefined ? undefined : { cause })
}

export type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

export function field<T>(obj: Json, key: string, kind: string, where: string): T {
  const value = obj[key]
  const ok = kind === 'array' ? Array.isArray(value) : kind === 'object' ? isObject(value) : typeof value === kind && value !== null
  if (!ok) throw bundleError(`${where}: "${key}" is missing or not a${kind === 'array' ? 'n' : ''} ${kind}`)
  return value as T
}

/**
 * Reads `dir/manifest.json`, checks its shape and the sha256 of every file it lists, and
 * returns the bundle's description. Throws a VideoVaeError with code `ERR_BUNDLE` that names
 * the problem: a missing or malformed manifest, an unknown format version, a missing stage,
 * a file whose hash does not match.
 */
export async function readBundle(dir: string, { verify = true } = {}): Promise<BundleInfo> {
  const { root, where, raw, m, version } = await readManifest(dir)
  if (m.kind === 'text') {
    throw bundleError(`${root} is a text-only bundle (T5 encoder and tokenizer): load it with CaptionEncoder.load, not as a VideoVAE`)
  }
  const mode = m.mode ?? 'exact'
  if (mode !== 'exact' && mode !== 'fast') {
    throw bundleError(`${where}: unknown "mode" ${JSON.stringify(mode)} (expected "exact" or "fast"); re-export the bundle`)
  }
  const resolved = await verifyFiles(root, field<Json>(m, 'files', 'object', where), where, verify)
  for (const stage of STAGE_NAMES) {
    if (!resolved[stage]) throw bundleError(`${where}: stage "${stage}" is missing from files`)
  }
  const widths = parseWidths(field<Json>(m, 'widths', 'object', where), where)
  const compression = parseCounts(field<Json>(m, 'compression', 'object', where), `${where} compression`, ['t', 'h', 'w'])
  const rules = parseCounts(field<Json>(m, 'rules', 'object', where), `${where} rules`, ['t_multiple', 't_min', 'hw_multiple'])
  const problem = rulesProblem({
    compression: { t: compression.t, h: compression.h, w: compression.w },
    rules: { tMultiple: rules.t_multiple, tMin: rules.t_min, hwMultiple: rules.hw_multiple },
  })
  if (problem !== null) throw bundleError(`${where}: ${problem}`)
  const text = parseText(m.text, where)
  const stageFiles = Object.fromEntries(STAGE_NAMES.map((s) => [s, resolved[s]])) as Record<StageName, string>
  const extraFiles = Object.fromEntries(Object.entries(resolved).filter(([k]) => !(STAGE_NAMES as readonly string[]).includes(k)))
  const t5 = parseT5(m.t5, where)
  if (t5 && !(extraFiles.t5_encoder && extraFiles.spiece_model)) {
    throw bundleError(`${where}: "t5" is set but files t5_encoder and spiece_model are not both listed`)
  }
  const quantization = parseQuantization(m.quantization, extraFiles, where)
  const engine = m.engine ?? 'torchscript'
  if (engine !== 'torchscript' && engine !== 'aoti') {
    throw bundleError(`${where}: unknown "engine" ${JSON.stringify(engine)} (expected "torchscript" or "aoti"); re-export the bundle`)
  }
  if (engine === 'aoti' && quantization) throw bundleError(`${where}: an "aoti" bundle cannot use int8 "quantization"`)
  const aoti = engine === 'aoti' ? parseAoti(m, resolved, where) : null
  return {
    dir: root,
    formatVersion: version,
    variant: field<string>(m, 'variant', 'string', where),
    config: field<string>(m, 'config', 'string', where),
    widths,
    latentChannels: count(m, 'latent_channels', where),
    compression: { t: compression.t, h: compression.h, w: compression.w },
    rules: { tMultiple: rules.t_multiple, tMin: rules.t_min, hwMultiple: rules.hw_multiple },
    text,
    dtype: field<string>(m, 'dtype', 'string', where),
    quantization,
    attention: typeof m.attention === 'string' ? m.attention : 'exact',
    mode,
    torchVersion: field<string>(m, 'torch_version', 'string', where),
    engine,
    aoti,
    files: stageFiles,
    extraFiles,
    t5,
    sha256: createHash('sha256').update(raw).digest('hex'),
  }
}

/** obj[key] as an integer >= min (1: a count, a factor, a multiple). */
function count(obj: Json, key: string, where: string, min = 1): number {
  const value = obj[key]
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw bundleError(`${where}: "${key}" must be an integer >= ${min}, got ${JSON.stringify(value) ?? 'nothing'}`)
  }
  return value
}

function parseCounts<K extends string>(obj: Json, where: string, keys: K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, count(obj, k, where)])) as Record<K, number>
}

function parseWidths(w: Json, where: string): BundleInfo['widths'] {
  const at = `${where} widths`
  const chMult = field<unknown[]>(w, 'ch_mult', 'array', at)
  if (chMult.length === 0) throw bundleError(`${at}: "ch_mult" is empty`)
  chMult.forEach((_, i) => count(chMult as unknown as Json, String(i), `${at} ch_mult`))
  return {
    ch: count(w, 'ch', at),
    chMult: chMult as number[],
    numResBlocks: count(w, 'num_res_blocks', at),
    hiddenChannel: count(w, 'hidden_channel', at),
    normGroupChannels: w.norm_group_channels === undefined ? 0 : count(w, 'norm_group_channels', at, 0),
  }
}

function parseText(value: unknown, where: string): BundleInfo['text'] {
  if (value === null || value === undefined) return null
  if (!isObject(value)) throw bundleError(`${where}: "text" must be an object or null`)
  return { required: Boolean(value.required), dim: count(value, 'dim', `${where} text`), maxLength: count(value, 'max_length', `${where} text`) }
}

/** manifest.json of a bundle directory, parsed, with its format version checked. */
export async function readManifest(dir: string): Promise<{ root: string; where: string; raw: Buffer; m: Json; version: number }> {
  const root = await realBundleRoot(dir)
  const manifestPath = path.join(root, 'manifest.json')
  let raw: Buffer
  try {
    raw = await readBundleFile(root, 'manifest.json', `not a bundle: ${manifestPath}`)
  } catch (err) {
    const cause = (err as Error).cause as NodeJS.ErrnoException | undefined
    if (cause?.code === undefined) throw err // not a regular file, or a symlink out of the bundle
    throw bundleError(`not a bundle: cannot read ${manifestPath} (${cause.message})`, cause)
  }
  let m: unknown
  try {
    m = JSON.parse(raw.toString('utf8'))
  } catch (err) {
    throw bundleError(`${manifestPath} is not valid JSON: ${(err as Error).message}`, err)
  }
  if (!isObject(m))
    throw bundleError(`${manifestPath} does not hold a JSON object (it holds ${m === null ? 'null' : Array.isArray(m) ? 'an array' : typeof m})`)
  const where = manifestPath
  const version = field<number>(m, 'format_version', 'number', where)
  if (version !== BUNDLE_FORMAT_VERSION) {
    throw bundleError(
      `${where}: bundle format ${version} is not supported by this videovae (expects ${BUNDLE_FORMAT_VERSION}); re-export the bundle with this version`,
    )
  }
  return { root, where, raw, m, version }
}

/**
 * Resolves the manifest's `files` (all of them, or `only` these names) inside the bundle and
 * checks each one's sha256 when `verify`.
 */
export async function verifyFiles(root: string, files: Json, where: string, verify: boolean, only?: string[]): Promise<Record<string, string>> {
  const resolved: Record<string, string> = {}
  await Promise.all(
    Object.entries(files)
      .filter(([name]) => only === undefined || only.includes(name))
      .map(async ([name, entry]) => {
        if (!isObject(entry)) throw bundleError(`${where}: files.${name} is not an object with "path" and "sha256"`)
        const rel = field<string>(entry, 'path', 'string', `${where} files.${name}`)
        const expected = field<string>(entry, 'sha256', 'string', `${where} files.${name}`)
        const what = `${where}: files.${name}`
        if (!verify) {
          resolved[name] = await checkBundleFile(root, rel, what)
          return
        }
        const { file, sha256: actual } = await hashBundleFile(root, rel, what)
        if (actual !== expected) {
          throw bundleError(
            `bundle file ${rel} (${name}) does not match its manifest hash (expected ${expected.slice(0, 12)}…, got ${actual.slice(0, 12)}…): the bundle is corrupt or was modified; re-export it`,
          )
        }
        resolved[name] = file
      }),
  )
  return resolved
}
