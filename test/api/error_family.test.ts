// One error family: every error class the package exports is a VideoVaeError with a code from
// one vocabulary (ErrorCode in lib/errors.ts), and the README's "Error codes" table lists exactly
// those codes with the CLI exit code each really leads to.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import * as api from '../../lib/index.js'
import * as batch from '../../lib/batch/index.js'
import * as io from '../../lib/io/index.js'
import * as cliErrors from '../../lib/cli/errors.js'
import { BatchError, VideoIOError, VideoVaeError } from '../../lib/index.js'
import { CliError, EXIT, errorCode, exitCodeOf, usageError } from '../../lib/cli/errors.js'

const root = path.join(__dirname, '..', '..')

/** The codes of the ErrorCode union, each with the doc comment on the line above it. */
function errorCodes(): Map<string, string> {
  const source = fs.readFileSync(path.join(root, 'lib', 'errors.ts'), 'utf8')
  const union = source.slice(source.indexOf('export type ErrorCode'), source.indexOf('export class'))
  const lines = union.split('\n').map((l) => l.trim())
  const codes = new Map<string, string>()
  lines.forEach((line, i) => {
    const m = /^\| '(ERR_[A-Z_]+)'$/.exec(line)
    if (m) codes.set(m[1]!, /^\/\*\*.+\*\/$/.test(lines[i - 1]!) ? lines[i - 1]! : '')
  })
  return codes
}

/** The rows of the README table under "## Error codes": code -> CLI exit code. */
function readmeTable(): Map<string, number> {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
  const start = readme.indexOf('\n## Error codes\n')
  assert.ok(start >= 0, 'README has no "## Error codes" section')
  const section = readme.slice(start + 1, readme.indexOf('\n## ', start + 1))
  const rows = new Map<string, number>()
  for (const m of section.matchAll(/^\| `(ERR_[A-Z_]+)` \|.+\| (\d+) \|$/gm)) {
    assert.ok(!rows.has(m[1]!), `${m[1]} twice in the table`)
    rows.set(m[1]!, Number(m[2]))
  }
  return rows
}

test('every ErrorCode has a doc comment, and the README table lists exactly those codes', () => {
  const codes = errorCodes()
  assert.ok(codes.size >= 40, `only ${codes.size} codes parsed`)
  for (const [code, doc] of codes) assert.notEqual(doc, '', `${code} has no doc comment`)
  assert.ok(!codes.has('ERR_INVALID_ARG'), 'ERR_INVALID_ARG is ERR_ARGUMENT now')
  assert.deepEqual([...readmeTable().keys()].sort(), [...codes.keys()].sort())
})

test("the README table's exit codes are the ones the CLI gives", () => {
  for (const [code, exit] of readmeTable()) {
    const error = code === 'ERR_USAGE' ? usageError('x') : new VideoVaeError(code as api.ErrorCode, 'x')
    assert.equal(exitCodeOf(error), exit, code)
  }
})

test('every exported error class extends VideoVaeError', () => {
  const found = new Set<string>()
  for (const mod of [api, io, batch, cliErrors] as Record<string, unknown>[]) {
    for (const [name, value] of Object.entries(mod)) {
      if (typeof value !== 'function' || !(value.prototype instanceof Error || value === VideoVaeError)) continue
      found.add(name)
      assert.ok(value === VideoVaeError || value.prototype instanceof VideoVaeError, `${name} does not extend VideoVaeError`)
    }
  }
  assert.deepEqual([...found].sort(), ['BatchError', 'CliError', 'VideoIOError', 'VideoVaeError'])
})

test('subclasses keep their names, fields and exit codes, and always carry a code', () => {
  const codes = errorCodes()
  const cause = new Error('inner')
  const ioError = new VideoIOError('ERR_WRITE', 'disk full', { path: '/x.mp4', stderr: 'ffmpeg: no space', exitCode: 1, cause })
  const batchError = new BatchError('ERR_MANIFEST', 'bad manifest')
  const cliError = new CliError('ERR_OUTPUT', 'not a directory', EXIT.FAILURE)
  for (const [error, name, code] of [
    [ioError, 'VideoIOError', 'ERR_WRITE'],
    [batchError, 'BatchError', 'ERR_MANIFEST'],
    [cliError, 'CliError', 'ERR_OUTPUT'],
    [usageError('no input'), 'CliError', 'ERR_USAGE'],
  ] as const) {
    assert.ok(error instanceof VideoVaeError && error instanceof Error, name)
    assert.equal(error.name, name)
    assert.equal(error.code, code)
    assert.ok(codes.has(error.code), `${error.code} is not an ErrorCode`)
    assert.equal(errorCode(error), code)
  }
  assert.deepEqual([ioError.path, ioError.stderr, ioError.exitCode, ioError.cause], ['/x.mp4', 'ffmpeg: no space', 1, cause])
  assert.equal(exitCodeOf(ioError), EXIT.FAILURE)
  assert.equal(exitCodeOf(usageError('x')), EXIT.USAGE)
  assert.equal(exitCodeOf(new BatchError('ERR_ARGUMENT', 'x')), EXIT.FAILURE)
})

test('lib/io raises ERR_ARGUMENT, not ERR_INVALID_ARG', async () => {
  await assert.rejects(io.writeImage('/nonexistent-dir/x.png', new Uint8Array(10), 8, 8), (error: unknown) => {
    assert.ok(error instanceof VideoIOError && error instanceof VideoVaeError)
    assert.equal(error.code, 'ERR_ARGUMENT')
    return true
  })
})
