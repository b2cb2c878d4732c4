/**
 * Read-ahead for chunked video reads: hands out what `source` yields, and asks it for the next
 * item as soon as one is handed out. ffmpeg then decodes chunk k+1 while the model runs on
 * chunk k (without it, the decoder stalls on a full pipe as soon as the consumer is busy).
 * Holds at most one item beyond the one being consumed.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]()
  let next = it.next()
  let done = false
  try {
    for (;;) {
      const r = await next
      if (r.done === true) {
        done = true
        return
      }
      next = it.next()
      // A failure of the read ahead surfaces at the next turn; until then it must not count as unhandled.
      next.catch(() => undefined)
      yield r.value
    }
  } finally {
    // The consumer stopped early (break, error): close the source once its pending read settles.
    if (!done) {
      await next.catch(() => undefined)
      await it.return?.()
    }
  }
}
