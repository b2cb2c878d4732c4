// The progress bar's line and its silence off a terminal.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { formatDuration, Progress } from '../../lib/cli/progress.js'

class FakeStream {
  written = ''
  columns = 120
  write(s: string): boolean {
    this.written += s
    return true
  }
}

describe('progress', () => {
  it('formats durations', () => {
    assert.equal(formatDuration(0), '0:00')
    assert.equal(formatDuration(75.4), '1:15')
    assert.equal(formatDuration(3725), '1:02:05')
    assert.equal(formatDuration(Infinity), '--:--')
  })

  it('shows count, rate and ETA', () => {
    const stream = new FakeStream()
    const bar = new Progress({ label: 'encode', unit: 'frames', total: 40, enabled: true, stream: stream as unknown as NodeJS.WriteStream })
    const start = performance.now()
    bar.update(10)
    const line = bar.line(start + 2000)
    assert.match(line, /^encode {4}\s*\[######-+\] {2}10\/40 frames {2}5\.0 frames\/s {2}ETA 0:06$/)
    bar.update(40)
    assert.match(stream.written, /40\/40 frames/)
    bar.finish()
    assert.ok(stream.written.endsWith('\r\x1b[2K'))
    const before = stream.written
    bar.update(41) // late callbacks after finish draw nothing
    assert.equal(stream.written, before)
  })

  it('draws nothing when disabled', () => {
    const stream = new FakeStream()
    const bar = new Progress({ label: 'read', unit: 'frames', enabled: false, stream: stream as unknown as NodeJS.WriteStream })
    bar.update(5)
    bar.finish()
    assert.equal(stream.written, '')
  })
})
