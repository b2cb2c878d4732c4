// The report in a real browser: Debian's Chromium, headless, offline, opens a generated page from
// a file URL; the three views play and stay in sync, the curves have one point per frame and seek
// the views, the index links to pairs. The screenshot of the pair is checked for content (and is
// the README's, with VIDEOVAE_REPORT_SCREENSHOT=docs/report.png).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, before, describe, it } from 'node:test'

import { chromium, type Browser, type Page } from 'playwright-core'

import { readImage } from '../../lib/io/image.js'
import { cli, json, makeVideo, ROOT, tempDir } from '../cli/helpers.js'
import { degrade, reportData } from './helpers.js'

const CHROMIUM = process.env.VIDEOVAE_CHROMIUM ?? '/usr/bin/chromium'
const SAMPLE = 'assets/sample/dandelions_256.mp4' // the CLI runs in ROOT; relative, as the page shows it

// The page-side callbacks below see DOM objects; this project compiles without the DOM library,
// so they are typed by these few members.
interface ViewCanvas {
  width: number
  height: number
  dataset: { frame?: string }
  currentTime: number
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } }
}
interface Polyline {
  points: { numberOfItems: number }
}
/** A page condition: the first view of a pair shows frame f. */
const showing = (f: number, pair = 0): string => `document.querySelector('#pair-${pair} canvas.view')?.dataset.frame === '${f}'`

interface ViewState {
  frame: string | undefined
  time: number
}

/** What the three views of the first pair show now. */
function views(page: Page, pair = 0): Promise<ViewState[]> {
  return page.$$eval(`#pair-${pair} canvas.view`, (cs) =>
    cs.map((c) => ({ frame: (c as unknown as ViewCanvas).dataset.frame, time: (c as unknown as ViewCanvas).currentTime })),
  )
}

/** Mean and standard deviation of a canvas's pixels (RGB). */
function canvasStats(page: Page, selector: string): Promise<{ mean: number; std: number }> {
  return page.$eval(selector, (c) => {
    const canvas = c as unknown as ViewCanvas
    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data
    let s = 0
    let s2 = 0
    let n = 0
    for (let i = 0; i < d.length; i += 4) {
      for (let k = 0; k < 3; k++) {
        s += d[i + k]!
        s2 += d[i + k]! * d[i + k]!
        n++
      }
    }
    const mean = s / n
    return { mean, std: Math.sqrt(s2 / n - mean * mean) }
  })
}

/** Opens a report offline and records every request the page makes. */
async function open(browser: Browser, file: string): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  const context = await browser.newContext({ offline: true, viewport: { width: 1000, height: 900 } })
  const requests: string[] = []
  const errors: string[] = []
  await context.route('**/*', (route) => {
    const url = route.request().url()
    return url.startsWith('file:') ? route.continue() : route.abort()
  })
  const page = await context.newPage()
  page.on('request', (r) => requests.push(r.url()))
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
  await page.goto(pathToFileURL(file).href)
  await page.waitForFunction(showing(0))
  return { page, requests, errors }
}

