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
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** What Python's safetensors reads from a file: metadata, and per tensor its dtype, shape and values. */
export interface PythonSafetensors {
  meta: Record<string, string> | null
  tensors: Record<string, { dtype: string; shape: number[]; values: (number | string)[] }>
}

/**
 * Reads a .safetensors file with Python's safetensors (torch): float16/bfloat16 values as their
 * 16 bits, int64 as strings, the rest as numbers.
 */
export function readSafetensorsInPython(file: string): PythonSafetensors {
  return JSON.parse(
    runPython(
      `
import json, sys, torch
from safetensors import safe_open
with safe_open(sys.argv[1], "pt") as f:
    meta = f.metadata()
    out = {}
    for k in f.keys():
        t = f.get_tensor(k)
        if t.dtype in (torch.float16, torch.bfloat16):
            values = (t.view(torch.int16).to(torch.int32) & 0xFFFF).flatten().tolist()
        elif t.dtype == torch.int64:
            values = [str(v) for v in t.flatten().tolist()]
        else:
            values = [float(v) if t.is_floating_point() else int(v) for v in t.flatten().tolist()]
        out[k] = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "values": values}
print(json.dumps({"meta": meta, "tensors": out}))
`,
      [file],
    ),
  ) as PythonSafetensors
}
