/**
 * videovae: VideoVAE+ on libtorch, natively, from Node.js. This layer is the public API;
 * the raw addon contract lives in native.ts.
 */
export { Tensor, type TensorFromOptions, type TensorToOptions } from './tensor.js'
export { TorchModule, type ModuleArgument, type ModuleResult, type TorchModuleLoadOptions } from './module.js'
export { memory, cuda, setNumThreads, getNumThreads, libtorchInfo, type MemoryInfo } from './runtime.js'
export { readSafetensors, writeSafetensors, type SafetensorsContent, type ReadSafetensorsOptions } from './safetensors.js'
export { setDeviceConcurrency } from './device_queue.js'
export { VideoVaeError, type ErrorCode } from './errors.js'
export { type DType, type TensorArray } from './dtype.js'
export { type Device } from './device.js'
