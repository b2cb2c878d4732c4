// The published package carries the embedded default model and the sample clip of the README's
// main job: every file the default bundle's manifest lists, and the manifest itself.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { ROOT } from '../support/parity.js'

test('npm pack includes the default bundle and the sample clip', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
  const packed = new Set((JSON.parse(out.toString()) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path))
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'assets', 'default-bundle', 'manifest.json'), 'utf8'))
  const wanted = [
    'assets/default-bundle/manifest.json',
    ...Object.values(manifest.files as Record<string, { path: string }>).map((f) => `assets/default-bundle/${f.path}`),
    'assets/sample/dandelions_256.mp4',
  ]
  assert.ok(wanted.length >= 6)
  for (const file of wanted) assert.ok(packed.has(file), `${file} is not in the package`)
})

test('npm pack includes every script that binding.gyp and the install step run', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
  const packed = new Set((JSON.parse(out.toString()) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path))
  const gyp = fs.readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8')
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { install: string } }
  const scripts = new Set([...`${gyp}\n${pkg.scripts.install}`.matchAll(/node (scripts\/[\w-]+\.js)/g)].map((m) => m[1]!))
  assert.ok(scripts.has('scripts/sentencepiece.js') && scripts.has('scripts/install.js'), [...scripts].join(' '))
  for (const script of scripts) assert.ok(packed.has(script), `${script} is not in the package`)
})
