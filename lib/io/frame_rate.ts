/**
 * The frame rates videovae writes: 0.01 to 1,000,000 fps. Outside that, ffmpeg's mp4 muxer silently
 * drops frames (16 frames at 0.0001 fps come out as 14), so an absurd rate (a corrupt latent
 * file's metadata, a typo) is refused up front instead of writing fewer frames than reported.
 */
export const MIN_FPS = 0.01
export const MAX_FPS = 1000000

/** The value of `25`, `29.97` or `30000/1001`; undefined when the text is not a rate. */
export function frameRateValue(fps: number | string): number | undefined {
  if (typeof fps === 'number') return Number.isFinite(fps) ? fps : undefined
  const m = /^\s*(\d+(?:\.\d+)?)(?:\/(\d+(?:\.\d+)?))?\s*$/.exec(fps)
  if (m === null) return undefined
  const value = Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2]))
  return Number.isFinite(value) ? value : undefined
}

/** Why `fps` cannot be written (not a number, or outside MIN_FPS..MAX_FPS), or null when it can. */
export function frameRateProblem(fps: number | string): string | null {
  const value = frameRateValue(fps)
  if (value === undefined) return `${JSON.stringify(fps)} is not a frame rate (a positive number or a fraction like 30000/1001)`
  if (!(value >= MIN_FPS && value <= MAX_FPS)) return `${fps} fps is outside the frame rates videovae writes (${MIN_FPS} to ${MAX_FPS})`
  return null
}
