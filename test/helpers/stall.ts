/**
 * Holds the event loop for `ms` (a busy loop): what a GC pause, a CPU-starved container or a synchronous burst does to
 * the process. A timer due meanwhile fires at the next timers phase, before the poll phase that would read an answer
 * that arrived meanwhile (src/util/after-io.ts).
 */
export function stallEventLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Busy: nothing else of this process runs.
  }
}

/** How long the tests stall: past the 1 s timeouts they race (COMMAND_TIMEOUT_MS, a 1 s AOPay deadline). */
export const STALL_MS = 1_200;
