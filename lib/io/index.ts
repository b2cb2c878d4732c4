/** File I/O over the system ffmpeg: probing, streamed video reading and writing, still images. */
export { VideoIOError, locateTool, type VideoIOErrorCode, type VideoIOErrorOptions, type FfmpegTool } from './ffmpeg.js'
export { probeVideo, type VideoInfo, type ProbeOptions } from './probe.js'
export {
  readVideo,
  readVideoWithPlan,
  planRead,
  type FrameChunk,
  type ReadVideoOptions,
  type ReadPlan,
  type CropRect,
  type ResizeTarget,
  type FitMode,
  type Interpolation,
} from './video_reader.js'
export { readClipWithPlan, readVideoFrames, type Clip, type VideoFrames } from './read_clip.js'
export { writeVideo, type FrameBatch, type FrameSource, type WriteVideoOptions, type WriteVideoResult } from './video_writer.js'
export { isImageSequencePath, findImageSequence, DEFAULT_SEQUENCE_FPS, type ImageSequence } from './image_sequence.js'
export { readImage, writeImage, type RgbImage, type ReadImageOptions, type WriteImageOptions } from './image.js'
export { ALLOWED_DEMUXERS, UNTRUSTED_PROTOCOLS } from './input_policy.js'
