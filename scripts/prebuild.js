#!/usr/bin/env node
'use strict'
// `npm run prebuild`: prebuildify into prebuilds/<platform>-<arch>/, with a file name that
// says which libtorch the binary needs, e.g. videovae.libtorch-2.13.0-cpu.glibc.node
// (node-gyp-build ignores the extra tags; lib/native_loader.ts reads them).
// `node scripts/prebuild.js --dry-run` prints the prebuildify command only.

const { execFileSync } = require('child_process')
const fs = require('fs')
const path = require('path')
const { locateLibtorch, describeLibtorch, libtorchTag } = require('./libtorch.js')

const root = path.resolve(__dirname, '..')
const libtorch = describeLibtorch(locateLibtorch().root)
const args = [
  require.resolve('prebuildify/bin.js', { paths: [root] }),
  '--napi',
  '--strip',
  '--tag-libc',
  `--target=node@${process.versions.node}`,
  `--name=videovae.${libtorchTag(libtorch)}`
]

const env = { ...process.env }
const prefix = path.resolve(path.dirname(process.execPath), '..')
if (!env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  env.npm_config_nodedir = prefix // local headers: no download
}
if (process.env.npm_config_node_gyp) env.PREBUILD_NODE_GYP = process.env.npm_config_node_gyp
env.JOBS = env.JOBS || '2'

if (process.argv.includes('--dry-run')) {
  console.log(JSON.stringify({ args: args.slice(1), nodedir: env.npm_config_nodedir ?? null }))
} else {
  console.log(`[prebuild] libtorch ${libtorch.version} (${libtorch.flavour})`)
  execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit', env })
  // The caption tokenizer library is loaded from beside the addon (cpp/spm/spm_bridge.h).
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`)
  fs.copyFileSync(path.join(root, 'build', 'Release', 'videovae_spm.so'), path.join(dir, 'videovae_spm.so'))
}
