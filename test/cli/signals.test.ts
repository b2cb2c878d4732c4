// SIGTERM and SIGHUP stop the command like ^C: the job is aborted, its temporary output is
// removed, and the exit code is 128 + the signal's number (143, 129). The signal is sent once
// the output's temporary file exists, i.e. while frames are being written.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import { cli, cliAsync, listing, makeVideo, tempDir } from './helpers.js'

describe('stop signals', () => {
  const dir = tempDir()
  const clip = makeVideo(path.join(dir, 'clip.mp4'), { width: 64, height: 64, frames: 32 })

  it('--help lists the exit codes of the three signals', () => {
    assert.match(cli(['--help']).stdout, /130 \/ 143 \/ 129 interrupted by SIGINT \/ SIGTERM \/ SIGHUP/)
  })

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    it(`${signal}: exit ${code}, the temporary output removed`, async () => {
      const outDir = path.join(dir, signal)
      fs.mkdirSync(outDir)
      let sent = false
      const r = await cliAsync(['reconstruct', clip, '-o', path.join(outDir, 'out.mp4'), '--chunk-frames', '4', '--threads', '1'], (child) => {
        const poll = setInterval(() => {
          if (listing(outDir).some((f) => f.includes('.tmp'))) {
            clearInterval(poll)
            sent = child.kill(signal)
          }
        }, 5)
        child.on('close', () => clearInterval(poll))
      })
      assert.ok(sent, `the run ended before its temporary output appeared: ${r.stderr}`)
      assert.equal(r.signal, null, `killed by ${r.signal} instead of handling it`)
      assert.equal(r.code, code, r.stderr)
      assert.match(r.stderr, new RegExp(`interrupted \\(${signal}\\)`))
      assert.match(r.stderr, /no partial output was left \(ERR_ABORTED\)/)
      assert.deepEqual(listing(outDir), [])
    })
  }
})
