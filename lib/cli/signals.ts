/**
 * The signals the command treats as "stop": SIGINT (^C), SIGTERM (kill, systemd, docker stop,
 * job schedulers) and SIGHUP (the terminal went away). The first one aborts the running job,
 * which removes its temporary outputs (and a queue worker finishes the jobs it holds); the exit
 * code is then 128 + the signal's number, as a shell reports a process the signal killed.
 */
import { constants } from 'node:os'

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
export type StopSignal = (typeof STOP_SIGNALS)[number]

/** 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP. */
export function signalExitCode(signal: StopSignal): number {
  return 128 + constants.signals[signal]
}

/** Calls `handler` on each stop signal until the returned function removes it. */
export function onStopSignals(handler: (signal: StopSignal) => void): () => void {
  const listeners = STOP_SIGNALS.map((s) => [s, () => handler(s)] as const)
  for (const [s, l] of listeners) process.on(s, l)
  return () => {
    for (const [s, l] of listeners) process.off(s, l)
  }
}
