#!/usr/bin/env node
'use strict'
// The `videovae` command. In a git checkout (lib/cli/main.ts beside a tsx install) it runs
// the TypeScript sources through tsx, so it never runs a stale build; in the installed
// package it runs the compiled dist/cjs/cli/main.js.
const fs = require('fs')
const path = require('path')

const root = path.join(__dirname, '..')
const source = path.join(root, 'lib', 'cli', 'main.ts')
const built = path.join(root, 'dist', 'cjs', 'cli', 'main.js')

function tsxApi() {
  try {
    return require(require.resolve('tsx/cjs/api', { paths: [root] }))
  } catch {
    return null
  }
}

const tsx = fs.existsSync(source) && !process.env.VIDEOVAE_CLI_DIST ? tsxApi() : null
if (tsx) {
  tsx.register()
  require(source).run()
} else if (fs.existsSync(built)) {
  require(built).run()
} else {
  process.stderr.write(
    'videovae: the command is not built (dist/cjs/cli/main.js is missing) and tsx is not installed; ' + 'run npm run build (ERR_NOT_BUILT)\n',
  )
  process.exit(1)
}
