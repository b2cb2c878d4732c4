/**
 * Loading the stages of an AOTInductor bundle ("engine": "aoti"): the packages are native code
 * for one CPU instruction level (or GPU) and one torch release, so the manifest's "aoti" record
 * is checked against this process before any package is opened, then each package is loaded
 * with its weights (the `<stage>.weights.safetensors` side file, when the exporter kept them out
 * of the shared object; stored as aoti.weights_storage says, converted natively) and its input
 * specs (aoti.shapes), which every run is checked against.
 * The native loader checks each package's own ISA record again.
 */
import { readFileSync } from 'node:fs'

import type { AotiInputSpec } from './aoti_inputs.js'
import { bundleError, IMAGE_STAGES, QUANTIZATION_SCHEME, STAGE_NAMES, type AotiInfo, type AotiWeightsStorage, type BundleInfo } from './bundle.js'
import { torchRelease } from './bundle_torch_version.js'
import { VideoVaeError } from './errors.js'
import { TorchModule, type QuantizedWeight } from './module.js'
import { splitQuantized } from './quantized_weights.js'
import { libtorchInfo } from './runtime.js'
import { readSafetensors } from './safetensors.js'
import type { Tensor } from './tensor.js'

/** ISA words that need no vector extension. */
const SCALAR_ISA = new Set(['', 'none', 'default', 'invalid_vec_isa'])

/**
 * Throws when this process cannot run the bundle's packages: ERR_DEVICE (compiled for another
 * device kind, or CUDA packages on a CPU-only libtorch), ERR_BUNDLE (another torch major.minor),
 * ERR_CPU_ISA (kernels for instructions this CPU, or ATEN_CPU_CAPABILITY, does not allow).
 */
export function checkAotiBundle(info: BundleInfo & { aoti: AotiInfo }, device: string): void {
  const { aoti } = info
  const runtime = libtorchInfo().runtime
  const kind = device === 'cpu' ? 'cpu' : 'cuda'
  if (aoti.device === 'cuda' && !runtime.cudaCompiled) {
    throw new VideoVaeError(
      'ERR_DEVICE',
      `${info.dir} holds CUDA AOTInductor packages, and the libtorch loaded here (${runtime.torchVersion}) has no CUDA: ` +
        'install a CUDA libtorch (videovae setup --cuda), or export the bundle on this machine (videovae export --engine aoti)',
    )
  }
  if (aoti.device !== kind) {
    throw new VideoVaeError(
      'ERR_DEVICE',
      `${info.dir} was compiled for ${aoti.device} (AOTInductor packages run only there): load it with device '${aoti.device}', ` +
        `or export a bundle for ${kind} on a machine that has one`,
    )
  }
  const built = torchRelease(aoti.torchVersion)
  const loaded = torchRelease(runtime.torchVersion)
  if (!built || !loaded || built[0] !== loaded[0] || built[1] !== loaded[1]) {
    throw new VideoVaeError(
      'ERR_BUNDLE',
      `${info.dir} was compiled by torch ${aoti.torchVersion}, and the libtorch loaded here is ${runtime.torchVersion}: ` +
        `AOTInductor packages load only in the torch release (major.minor) that made them. Re-export the bundle with ` +
        `torch ${loaded ? loaded.slice(0, 2).join('.') : runtime.torchVersion} (videovae export --engine aoti), or use its TorchScript bundle`,
    )
  }
  if (aoti.device === 'cpu') {
    checkCpuIsa(aoti.cpuIsa, runtime.cpuIsa, info.dir)
    checkCpuFlags(aoti.cpuFlags, info.dir)
  }
}

/** The CPU's feature flags (/proc/cpuinfo); null where there is none to read. */
function cpuFlags(): Set<string> | null {
  try {
    const line = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
    return line ? new Set(line[1]!.trim().split(/\s+/)) : null
  } catch {
    return null
  }
}

