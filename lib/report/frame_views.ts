/**
 * What the report keeps of one frame pair: a small "sprite" (reference | reconstruction |
 * amplified difference, side by side, at proxy size) and a coarse per-block PSNR grid (the heat
 * map). Both come from one pass over the full-size frames, so long or large clips cost the page
 * only their proxies.
 */

/** Longest side of each view in the page, in pixels (frames are only ever shrunk). */
export const PROXY_MAX_SIDE = 320
/** |reference - reconstruction| is multiplied by this in the difference view. */
export const DIFF_GAIN = 4
/** At most this many heat-map cells along the longer side of a frame. */
export const HEAT_MAX_CELLS = 48

/**
 * Size of one view of the sprite: a multiple of 16 wide, so the JPEG blocks (16x16 with 4:2:0
 * chroma) of neighbouring views do not mix (frames narrower than 16 pixels are enlarged to 16).
 */
export function proxySize(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, PROXY_MAX_SIDE / Math.max(width, height))
  const w = Math.max(16, Math.floor((width * scale) / 16) * 16)
  const h = Math.max(1, Math.round((height * w) / width))
  return { width: w, height: h }
}

/** The heat-map grid of a frame size: square cells of at least 8 pixels. */
export function heatGrid(width: number, height: number): { cols: number; rows: number; cell: number } {
  const cell = Math.max(8, Math.ceil(Math.max(width, height) / HEAT_MAX_CELLS))
  return { cols: Math.ceil(width / cell), rows: Math.ceil(height / cell), cell }
}

/** A heat-map cell's PSNR in dB as one byte: dB x 4, 255 for 63.75 dB and above (identical). */
export function heatByte(sse: number, samples: number): number {
  if (sse === 0) return 255
  const db = 10 * Math.log10((255 * 255 * samples) / sse)
  return Math.max(0, Math.min(255, Math.round(db * 4)))
}

export interface FrameViews {
  /** `[h, 3w, 3]` RGB: reference, reconstruction, difference x DIFF_GAIN. */
  sprite: Uint8Array
  /** `rows x cols` heat bytes (see heatByte), row-major. */
  heat: Uint8Array
}

/**
 * Box-filters both frames and their absolute difference down to the proxy size and sums the
 * squared error per heat cell. `ref` and `test` are `[height, width, 3]` RGB.
 */
export function frameViews(ref: Uint8Array, test: Uint8Array, width: number, height: number): FrameViews {
  const p = proxySize(width, height)
  const g = heatGrid(width, height)
  const cells = p.width * p.height
  // Per proxy pixel: sums of ref, test and |diff| per channel (9 values), and the pixel count.
  // Integer sums: a proxy pixel covers at most 16 M source pixels before they could overflow.
  const sums = new Uint32Array(cells * 9)
  const counts = new Uint32Array(cells)
  const sse = new Float64Array(g.cols * g.rows)
  const colOf = new Uint32Array(width)
  const heatCol = new Uint32Array(width)
  for (let x = 0; x < width; x++) {
    colOf[x] = Math.min(p.width - 1, Math.floor((x * p.width) / width))
    heatCol[x] = Math.floor(x / g.cell)
  }
  for (let y = 0; y < height; y++) {
    const rowCell = Math.min(p.height - 1, Math.floor((y * p.height) / height)) * p.width
    const heatRow = Math.floor(y / g.cell) * g.cols
    let i = y * width * 3
    for (let x = 0; x < width; x++, i += 3) {
      const c = rowCell + colOf[x]!
      const s = c * 9
      const r0 = ref[i]!
      const r1 = ref[i + 1]!
      const r2 = ref[i + 2]!
      const t0 = test[i]!
      const t1 = test[i + 1]!
      const t2 = test[i + 2]!
      const d0 = r0 - t0
      const d1 = r1 - t1
      const d2 = r2 - t2
      sums[s] += r0
      sums[s + 1] += r1
      sums[s + 2] += r2
      sums[s + 3] += t0
      sums[s + 4] += t1
      sums[s + 5] += t2
      sums[s + 6] += d0 < 0 ? -d0 : d0
      sums[s + 7] += d1 < 0 ? -d1 : d1
      sums[s + 8] += d2 < 0 ? -d2 : d2
      counts[c]!++
      sse[heatRow + heatCol[x]!] += d0 * d0 + d1 * d1 + d2 * d2
    }
  }
  const rowBytes = p.width * 9
  const sprite = new Uint8Array(p.height * rowBytes)
  for (let py = 0; py < p.height; py++) {
    for (let px = 0; px < p.width; px++) {
      let c = py * p.width + px
      // Enlarged frames (narrower than 16 px) leave proxy pixels no source pixel fell in: nearest.
      if (counts[c] === 0) {
        const sy = Math.floor((py * height) / p.height)
        const sx = Math.floor((px * width) / p.width)
        c = Math.min(p.height - 1, Math.floor((sy * p.height) / height)) * p.width + colOf[sx]!
      }
      const n = counts[c]!
      const o = py * rowBytes + px * 3
      for (let k = 0; k < 3; k++) {
        sprite[o + k] = Math.round(sums[c * 9 + k]! / n)
        sprite[o + p.width * 3 + k] = Math.round(sums[c * 9 + 3 + k]! / n)
        sprite[o + p.width * 6 + k] = Math.min(255, Math.round((sums[c * 9 + 6 + k]! / n) * DIFF_GAIN))
      }
    }
  }
  const heat = new Uint8Array(g.cols * g.rows)
  for (let r = 0; r < g.rows; r++) {
    const ch = Math.min(g.cell, height - r * g.cell)
    for (let q = 0; q < g.cols; q++) {
      const cw = Math.min(g.cell, width - q * g.cell)
      heat[r * g.cols + q] = heatByte(sse[r * g.cols + q]!, cw * ch * 3)
    }
  }
  return { sprite, heat }
}
