/**
 * Checks what ffmpeg wrote before it is renamed into place. ffmpeg can exit 0 with a damaged
 * file (a full disk while muxing, a trailer it could not write); `-xerror` catches most of it,
 * and this catches the rest: the file must be non-empty and read back with every frame.
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileUrl, runTool, stderrSummary, VideoIOError } from './ffmpeg.js'

function damaged(path: string, why: string): VideoIOError {
  return new VideoIOError('ERR_WRITE', `cannot write ${path}: ${why}; nothing was written there`, { path })
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size
  } catch {
    return -1
  }
}

/** The video at `temp` (for the destination `path`) must hold `frames` packets of video. */
export async function checkVideoOutput(temp: string, path: string, frames: number): Promise<void> {
  const size = await sizeOf(temp)
  if (size <= 0) throw damaged(path, 'ffmpeg wrote an empty file')
  const res = await runTool('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-count_packets',
    '-show_entries',
    'stream=nb_read_packets',
    '-of',
    'csv=p=0',
    '-i',
    fileUrl(temp),
  ])
  const packets = Number.parseInt(res.stdout.toString('utf8').trim(), 10)
  if (res.code !== 0 || res.spawnError !== undefined || !Number.isInteger(packets)) {
    throw damaged(path, `the file ffmpeg wrote (${size} bytes) does not read back: ${stderrSummary(res.stderr) || 'no video stream'}`)
  }
  if (packets !== frames) throw damaged(path, `the file ffmpeg wrote holds ${packets} of the ${frames} frames`)
}

/**
 * The image sequence in `dir` must hold `frames` non-empty files, and the last one (written when
 * a disk fills, if any) must decode.
 */
export async function checkSequenceOutput(dir: string, path: string, frames: number): Promise<void> {
  const names = (await readdir(dir)).sort()
  if (names.length !== frames) throw damaged(path, `ffmpeg wrote ${names.length} of the ${frames} images`)
  for (const name of names) {
    if ((await sizeOf(join(dir, name))) <= 0) throw damaged(path, `ffmpeg wrote an empty image ${name}`)
  }
  const problem = await decodeProblem(join(dir, names[names.length - 1]!))
  if (problem !== undefined) throw damaged(path, `the image ${names[names.length - 1]} ffmpeg wrote does not decode: ${problem}`)
}

/** The image at `temp` (for the destination `path`) must be non-empty and decode. */
export async function checkImageOutput(temp: string, path: string): Promise<void> {
  if ((await sizeOf(temp)) <= 0) throw damaged(path, 'ffmpeg wrote an empty file')
  const problem = await decodeProblem(temp)
  if (problem !== undefined) throw damaged(path, `the image ffmpeg wrote does not decode: ${problem}`)
}

/** Why an image does not decode cleanly, or undefined. */
async function decodeProblem(file: string): Promise<string | undefined> {
  const res = await runTool('ffmpeg', ['-nostdin', '-v', 'error', '-xerror', '-i', fileUrl(file), '-f', 'null', '-'])
  if (res.code === 0 && res.spawnError === undefined && res.stderr.trim() === '') return undefined
  return stderrSummary(res.stderr) || `ffmpeg exited with ${res.code ?? res.signal}`
}
