/**
 * The `videovae` command: builds the command line, runs one command, and turns its outcome
 * into an exit code (0 ok, 1 failure, 2 usage error, 3 mismatch / some items failed,
 * 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP). A signal aborts the running job; outputs are
 * only ever renamed into place when complete, so an interrupted run leaves none.
 */
import { Command, CommanderError } from 'commander'

import { Context, jsonReplacer, type OutputFlags } from './context.js'
import { errorCode, EXIT, exitCodeOf, formatError, oneLine } from './errors.js'
import { onStopSignals, signalExitCode, type StopSignal } from './signals.js'
import { registerBatch } from './commands/batch.js'
import { registerDecode } from './commands/decode.js'
import { registerDoctor } from './commands/doctor.js'
import { registerEmbedText } from './commands/embed_text.js'
import { registerEncode } from './commands/encode.js'
import { registerEval } from './commands/eval.js'
import { registerExport } from './commands/export.js'
import { registerInfo } from './commands/info.js'
import { registerParity } from './commands/parity.js'
import { registerReconstruct } from './commands/reconstruct.js'
import { registerSetup } from './commands/setup.js'
import { registerStats } from './commands/stats.js'
import { registerTokenize } from './commands/tokenize.js'
import { registerWorker } from './commands/worker.js'
import { version } from './version.js'
import type { Action, Runner } from './runner.js'

export type { Action, Runner } from './runner.js'

/** Makes commander report usage errors through our one-line format instead of printing and exiting. */
function quietErrors(cmd: Command): void {
  cmd.exitOverride((err) => {
    throw Object.assign(err, { commandName: cmd.parent ? cmd.name() : undefined })
  })
  cmd.configureOutput({ outputError: () => undefined })
  cmd.showSuggestionAfterError(true)
}

export function buildProgram(run: Runner): Command {
  const program = new Command('videovae')
    .description('VideoVAE+ video autoencoder on libtorch: encode, decode, reconstruct and evaluate videos')
    .version(version(), '-V, --version')
    .helpCommand(true)
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 runtime failure, 2 usage error, 3 parity mismatch or some items failed, 130 / 143 / 129 interrupted by SIGINT / SIGTERM / SIGHUP.\n' +
        "Run 'videovae <command> --help' for the options of a command.",
    )
  quietErrors(program)
  const commands = [
    registerExport,
    registerEncode,
    registerDecode,
    registerReconstruct,
    registerEval,
    registerInfo,
    registerDoctor,
    registerSetup,
    registerParity,
  ]
  commands.push(registerBatch, registerWorker, registerStats) // dataset encoding (lib/batch)
  commands.push(registerTokenize, registerEmbedText) // captions (T5 in the bundle)
  for (const register of commands) quietErrors(register(program, run))
  return program
}

async function writeOut(stream: NodeJS.WriteStream, text: string): Promise<void> {
  await new Promise<void>((resolve) => stream.write(text, () => resolve()))
}

/**
 * Runs the command line `argv` (without node and the script) and returns the exit code.
 * Installs SIGINT, SIGTERM and SIGHUP handlers for the duration: the first signal aborts the job
 * (exit 128 + its number: 130, 143, 129), a second exits at once (temporaries are still removed
 * by io/atomic_output's exit hook).
 */
export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController()
  const json = argv.includes('--json')
  const verbose = argv.includes('--verbose')
  let exitCode: number = EXIT.OK
  let received: StopSignal | undefined
  const offSignals = onStopSignals((signal) => {
    if (received !== undefined) process.exit(signalExitCode(signal))
    received = signal
    const again = signal === 'SIGINT' ? 'press ^C again to quit at once' : `send ${signal} again to quit at once`
    process.stderr.write(`\nvideovae: interrupted (${signal}), stopping (${again})\n`)
    controller.abort()
  })

  const run: Runner =
    (action: Action) =>
    async (...args: unknown[]) => {
      // commander calls actions with (...positional, options, command).
      const cmd = args[args.length - 1] as Command
      const ctx = new Context(cmd.opts<OutputFlags>(), controller.signal)
      const code = await action(ctx, ...args.slice(0, -1))
      exitCode = typeof code === 'number' ? code : EXIT.OK
      if (controller.signal.aborted && exitCode === EXIT.OK) exitCode = EXIT.INTERRUPTED
    }

  try {
    await buildProgram(run).parseAsync(argv, { from: 'user' })
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help / --version end here with exit code 0; everything else is a usage error.
      if (error.exitCode === 0) return EXIT.OK
      if (error.code === 'commander.help' || error.code === 'commander.helpDisplayed') return EXIT.USAGE
      const message = error.message.replace(/^error:\s*/, '')
      const name = (error as CommanderError & { commandName?: string }).commandName
      const help = name === undefined ? 'videovae --help' : `videovae ${name} --help`
      await writeOut(process.stderr, `videovae: ${oneLine(message)}; see '${help}' (ERR_USAGE)\n`)
      if (json) await writeOut(process.stdout, `${JSON.stringify({ error: { code: 'ERR_USAGE', message } })}\n`)
      return EXIT.USAGE
    }
    // On a terminal ^C also reaches ffmpeg and Python children, whose deaths may be reported
    // before our own SIGINT handler runs: give the signal a moment to arrive.
    if (!controller.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 50))
    exitCode = controller.signal.aborted ? EXIT.INTERRUPTED : exitCodeOf(error)
    if (exitCode === EXIT.INTERRUPTED) {
      await writeOut(process.stderr, `videovae: interrupted; no partial output was left (ERR_ABORTED)\n`)
    } else {
      await writeOut(process.stderr, `${formatError(error, verbose)}\n`)
    }
    if (json) {
      const body = { error: { code: exitCode === EXIT.INTERRUPTED ? 'ERR_ABORTED' : errorCode(error), message: oneLine(error) } }
      await writeOut(process.stdout, `${JSON.stringify(body, jsonReplacer)}\n`)
    }
  } finally {
    offSignals()
  }
  return exitCode === EXIT.INTERRUPTED && received !== undefined ? signalExitCode(received) : exitCode
}

/** The bin entry: runs process.argv and exits with the code. */
export async function run(): Promise<void> {
  // `videovae ... | head`: a closed stdout is not an error of the job.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'EIO') throw err // EIO: the terminal is gone (SIGHUP)
    })
  }
  const code = await main(process.argv.slice(2))
  await writeOut(process.stdout, '')
  process.exit(code)
}

if (require.main === module) void run()
