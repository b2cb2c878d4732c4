/**
 * The user's onProgress as the native job sees it: the job's progress thread-safe function
 * swallows whatever a callback throws, and a rejected promise from an async callback would be
 * an unhandled rejection. The guard catches both, stops the job (through its cancel token) and
 * keeps the first error, which the call then rejects with.
 */
export type ProgressCallback = (done: number, total: number) => unknown

export class ProgressGuard {
  #failure: { error: unknown } | null = null

  constructor(
    private readonly onProgress: ProgressCallback,
    private readonly stop: () => void,
  ) {}

  /** What the native job calls after each unit. */
  readonly report = (done: number, total: number): void => {
    if (this.#failure) return
    try {
      const result = this.onProgress(done, total)
      if (isThenable(result)) result.then(undefined, (error: unknown) => this.#fail(error))
    } catch (error) {
      this.#fail(error)
    }
  }

  /** The callback's first error, once it threw or rejected. */
  get failure(): { error: unknown } | null {
    return this.#failure
  }

  /**
   * Waits for the reports the job queued before it ended: the job's completion reaches the
   * event loop just before its last reports do, so they run within the next loop turn.
   */
  async drain(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve))
  }

  #fail(error: unknown): void {
    if (this.#failure) return
    this.#failure = { error }
    this.stop()
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function'
}
