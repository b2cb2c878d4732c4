/**
 * Dataset batch encoding (one machine). The queue side (bullmq) is in queue.ts and worker.ts,
 * left out here so that importing the package does not load a redis client.
 */
export { readManifest, type BatchItem } from './manifest.js'
export { parseShardSpec, selectShard, partOf, type ShardSpec } from './partition.js'
export { runBatch, type BatchRunOptions, type BatchReport } from './runner.js'
export { datasetStats, type LatentStats } from './stats.js'
export { readDatasetIndex, type IndexEntry } from './dataset_index.js'
export { BatchError, type BatchErrorCode } from './errors.js'
