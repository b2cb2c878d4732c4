/**
 * videovae: VideoVAE+ on libtorch, natively, from Node.js. This layer is the public API;
 * the raw addon contract lives in native.ts.
 */
export { Tensor, type TensorFromOptions, type TensorToOptions } from './tensor.js'
export { TorchModule, type ModuleArgument, type ModuleResult, type QuantizedWeight, type TorchModuleLoadOptions } from './module.js'
export type { AotiInputSpec, AotiDim } from './aoti_inputs.js'
export {
  memory,
  cuda,
  cudnnBenchmarkState,
  setNumThreads,
  getNumThreads,
  maxThreads,
  libtorchInfo,
  type MemoryInfo,
  type HostCacheInfo,
  type TransferCounts,
} from './runtime.js'
export {
  readSafetensors,
  writeSafetensors,
  type SafetensorsContent,
  type ReadSafetensorsOptions,
  type HostArray,
  type SafetensorsValue,
} from './safetensors.js'
export { setDeviceConcurrency } from './device_queue.js'
export { VideoVaeError, type ErrorCode } from './errors.js'
export { type DType, type TensorArray } from './dtype.js'
export { type Device } from './device.js'
export { VideoVAE, defaultBundleDir, type VideoVAELoadOptions, type Posterior } from './vae.js'
export { readBundle, STAGE_NAMES, type AotiInfo, type BundleInfo, type StageName, type T5Info } from './bundle.js'
export { CaptionEncoder, type CaptionEncoderLoadOptions, type CaptionOptions, type TokenizedCaptions, type CaptionEmbedding } from './caption_encoder.js'
export type { EncodeOptions, DecodeOptions, RunOptions, TilingOptions } from './vae_options.js'
export { DEFAULT_MEMORY_LIMIT, defaultMemoryLimit, memoryEstimate, checkMemoryLimit, type MemoryLimit, type JobSize, type JobLayout } from './memory_limit.js'
export * from './io/index.js'
export * from './metrics/index.js'
export {
  encodeStream,
  decodeStream,
  reconstructStream,
  type FrameBlock,
  type LatentChunk,
  type EncodeStreamOptions,
  type DecodeStreamOptions,
  type ReconstructStreamOptions,
  type DecodedFrames,
  type ReconstructedFrames,
  type StreamRunOptions,
} from './engine/streams.js'
export { cleanCaption, preprocessCaption } from './text/index.js'
export * from './batch/index.js'
