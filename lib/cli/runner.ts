/**
 * The contract between lib/cli/main.ts and the command modules: a command's body and the
 * function that wires it into commander. Its own module so that commands need not import
 * main.ts, which imports them.
 */
import type { Context } from './context.js'

/**
 * A command's body: gets the context, its positional arguments and its options object (as
 * commander parsed them), returns an exit code (default 0).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Action = (ctx: Context, ...args: any[]) => Promise<number | void>

/** Wires a command body into commander; main() receives its exit code. */
export type Runner = (action: Action) => (...args: unknown[]) => Promise<void>
