/** Device strings: 'cpu', 'cuda' (= 'cuda:0') or 'cuda:N'. Availability is checked natively. */
import { VideoVaeError } from './errors.js'

export type Device = 'cpu' | 'cuda' | `cuda:${number}`

export function normalizeDevice(value: unknown): string {
  if (value === undefined || value === 'cpu') return 'cpu'
  if (value === 'cuda') return 'cuda:0'
  if (typeof value === 'string' && /^cuda:\d{1,3}$/.test(value)) return value
  throw new VideoVaeError('ERR_DEVICE', `unknown device ${JSON.stringify(value)} (use 'cpu', 'cuda' or 'cuda:N')`)
}
