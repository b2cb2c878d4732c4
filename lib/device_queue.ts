/**
 * A small semaphore per device. Module jobs (load, forward, call) run on libuv's thread pool;
 * without a limit a burst of GPU calls would occupy every pool thread while they wait on the
 * GPU, starving fs and dns work. CUDA devices run one job at a time by default (the GPU
 * serialises them anyway); CPU jobs may use all pool threads but one.
 */
import { VideoVaeError } from './errors.js'

const poolSize = Math.max(1, Number(process.env.UV_THREADPOOL_SIZE) || 4)

const limits: Record<'cpu' | 'cuda', number> = {
  cpu: Math.max(1, poolSize - 1),
  cuda: 1,
}

class DeviceQueue {
  private running = 0
  private readonly waiting: (() => void)[] = []

  constructor(private readonly kind: 'cpu' | 'cuda') {}

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= limits[this.kind]) await new Promise<void>((resolve) => this.waiting.push(resolve))
    this.running++
    try {
      return await job()
    } finally {
      this.running--
      this.waiting.shift()?.()
    }
  }
}

const queues = new Map<string, DeviceQueue>()

/** Runs `job` when `device` ('cpu', 'cuda:N') has a free slot. */
export function runOnDevice<T>(device: string, job: () => Promise<T>): Promise<T> {
  let queue = queues.get(device)
  if (!queue) {
    queue = new DeviceQueue(device === 'cpu' ? 'cpu' : 'cuda')
    queues.set(device, queue)
  }
  return queue.run(job)
}

/** How many module jobs may run at once per device of a kind (default: cpu = pool size - 1, cuda = 1). */
export function setDeviceConcurrency(kind: 'cpu' | 'cuda', jobs: number): void {
  if (kind !== 'cpu' && kind !== 'cuda') throw new VideoVaeError('ERR_ARGUMENT', `device kind must be 'cpu' or 'cuda', got ${String(kind)}`)
  if (!Number.isInteger(jobs) || jobs < 1) throw new VideoVaeError('ERR_ARGUMENT', `jobs must be a positive integer, got ${String(jobs)}`)
  limits[kind] = jobs
}

/** How many module jobs may run at once on a device kind (AOTInductor runner pools are sized to it). */
export function deviceConcurrency(kind: 'cpu' | 'cuda'): number {
  return limits[kind]
}
