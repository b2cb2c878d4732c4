// Build-time Python for tests: the project's .venv (torch, safetensors), made by scripts/setup.sh.
import { execFileSync } from 'node:child_process'
import path from 'node:path'

export const repoRoot = path.resolve(__dirname, '../../..')
export const pythonBin = path.join(repoRoot, '.venv', 'bin', 'python')

/** Runs a Python snippet with arguments; returns stdout. Same thread count as the Node side. */
export function runPython(code: string, args: string[] = []): string {
  return execFileSync(pythonBin, ['-c', code, ...args], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '2' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
}
