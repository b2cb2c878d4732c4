/** Where outputs go: checks made before any work starts, so a bad path fails in a second. */
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs'
import path from 'node:path'

import { findImageSequence, isImageSequencePath } from '../io/image_sequence.js'
import { CliError, usageError } from './errors.js'

/** Fails unless `dir` is an existing, writable directory. */
export function checkWritableDir(dir: string, what = 'output directory'): void {
  let isDir = false
  try {
    isDir = statSync(dir).isDirectory()
  } catch {
    throw new CliError('ERR_OUTPUT', `the ${what} ${dir} does not exist`)
  }
  if (!isDir) throw new CliError('ERR_OUTPUT', `the ${what} ${dir} is not a directory`)
  try {
    accessSync(dir, constants.W_OK)
  } catch {
    throw new CliError('ERR_OUTPUT', `cannot write to the ${what} ${dir} (permission denied)`)
  }
}

/** Fails unless the file `file` can be created (its directory exists and is writable). */
export function checkWritableFile(file: string): void {
  if (existsSync(file) && statSync(file).isDirectory()) throw new CliError('ERR_OUTPUT', `${file} is a directory`)
  checkWritableDir(path.dirname(path.resolve(file)))
}

/** Fails unless `file` is an existing regular file (or directory when allowed). */
export function checkInput(file: string, allowDir = false): void {
  if (isImageSequencePath(file)) {
    try {
      findImageSequence(file)
    } catch (err) {
      throw new CliError('ERR_NOT_FOUND', (err as Error).message)
    }
    return
  }
  let st
  try {
    st = statSync(file)
  } catch {
    throw new CliError('ERR_NOT_FOUND', `no such file: ${file}`)
  }
  if (st.isDirectory() && !allowDir) throw new CliError('ERR_NOT_FOUND', `${file} is a directory, not a file`)
}

/**
 * One output per input: with one input, `output` is the file (unless it is an existing
 * directory or ends with a slash); with several, `output` is a directory (created when missing)
 * holding `<input name><ext>`.
 */
export function outputsFor(inputs: string[], output: string, ext: string): string[] {
  const asDir = inputs.length > 1 || /[/\\]$/.test(output) || (existsSync(output) && statSync(output).isDirectory())
  if (!asDir) {
    checkWritableFile(output)
    return [output]
  }
  if (!existsSync(output)) {
    const parent = path.dirname(path.resolve(output))
    checkWritableDir(parent, 'parent directory of the output')
    try {
      mkdirSync(output, { recursive: true })
    } catch (err) {
      throw new CliError('ERR_OUTPUT', `cannot create the output directory ${output}: ${(err as Error).message}`)
    }
  }
  checkWritableDir(output)
  const names = inputs.map((f) => path.basename(f, path.extname(f)) + ext)
  const seen = new Map<string, string>()
  inputs.forEach((f, i) => {
    const other = seen.get(names[i]!)
    if (other !== undefined) throw usageError(`${other} and ${f} would both be written to ${names[i]}; encode them separately`)
    seen.set(names[i]!, f)
  })
  return names.map((n) => path.join(output, n))
}
