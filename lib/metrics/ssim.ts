/**
 * SSIM of 8-bit frames, as the VideoVAE+ evaluation computes it: skimage's
 * `structural_similarity(ref, test, data_range = ref.max() - ref.min(), channel_axis=-1)` with its
 * defaults (7x7 uniform window, K1 = 0.01, K2 = 0.03, sample covariance N/(N-1) with N = 49, the
 * SSIM map averaged per channel with a 3-pixel border cropped, then averaged over channels), and
 * 1.0 when either frame is constant.
 *
 * Window sums are running integer sums (exact), so the result matches skimage to ~1e-12; the map
 * is computed only where skimage keeps it (windows fully inside the frame), so skimage's border
 * mode does not matter.
 */

/** Options of {@link ssim}. */
export interface SsimOptions {
  /** Interleaved channels per pixel (`[H,W,C]` layout). Default: 3. */
  channels?: number
  /**
   * Dynamic range `R` in `C1 = (K1·R)²`, `C2 = (K2·R)²`. Default: the reference frame's own range,
   * `max(ref) - min(ref)` over all channels (the official protocol), not 255.
   */
  dataRange?: number
  /**
   * Return 1.0 when either frame is constant (every value equal to its first), as the video
   * evaluation script does. With false the plain skimage value is returned (NaN for a constant
   * reference, as skimage). Default: true.
   */
  constantIsOne?: boolean
}

const WIN = 7
/** Side of SSIM's square window: frames smaller than it in either direction have no SSIM. */
export const SSIM_WINDOW = WIN

/**
 * Why frames of `width` x `height` have no SSIM (a side below the 7-pixel window), or null when
 * they have one. The CLI reports PSNR alone for such frames and says so with this text.
 */
export function ssimUndefinedReason(width: number, height: number): string | null {
  return width < WIN || height < WIN ? `${width}x${height} frames are smaller than SSIM's ${WIN}x${WIN} window` : null
}
const NP = WIN * WIN // 49
const PAD = (WIN - 1) >> 1 // 3
const K1 = 0.01
const K2 = 0.03

/**
 * Mean SSIM of `test` against `ref`, two `[H,W,C]` 8-bit frames of `width` x `height`.
 * @throws RangeError when the sizes do not match or a side is smaller than 7.
 */
export function ssim(ref: Uint8Array, test: Uint8Array, width: number, height: number, options: SsimOptions = {}): number {
  const C = options.channels ?? 3
  if (!(Number.isInteger(C) && C > 0)) throw new RangeError(`ssim: channels must be a positive integer, got ${C}`)
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`ssim: bad size ${width}x${height}`)
  }
  const n = width * height * C
  if (ref.length !== n || test.length !== n) {
    throw new RangeError(`ssim: expected ${n} values per frame (${height}x${width}x${C}), got ${ref.length} and ${test.length}`)
  }
  if (width < WIN || height < WIN) {
    throw new RangeError(`ssim: frames must be at least ${WIN}x${WIN}, got ${width}x${height}`)
  }

  let lo = 255
  let hi = 0
  let refConst = true
  let testConst = true
  const r0 = ref[0] as number
  const t0 = test[0] as number
  for (let i = 0; i < n; i++) {
    const a = ref[i] as number
    if (a < lo) lo = a
    if (a > hi) hi = a
    if (a !== r0) refConst = false
    if ((test[i] as number) !== t0) testConst = false
  }
  if ((options.constantIsOne ?? true) && (refConst || testConst)) return 1.0
  const R = options.dataRange ?? hi - lo
  // S = (2·ux·uy + C1)(2·vxy + C2) / ((ux² + uy² + C1)(vx + vy + C2)) with ux = Σx/49 and
  // v = (49·Σxx − (Σx)²)/(49·48): numerator and denominator are scaled by 49² and 49·48.
  const c1 = (K1 * R) ** 2 * NP * NP
  const c2 = (K2 * R) ** 2 * NP * (NP - 1)

  const ow = width - 2 * PAD
  const oh = height - 2 * PAD
  const ringX = new Int32Array(WIN * ow)
  const ringY = new Int32Array(WIN * ow)
  const ringXX = new Int32Array(WIN * ow)
  const ringYY = new Int32Array(WIN * ow)
  const ringXY = new Int32Array(WIN * ow)
  const accX = new Int32Array(ow)
  const accY = new Int32Array(ow)
  const accXX = new Int32Array(ow)
  const accYY = new Int32Array(ow)
  const accXY = new Int32Array(ow)
  const rowStride = width * C

  let total = 0
  for (let ch = 0; ch < C; ch++) {
    accX.fill(0)
    accY.fill(0)
    accXX.fill(0)
    accYY.fill(0)
    accXY.fill(0)
    let sum = 0
    for (let r = 0; r < height; r++) {
      const base = (r % WIN) * ow
      const old = r >= WIN
      let p = r * rowStride + ch
      // Sums over the first window of the row.
      let sx = 0
      let sy = 0
      let sxx = 0
      let syy = 0
      let sxy = 0
      for (let k = 0; k < WIN; k++) {
        const a = ref[p + k * C] as number
        const b = test[p + k * C] as number
        sx += a
        sy += b
        sxx += a * a
        syy += b * b
        sxy += a * b
      }
      for (let i = 0; i < ow; i++) {
        if (i > 0) {
          const a0 = ref[p] as number
          const b0 = test[p] as number
          const q = p + WIN * C
          const a1 = ref[q] as number
          const b1 = test[q] as number
          sx += a1 - a0
          sy += b1 - b0
          sxx += a1 * a1 - a0 * a0
          syy += b1 * b1 - b0 * b0
          sxy += a1 * b1 - a0 * b0
          p += C
        }
        const j = base + i
        if (old) {
          accX[i] = (accX[i] as number) - (ringX[j] as number) + sx
          accY[i] = (accY[i] as number) - (ringY[j] as number) + sy
          accXX[i] = (accXX[i] as number) - (ringXX[j] as number) + sxx
          accYY[i] = (accYY[i] as number) - (ringYY[j] as number) + syy
          accXY[i] = (accXY[i] as number) - (ringXY[j] as number) + sxy
        } else {
          accX[i] = (accX[i] as number) + sx
          accY[i] = (accY[i] as number) + sy
          accXX[i] = (accXX[i] as number) + sxx
          accYY[i] = (accYY[i] as number) + syy
          accXY[i] = (accXY[i] as number) + sxy
        }
        ringX[j] = sx
        ringY[j] = sy
        ringXX[j] = sxx
        ringYY[j] = syy
        ringXY[j] = sxy
      }
      if (r >= WIN - 1) {
        for (let i = 0; i < ow; i++) {
          const x = accX[i] as number
          const y = accY[i] as number
          const xy = x * y
          const xx = x * x
          const yy = y * y
          const vx = NP * (accXX[i] as number) - xx
          const vy = NP * (accYY[i] as number) - yy
          const vxy = NP * (accXY[i] as number) - xy
          sum += ((2 * xy + c1) * (2 * vxy + c2)) / ((xx + yy + c1) * (vx + vy + c2))
        }
      }
    }
    total += sum / (ow * oh)
  }
  return total / C
}
