// Issue 27: terminating a worker thread while it runs a native job (load, encode, decode,
// data()) used to abort the whole process (a Napi::Error thrown while the worker's
// environment was torn down reached std::terminate). The scenario runs in a child process.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { test } from 'node:test'

const SCENARIO = path.join(__dirname, 'fixtures', 'terminate_scenario.ts')

test('terminating workers mid-job (each job kind, then a pool killed at random) leaves the process alive', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', SCENARIO, '4', '27'], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
    timeout: 240_000,
  })
  assert.equal(run.signal, null, `killed by ${run.signal}: ${run.stderr}`)
  assert.equal(run.status, 0, run.stderr)
  const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { shape: number[]; memory: { tensors: number; modules: number } }
  assert.deepEqual(out.shape, [1, 16, 1, 2, 2], 'the addon still runs jobs in the main thread')
  assert.deepEqual([out.memory.tensors, out.memory.modules], [0, 0], 'no handle of a terminated worker is left')
})
