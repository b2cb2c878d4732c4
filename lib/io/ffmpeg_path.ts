/**
 * Where the ffmpeg and ffprobe binaries come from: FFMPEG_PATH / FFPROBE_PATH when set, else
 * the system's, first on PATH. No npm package is consulted (see the README, "Install in your
 * app": the static-binary packages either download at install time or ship an old ffmpeg).
 */
import { accessSync, constants as fsConstants, statSync } from 'node:fs'
import { delimiter, isAbsolute, join } from 'node:path'

/** The two tools of the ffmpeg suite used here. */
export type FfmpegTool = 'ffmpeg' | 'ffprobe'

/** The environment variable that names each tool's binary. */
export const toolEnvVar: Record<FfmpegTool, string> = { ffmpeg: 'FFMPEG_PATH', ffprobe: 'FFPROBE_PATH' }

/** A found tool: its file, and which rule found it. */
export interface FoundTool {
  path: string
  source: 'FFMPEG_PATH' | 'FFPROBE_PATH' | 'PATH'
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false
    accessSync(path, fsConstants.X_OK)
    return true
  } catch {
    return false
  }
}

/** What to do when a tool is missing: the install commands, or the variable to set. */
export function missingToolMessage(tool: FfmpegTool, env: NodeJS.ProcessEnv = process.env): string {
  const variable = toolEnvVar[tool]
  const set = env[variable]
  if (set !== undefined && set !== '')
    return `${variable}=${set} is not an executable file; point it at the ${tool} binary, or unset it to use the system ${tool}`
  return (
    `${tool} not found on PATH: install ffmpeg (Debian/Ubuntu: apt install ffmpeg; macOS: brew install ffmpeg; ` +
    `Fedora: dnf install ffmpeg-free), or set ${variable}=/path/to/${tool}`
  )
}

/** The tool's binary per the order above, or null (then missingToolMessage says why). */
export function findTool(tool: FfmpegTool, env: NodeJS.ProcessEnv = process.env): FoundTool | null {
  const variable = toolEnvVar[tool]
  const fromEnv = env[variable]
  if (fromEnv !== undefined && fromEnv !== '') {
    return isExecutableFile(fromEnv) ? { path: fromEnv, source: variable as FoundTool['source'] } : null
  }
  const exts = process.platform === 'win32' ? ['.exe', ''] : ['']
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue
    for (const ext of exts) {
      const candidate = join(dir, tool + ext)
      if (isExecutableFile(candidate)) return { path: candidate, source: 'PATH' }
    }
  }
  return null
}
