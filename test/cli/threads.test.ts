// Issue 27: `--threads 100000` exited 139 (OpenMP could not create the threads and the process
// crashed); it is now a usage error (exit 2) naming the maximum. No model runs here.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { maxThreads } from '../../lib/index.js'
import { cli } from './helpers.js'

describe('--threads above the maximum is a usage error', () => {
  const commands: [string, string[]][] = [
    ['encode', ['encode', 'in.mp4', '-o', 'x.safetensors']],
    ['reconstruct', ['reconstruct', 'in.mp4', '-o', 'x.mp4']],
    ['embed-text', ['embed-text', '--bundle', 'b', '-o', 'x.safetensors', 'a dog']],
    ['eval', ['eval', 'a.mp4', 'b.mp4']],
  ]
  for (const [name, args] of commands) {
    it(name, () => {
      const r = cli([...args, '--threads', '100000'])
      assert.equal(r.signal, null)
      assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`)
      assert.match(r.stderr, new RegExp(`^videovae: .*--threads must be at most ${maxThreads()} .*\\(ERR_USAGE\\)\\n$`))
    })
  }
})
