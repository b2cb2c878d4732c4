/** Helpers of the report tests: read a page's JSON blocks, make a degraded copy of a clip. */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'

/** The two JSON blocks of a report page. */
export function reportData(file: string): { result: Record<string, unknown>; media: { index: boolean; transcript: string; pairs: Record<string, unknown>[] } } {
  const html = fs.readFileSync(file, 'utf8')
  const block = (id: string): string => {
    const m = new RegExp(`<script type="application/json" id="${id}">([^]*?)</script>`).exec(html)
    assert.ok(m, `no ${id} block in ${file}`)
    return m[1]!
  }
  return { result: JSON.parse(block('videovae-result')), media: JSON.parse(block('videovae-media')) }
}

/** A degraded copy of a clip: blurred and with fresh noise per frame (a stand-in reconstruction). */
export function degrade(input: string, output: string, noise = 10): string {
  execFileSync('ffmpeg', [
    '-nostdin',
    '-v',
    'error',
    '-y',
    '-i',
    input,
    '-vf',
    `gblur=sigma=1,noise=alls=${noise}:allf=t`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-crf',
    '0',
    '-pix_fmt',
    'yuv444p',
    output,
  ])
  return output
}
