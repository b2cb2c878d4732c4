#!/usr/bin/env node
'use strict'
// npm's install step of the published package. With a prebuilt binary for this platform
// (prebuilds/, see scripts/prebuild.js) there is nothing to do: no compiler, and no libtorch
// needed yet (the first call finds one, or says to run `npx videovae setup`). Without one,
// or with --build-from-source, node-gyp compiles against the libtorch scripts/libtorch.js finds.

const { spawnSync } = require('child_process')
const path = require('path')

const root = path.resolve(__dirname, '..')

function prebuilt() {
  try {
    const file = require('node-gyp-build').path(root)
    return path.basename(path.dirname(path.dirname(file))) === 'prebuilds' ? file : null
  } catch {
    return null
  }
}

const fromSource = process.env.npm_config_build_from_source === 'true'
const binary = fromSource ? null : prebuilt()
if (binary) {
  console.log(`videovae: using the prebuilt ${path.relative(root, binary)} (no compile)`)
  process.exit(0)
}

console.log(`videovae: ${fromSource ? 'building from source' : `no prebuilt binary for ${process.platform}-${process.arch}; compiling`} (node-gyp)`)
try {
  require('./libtorch.js').locateLibtorch()
} catch (error) {
  console.error(`videovae: ${error.message}`)
  process.exit(1)
}
// npm runs install scripts with npm_config_node_gyp set to its bundled node-gyp.
const gyp = process.env.npm_config_node_gyp
const result = gyp
  ? spawnSync(process.execPath, [gyp, 'rebuild', '--release'], { cwd: root, stdio: 'inherit' })
  : spawnSync('node-gyp', ['rebuild', '--release'], { cwd: root, stdio: 'inherit', shell: true })
process.exit(result.status ?? 1)
