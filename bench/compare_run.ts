/**
 * Before / after on the same machine in one run: bench/vae.ts's Node measurement
 * (bench/node_run.ts: one process, warm-up, best of --repeat) of two checkouts, alternately
 * (A B, B A, A B...: drift in the machine's speed hits both alike), on the same bundles, input
 * and threads. Prints each round and the median ratio per runner; > 1.00x means B is faster.
 * bench/compare_refs.sh prepares checkout A from a git ref and calls this. Not a test.
 *
 *   node --import tsx bench/compare_run.ts --a DIR --b DIR [--configs ch32-smoke] [--rounds 3]
 *        [--repeat 1] [--threads 2] [--runners fast,exact] [--json]
 *
 * Configs as in bench/vae.ts (ch32-smoke 8x64x64, ch32-256 16x256x256, full-128 8x128x128),
 * with the parity fixtures' synthetic weights. Runners: fast, exact, fast-bf16.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { parityBundle, ROOT } from '../test/support/parity.js'
import { CONFIGS, inputFile, loadAverage } from './common.js'

const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string', default: ROOT },
    configs: { type: 'string', default: 'ch32-smoke' },
    rounds: { type: 'string', default: '3' },
    repeat: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    runners: { type: 'string', default: 'fast,exact' },
    json: { type: 'boolean', default: false },
  },
})

interface Times {
  encode_s: number
  decode_s: number
}

/** One node_run.ts of checkout `dir` (its own lib/ and addon). */
function nodeRun(dir: string, bundle: string, input: string, runner: string): Times {
  const args = [
    '--import',
    'tsx',
    path.join(dir, 'bench', 'node_run.ts'),
    '--bundle',
    bundle,
    '--input',
    input,
    '--repeat',
    values.repeat!,
    '--threads',
    values.threads!,
  ]
  if (runner === 'fast-bf16') args.push('--dtype', 'bfloat16')
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 24 })
  if (r.status !== 0) throw new Error(`${dir}: node_run.ts failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-5).join('\n')}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Times
}

const median = (v: number[]): number => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!

async function main(): Promise<void> {
  const a = path.resolve(values.a ?? '')
  const b = path.resolve(values.b!)
  if (!values.a || !fs.existsSync(path.join(a, 'bench', 'node_run.ts'))) throw new Error('--a must be a checkout with bench/node_run.ts')
  const log = (s: string): void => void (values.json ? process.stderr : process.stdout).write(s + '\n')
  log(`A ${a}\nB ${b}\nload average before: ${loadAverage()}`)
  const summary: Record<string, unknown>[] = []
  for (const name of values.configs!.split(',')) {
    const cfg = CONFIGS[name]
    if (!cfg) throw new Error(`unknown config ${name} (known: ${Object.keys(CONFIGS).join(', ')})`)
    const input = await inputFile(cfg.size)
    for (const runner of values.runners!.split(',')) {
      const bundle = parityBundle(cfg.case, runner === 'exact' ? 'exact' : 'fast')
      const ratios: { encode: number[]; decode: number[] } = { encode: [], decode: [] }
      for (let round = 0; round < Number(values.rounds); round++) {
        // Alternate the order so that a trend in the machine's speed favours neither side.
        const order = round % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)
        const t: Partial<Record<'A' | 'B', Times>> = {}
        for (const side of order) t[side] = nodeRun(side === 'A' ? a : b, bundle, input, runner)
        ratios.encode.push(t.A!.encode_s / t.B!.encode_s)
        ratios.decode.push(t.A!.decode_s / t.B!.decode_s)
        log(
          `${name} ${runner} round ${round + 1} (${order.join(' ')}): A ${t.A!.encode_s.toFixed(3)} / ${t.A!.decode_s.toFixed(3)} s, B ${t.B!.encode_s.toFixed(3)} / ${t.B!.decode_s.toFixed(3)} s (encode / decode)`,
        )
      }
      const row = { config: name, runner, encode_ratio: median(ratios.encode), decode_ratio: median(ratios.decode), rounds: ratios }
      summary.push(row)
      log(`${name} ${runner}: B vs A (median of ${values.rounds}): encode ${row.encode_ratio.toFixed(3)}x, decode ${row.decode_ratio.toFixed(3)}x`)
    }
  }
  log(`load average after: ${loadAverage()}`)
  if (values.json) console.log(JSON.stringify({ a, b, threads: Number(values.threads), repeat: Number(values.repeat), summary }))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
