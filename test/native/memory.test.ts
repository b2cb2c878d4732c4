// Leaks: 1,000 create/forward/dispose cycles return every counter to zero and keep RSS flat;
// handles dropped without dispose() are freed by their finalizers once garbage-collected. The
// host cache reuses large blocks during and between jobs, holds nothing once idle, and changes
// no result.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { test } from 'node:test'
import v8 from 'node:v8'
import vm from 'node:vm'

import { memory, Tensor, TorchModule, type HostCacheInfo } from '../../lib/index.js'
import { spinDigest } from './fixtures/spin_child.js'

/** memory() without the transfer counters, which only grow (the live counters must come back). */
function withoutTransfers(m: ReturnType<typeof memory>): Omit<ReturnType<typeof memory>, 'transfers'> {
  const { transfers: _transfers, ...live } = m
  return live
}

function liveCounters(): Omit<ReturnType<typeof memory>, 'transfers'> {
  return withoutTransfers(memory())
}
import { fixtures } from './helpers/fixtures.js'

/** RSS growth allowed over 900 measured cycles (after 100 warm-up cycles). */
const RSS_BOUND_MB = 24

function gcFunction(): () => void {
  // A synchronous full collection (gc() with no options returns nothing, not a promise).
  const exposed = globalThis.gc
  if (typeof exposed === 'function') return () => exposed()
  v8.setFlagsFromString('--expose-gc')
  return vm.runInNewContext('gc') as () => void
}

/** Collects until the finalizers (which run after GC, off the GC pass) brought `done` about. */
async function collectUntil(done: () => boolean): Promise<void> {
  const gc = gcFunction()
  for (let i = 0; i < 50 && !done(); i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

test('1,000 create/forward/dispose cycles: live tensors back to zero, RSS flat', async () => {
  const start = memory()
  const net = await TorchModule.load(fixtures().convnet)
  const input = new Float32Array(1 * 3 * 16 * 16).map((_, i) => Math.sin(i))
  let rssAfterWarmup = 0
  const t0 = performance.now()
  for (let cycle = 0; cycle < 1000; cycle++) {
    const x = Tensor.from(input, [1, 3, 16, 16])
    const y = (await net.forward(x)) as Tensor
    const data = await y.data()
    assert.equal(data.length, 4 * 16 * 16)
    x.dispose()
    y.dispose()
    if (cycle === 99) {
      await collectUntil(() => false)
      rssAfterWarmup = process.memoryUsage().rss
    }
  }
  const perCycle = (performance.now() - t0) / 1000
  net.dispose()
  await collectUntil(() => false)
  const growthMb = (process.memoryUsage().rss - rssAfterWarmup) / 2 ** 20
  console.log(`cycles: ${perCycle.toFixed(2)} ms/cycle, RSS growth after warm-up ${growthMb.toFixed(1)} MB (bound ${RSS_BOUND_MB} MB)`)
  assert.deepEqual(liveCounters(), withoutTransfers(start))
  assert.ok(growthMb < RSS_BOUND_MB, `RSS grew by ${growthMb.toFixed(1)} MB`)
})

test('handles garbage-collected without dispose() are freed by the finalizer', async () => {
  const before = memory()
  ;(() => {
    for (let i = 0; i < 100; i++) Tensor.from(new Float32Array(1024), [1024], { copy: i % 2 === 0 })
  })()
  assert.equal(memory().tensors, before.tensors + 100)
  assert.equal(memory().hostBytes, before.hostBytes + 100 * 4096)
  await collectUntil(() => memory().tensors === before.tensors)
  assert.deepEqual(liveCounters(), withoutTransfers(before))
})

test('module handles are freed by the finalizer too', async () => {
  const before = memory().modules
  await (async () => {
    await TorchModule.load(fixtures().toolbox)
  })()
  assert.equal(memory().modules, before + 1)
  await collectUntil(() => memory().modules === before)
  assert.equal(memory().modules, before)
})

test('a zero-copy buffer is released even when a worker thread drops the last reference', async () => {
  const box = await TorchModule.load(fixtures().toolbox)
  let collected = false
  const registry = new FinalizationRegistry(() => {
    collected = true
  })
  const call = (() => {
    const buffer = new Float32Array(256 * 256).fill(0.01)
    registry.register(buffer.buffer, 'input')
    const x = Tensor.from(buffer, [256, 256])
    const pending = box.call('spin', x, 200)
    x.dispose() // the running job now holds the only reference, and drops it on its thread
    return pending
  })()
  ;((await call) as Tensor).dispose()
  await collectUntil(() => collected)
  assert.equal(collected, true, 'the ArrayBuffer behind a zero-copy tensor was never released')
  box.dispose()
})

test('the host cache serves large blocks from freed ones during a job, is empty when idle, changes no result', async () => {
  const before = memory().hostCache
  assert.equal(before.enabled, true)
  const digest = await spinDigest(fixtures().toolbox) // 20 iterations x 2 fresh 4 MiB tensors
  const after = memory().hostCache
  assert.ok(after.hits - before.hits >= 30, `hits ${after.hits - before.hits}, misses ${after.misses - before.misses}`)
  assert.ok(after.misses - before.misses <= 6, `misses ${after.misses - before.misses}`)
  assert.ok(after.peakCachedBytes >= 4 * 2 ** 20)
  // Kept for the next call for a while (VIDEOVAE_HOST_CACHE_IDLE_MS, 2 s by default), then released.
  assert.ok(after.cachedBytes >= 4 * 2 ** 20, `warm memory kept after the job: ${after.cachedBytes}`)
  assert.equal(await spinDigest(fixtures().toolbox), digest)
  const again = memory().hostCache
  assert.ok(again.misses - after.misses <= 1, `a call right after reuses the warm blocks (misses ${again.misses - after.misses})`)
  const idleStart = performance.now()
  while (memory().hostCache.cachedBytes > 0 && performance.now() - idleStart < 10_000) await new Promise((resolve) => setTimeout(resolve, 50))
  const idleMs = performance.now() - idleStart
  assert.equal(memory().hostCache.cachedBytes, 0, 'everything cached goes back to the system once idle')
  assert.ok(idleMs > 1500, `released after ${idleMs.toFixed(0)} ms idle, expected about 2000`)

  const child = path.join(__dirname, 'fixtures', 'spin_child.ts')
  const runChild = (env: Record<string, string>) =>
    JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', child, fixtures().toolbox], { encoding: 'utf8', env: { ...process.env, ...env } })) as {
      digest: string
    } & HostCacheInfo
  const off = runChild({ VIDEOVAE_HOST_CACHE: '0' })
  assert.deepEqual([off.digest, off.enabled, off.maxCachedBytes], [digest, false, null], 'VIDEOVAE_HOST_CACHE=0 turns it off, with bit-identical results')
  assert.equal(before.maxCachedBytes, null, 'uncapped by default')

  // A cap of 5 MiB holds one 4 MiB block: the second freed block of an iteration goes back.
  const capped = runChild({ VIDEOVAE_HOST_CACHE_MAX_MB: '5' })
  assert.equal(capped.digest, digest)
  assert.equal(capped.maxCachedBytes, 5 * 2 ** 20)
  assert.ok(capped.peakCachedBytes <= 5 * 2 ** 20 && capped.peakCachedBytes >= 4 * 2 ** 20, `peak cached ${capped.peakCachedBytes}`)
  assert.ok(capped.hits >= 15, `still served from the cache: hits ${capped.hits}, misses ${capped.misses}`)
})