/** ERR_CPU_ISA when the exporter's list of needed CPU flags (manifest aoti.cpu_flags) names one this CPU lacks. */
export function checkCpuFlags(needed: readonly string[], what: string, have: Set<string> | null = cpuFlags()): void {
  if (have === null) return
  const missing = needed.filter((f) => !have.has(f))
  if (missing.length === 0) return
  throw new VideoVaeError(
    'ERR_CPU_ISA',
    `${what} has kernels compiled for CPU features this CPU lacks (${missing.join(' ')}). Re-export it on this machine, ` +
      'or export it with a lower instruction-set pin (videovae export --engine aoti --cpu-isa avx2)',
  )
}

/** ERR_CPU_ISA when `isa` (space-separated, e.g. 'avx512 avx512_vnni') needs an instruction set not in `supported`. */
export function checkCpuIsa(isa: string, supported: readonly string[], what: string): void {
  for (const word of isa.toLowerCase().split(/\s+/)) {
    if (SCALAR_ISA.has(word) || supported.includes(word)) continue
    throw new VideoVaeError(
      'ERR_CPU_ISA',
      `${what} has kernels compiled for the CPU instruction set '${isa}', which this CPU cannot run ('${word}' is missing; ` +
        `this CPU runs: ${supported.length ? supported.join(' ') : 'no vector instruction set'}). Re-export it on this machine, ` +
        'or export it with a lower instruction-set pin (videovae export --engine aoti --cpu-isa avx2)',
    )
  }
}

/** The loaded packages: the four stages in bundle order, then the image-path spatial encoder and decoder (or null). */
export interface AotiStages {
  stages: TorchModule[]
  image: (TorchModule | null)[]
}

/** Loads every package of a checked `aoti` bundle; on failure, frees what was loaded and throws the first error. */
export async function loadAotiStages(info: BundleInfo & { aoti: AotiInfo }, device: string): Promise<AotiStages> {
  const { aoti } = info
  const files: Record<string, string> = { ...info.files }
  for (const s of IMAGE_STAGES) {
    const file = aoti.imageFiles[s]
    // The image path may share the video path's package: load it once.
    if (file !== undefined && file !== info.files[s]) files[`${s}_image`] = file
  }
  const loaded = await Promise.allSettled(
    Object.entries(files).map(
      async ([key, file]) => [key, await loadPackage(file, aoti.weightFiles[key], aoti.weightsStorage, aoti.inputs[key]!, device)] as const,
    ),
  )
  const modules = new Map(loaded.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])))
  const failure = loaded.find((r) => r.status === 'rejected')
  if (failure) {
    for (const m of modules.values()) m.dispose()
    throw failure.reason
  }
  return {
    stages: STAGE_NAMES.map((s) => modules.get(s)!),
    image: IMAGE_STAGES.map((s) => {
      const file = aoti.imageFiles[s]
      if (file === undefined) return null
      return modules.get(file === info.files[s] ? s : `${s}_image`)!
    }),
  }
}

async function loadPackage(
  file: string,
  weights: string | undefined,
  storage: AotiWeightsStorage,
  inputs: AotiInputSpec[],
  device: string,
): Promise<TorchModule> {
  const read = weights === undefined ? {} : (await readSafetensors(weights, { device: device as 'cpu' })).tensors
  try {
    // float16 weights go as they are (the addon converts them); int8 ones as [fqn, values, scale].
    let constants: Record<string, Tensor> = read
    let quantizedWeights: QuantizedWeight[] = []
    if (storage === QUANTIZATION_SCHEME) ({ weights: quantizedWeights, rest: constants } = splitQuantized(read, `${weights} (weights_storage ${storage})`))
    const given = weights === undefined ? {} : { constants, ...(quantizedWeights.length ? { quantizedWeights } : {}) }
    return await TorchModule.load(file, { device, inputs, ...given })
  } catch (e) {
    // Specs from the manifest that do not fit the package: the bundle is at fault.
    if (e instanceof VideoVaeError && e.code === 'ERR_ARGUMENT') throw bundleError(`${file}: manifest aoti.shapes: ${e.message}`)
    throw e
  } finally {
    for (const t of Object.values(read)) t.dispose()
  }
}