describe('the report in Chromium', { timeout: 120_000 }, () => {
  const dir = tempDir()
  let browser: Browser

  before(async () => {
    // Not skipped when missing: scripts/setup.sh installs Debian's chromium, as it does ffmpeg.
    assert.ok(fs.existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: run scripts/setup.sh (apt-get install chromium) or set VIDEOVAE_CHROMIUM`)
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
  })
  after(async () => {
    await browser?.close()
  })

  it('reconstruct --report: the views play in sync, the curves seek them, the page has content', async () => {
    const report = path.join(dir, 'reconstruct.html')
    const r = cli(['reconstruct', SAMPLE, '-o', path.join(dir, 'rec.mp4'), '--frames', '8', '--max-size', '128x128', '--json', '--report', report], {
      env: { OMP_NUM_THREADS: '1' },
    })
    assert.equal(r.code, 0, r.stderr)
    const out = json<{ frames: number; fps: string; perFrame: { psnr: number[] } }>(r)
    assert.deepEqual(reportData(report).result, out)
    assert.equal(out.frames, 8)

    const { page, requests, errors } = await open(browser, report)
    // One point per frame on both curves.
    const points = await page.$$eval('#pair-0 svg.curve polyline', (ls) => ls.map((l) => (l as unknown as Polyline).points.numberOfItems))
    assert.deepEqual(points, [8, 8])

    // Play at a quarter speed (8 frames of 16 fps: 2 s a loop) and watch the three views.
    await page.selectOption('#pair-0 select.speed', '0.25')
    await page.click('#pair-0 button.play')
    const samples: ViewState[][] = []
    for (let i = 0; i < 16; i++) {
      samples.push(await views(page))
      await page.waitForTimeout(60)
    }
    await page.click('#pair-0 button.play')
    for (const s of samples) {
      assert.equal(new Set(s.map((v) => `${v.frame}@${v.time}`)).size, 1, `views out of sync: ${JSON.stringify(s)}`)
      assert.equal(s[0]!.time, Number(s[0]!.frame) / 16)
    }
    const frames = samples.map((s) => Number(s[0]!.frame))
    const advances = frames.filter((f, i) => i > 0 && f !== frames[i - 1]).length
    assert.ok(advances >= 3, `the views did not play: frames ${frames}`)

    // Clicking the PSNR curve at frame 5 seeks every view there.
    const box = (await page.locator('#pair-0 svg.curve[data-metric="psnr"]').boundingBox())!
    const x = box.x + ((44 + (5 * (600 - 44 - 8)) / 7) / 600) * box.width
    await page.mouse.click(x, box.y + box.height / 2)
    await page.waitForFunction(showing(5))
    assert.deepEqual(await views(page), Array(3).fill({ frame: '5', time: 5 / 16 }))
    assert.match((await page.textContent('#pair-0 .frame-label')) ?? '', /^frame 6 \/ 8 /)
    assert.match((await page.textContent('#pair-0 .heat-label')) ?? '', /^frame 6: worst block \d+\.\d dB/)

    // The worst-frames list seeks too, and its first entry is the lowest PSNR.
    const worst = out.perFrame.psnr.indexOf(Math.min(...out.perFrame.psnr))
    await page.click('#pair-0 .worst-list li:first-child button')
    await page.waitForFunction(showing(worst))
    await page.click('#pair-0 button.prev')
    assert.equal((await views(page))[0]!.frame, String(Math.max(0, worst - 1)))
    // Keys on the focused pair step too.
    await page.focus('#pair-0')
    await page.keyboard.press('ArrowRight')
    assert.equal((await views(page))[0]!.frame, String(Math.max(0, worst - 1) + 1))

    // Real pictures: the reference view is textured, the difference view is mostly dark.
    const ref = await canvasStats(page, '#pair-0 canvas.view[data-view="ref"]')
    const diff = await canvasStats(page, '#pair-0 canvas.view[data-view="diff"]')
    assert.ok(ref.std > 20 && ref.mean > 30, JSON.stringify(ref))
    assert.ok(diff.mean < ref.mean / 2, `difference ${JSON.stringify(diff)} vs reference ${JSON.stringify(ref)}`)

    await page.click('#pair-0 .worst-list li:first-child button')
    const shot = path.join(dir, 'report.png')
    await page.locator('#pair-0').screenshot({ path: shot })
    const img = await readImage(shot)
    const colours = new Set<number>()
    let s = 0
    let s2 = 0
    for (let i = 0; i < img.data.length; i += 3) {
      const v = img.data[i]! * 0.299 + img.data[i + 1]! * 0.587 + img.data[i + 2]! * 0.114
      s += v
      s2 += v * v
      colours.add((img.data[i]! << 16) | (img.data[i + 1]! << 8) | img.data[i + 2]!)
    }
    const n = img.data.length / 3
    const std = Math.sqrt(s2 / n - (s / n) ** 2)
    assert.ok(img.width >= 900 && img.height >= 500, `${img.width}x${img.height}`)
    assert.ok(colours.size > 2000 && std > 30, `blank screenshot? ${colours.size} colours, std ${std.toFixed(1)}`)
    const keep = process.env.VIDEOVAE_REPORT_SCREENSHOT
    if (keep) {
      // The README's copy: 256 colours, to stay small in git.
      execFileSync('ffmpeg', [
        '-nostdin',
        '-v',
        'error',
        '-y',
        '-i',
        shot,
        '-vf',
        'split[a][b];[a]palettegen=max_colors=256[p];[b][p]paletteuse=dither=bayer:bayer_scale=4',
        path.resolve(ROOT, keep),
      ])
    }

    assert.deepEqual(errors, [])
    assert.deepEqual(requests, [pathToFileURL(report).href])
  })

  it('eval --report of directories: the index is sorted by PSNR and links to each pair', async () => {
    const ref = path.join(dir, 'ref')
    const rec = path.join(dir, 'rec')
    fs.mkdirSync(ref)
    fs.mkdirSync(rec)
    const a = makeVideo(path.join(ref, '1.mp4'), { width: 48, height: 32, frames: 6 })
    degrade(a, path.join(rec, '1_rec.mp4'), 4)
    const b = makeVideo(path.join(ref, '2.mp4'), { width: 48, height: 32, frames: 6, source: 'rgbtestsrc' })
    degrade(b, path.join(rec, '2_rec.mp4'), 30)
    const report = path.join(dir, 'eval.html')
    const r = cli(['eval', ref, rec, '--json', '--report', report])
    assert.equal(r.code, 0, r.stderr)
    const psnrs = json<{ pairs: { psnr: number }[] }>(r).pairs.map((p) => p.psnr)
    assert.ok(psnrs[1]! < psnrs[0]!, String(psnrs))

    const { page, requests, errors } = await open(browser, report)
    const rows = await page.$$eval('#index table.pairs a', (as) => as.map((a) => [a.textContent, a.getAttribute('href')]))
    assert.deepEqual(rows, [
      ['2.mp4 ~ 2_rec.mp4', '#pair-1'],
      ['1.mp4 ~ 1_rec.mp4', '#pair-0'],
    ])
    await page.click('#index table.pairs a[href="#pair-1"]')
    assert.equal(await page.evaluate('location.hash'), '#pair-1')
    const points = await page.$$eval('svg.curve[data-metric="psnr"] polyline', (ls) => ls.map((l) => (l as unknown as Polyline).points.numberOfItems))
    assert.deepEqual(points, [6, 6])
    assert.deepEqual(errors, [])
    assert.deepEqual(requests, [pathToFileURL(report).href])
  })

  it("frames smaller than SSIM's window: the page shows PSNR alone and no error", async () => {
    const ref = makeVideo(path.join(dir, 'tiny.mp4'), { width: 6, height: 6, frames: 4 })
    const rec = degrade(ref, path.join(dir, 'tiny_rec.mp4'), 10)
    const report = path.join(dir, 'tiny.html')
    const r = cli(['eval', ref, rec, '--json', '--report', report])
    assert.equal(r.code, 0, r.stderr)
    assert.match(json<{ mean: { ssimOmitted?: string } }>(r).mean.ssimOmitted ?? '', /smaller than SSIM/)

    const { page, errors } = await open(browser, report)
    const metrics = await page.$$eval('svg.curve', (cs) => cs.map((c) => c.getAttribute('data-metric')))
    assert.deepEqual(metrics, ['psnr'])
    assert.match((await page.textContent('#pair-0 .worst-list')) ?? '', /SSIM n\/a/)
    assert.deepEqual(errors, [])
  })
})
