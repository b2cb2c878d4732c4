#!/usr/bin/env node
'use strict'
// Finds the SentencePiece C++ library (the caption tokenizer) for binding.gyp and
// CMakeLists.txt, and fails with what to install when it is missing.
//
// Search order: env SENTENCEPIECE_DIR (a prefix holding include/ and lib/, e.g. a build of
// the registry package), then the system (Debian: apt-get install libsentencepiece-dev).
//
// CLI: node scripts/sentencepiece.js <field>   include | cflags | libs | json

const fs = require('fs')
const path = require('path')

const HEADER = 'sentencepiece_processor.h'
const SYSTEM_PREFIXES = ['/usr', '/usr/local']
const LIBDIRS = ['lib', 'lib64', 'lib/x86_64-linux-gnu', 'lib/aarch64-linux-gnu']

const MISSING =
  'SentencePiece (the caption tokenizer library) was not found: install it with ' +
  '`apt-get install libsentencepiece-dev` (Debian/Ubuntu), or build it and set ' +
  'SENTENCEPIECE_DIR to the prefix that holds include/sentencepiece_processor.h and lib/libsentencepiece.so'

function locate(env = process.env) {
  const prefixes = env.SENTENCEPIECE_DIR ? [path.resolve(env.SENTENCEPIECE_DIR)] : SYSTEM_PREFIXES
  for (const prefix of prefixes) {
    const include = path.join(prefix, 'include')
    if (!fs.existsSync(path.join(include, HEADER))) continue
    const libdir = LIBDIRS.map((d) => path.join(prefix, d)).find((d) => fs.existsSync(path.join(d, 'libsentencepiece.so')))
    if (libdir) return { include, libdir }
  }
  throw new Error(MISSING)
}

module.exports = { locate, MISSING }

if (require.main === module) {
  try {
    const found = locate()
    const system = SYSTEM_PREFIXES.some((p) => found.include === path.join(p, 'include'))
    const fields = {
      include: found.include,
      // System headers need no flag; a custom prefix gets -isystem and an rpath.
      cflags: system ? '' : `-isystem ${found.include}`,
      libs: system ? '-lsentencepiece' : `-L${found.libdir} -Wl,-rpath,${found.libdir} -lsentencepiece`,
      json: JSON.stringify(found),
    }
    const field = process.argv[2] ?? 'json'
    if (!(field in fields)) throw new Error(`unknown field ${field} (include | cflags | libs | json)`)
    process.stdout.write(fields[field] + '\n')
  } catch (err) {
    process.stderr.write(`videovae build: ${err.message}\n`)
    process.exit(1)
  }
}
