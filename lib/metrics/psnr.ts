/**
 * PSNR of 8-bit frames, as the VideoVAE+ evaluation computes it: MSE of the values scaled to
 * [0,1] in float64, over every pixel and channel; 100 when the MSE is below 1e-10, else
 * `20·log10(1/sqrt(mse))`.
 */

/** Mean squared error of two equal-length 8-bit arrays, on the [0,1] scale (float64). */
export function mse01(ref: Uint8Array, test: Uint8Array): number {
  if (ref.length !== test.length) {
    throw new RangeError(`mse01: lengths differ (${ref.length} vs ${test.length})`)
  }
  if (ref.length === 0) throw new RangeError('mse01: empty input')
  // Integer sums are exact (< 2^53 for any realistic frame); blocks keep them in small-int range.
  let total = 0
  const n = ref.length
  const block = 1 << 14 // 16384 * 255^2 < 2^31
  for (let b = 0; b < n; b += block) {
    const end = Math.min(n, b + block)
    let s = 0
    for (let i = b; i < end; i++) {
      const d = (ref[i] as number) - (test[i] as number)
      s += d * d
    }
    total += s
  }
  return total / (65025 * n)
}

/** PSNR in dB of `test` against `ref` (8-bit, same length, any layout). */
export function psnr(ref: Uint8Array, test: Uint8Array): number {
  const mse = mse01(ref, test)
  if (mse < 1e-10) return 100
  return 20 * Math.log10(1 / Math.sqrt(mse))
}
