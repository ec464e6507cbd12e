/**
 * The CPU time of `run` on this thread, in milliseconds: Node 24's process.threadCpuUsage (the process's
 * process.cpuUsage on a Node without it). For a test that bounds a cost: the process's time holds other threads' work
 * too (GC helper threads in a jest worker with a large heap), which once read 4,058 ms in a fresh clone's CI for a
 * scrub that costs under 200 ms on this thread; waiting for a shared host's cores counts in neither.
 */
export function threadCpuMs(run: () => void): number {
  const before = threadCpu?.() ?? process.cpuUsage();
  run();
  const after = threadCpu?.() ?? process.cpuUsage();
  return (after.user - before.user + after.system - before.system) / 1000;
}

const threadCpu = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.bind(process);

/**
 * This thread's CPU time per run of `run`, in ms: `run` repeated (once at least) until `minMs` of this thread's time
 * have been counted. On many kernels a thread's time is counted in the scheduler's ticks (4 ms on the CI box): read
 * over one short run it is a count of ticks, not a time (a 25,000-character scrub read 0 ms eight times over, a
 * 200,000-character one 8 ms, and a growth bound of 20 × short + 5 ms failed on main); read over `minMs` it is within
 * a tick.
 */
export function threadCpuPerRun(run: () => void, minMs = 40): number {
  const start = threadMs();
  let runs = 0;
  let now: number;
  do {
    run();
    runs++;
    now = threadMs();
  } while (now - start < minMs);
  return (now - start) / runs;
}

function threadMs(): number {
  const used = threadCpu?.() ?? process.cpuUsage();
  return (used.user + used.system) / 1000;
}

/**
 * This thread's CPU time per run of `run(short)` and of `run(long)`, in ms (threadCpuPerRun: each over enough runs to
 * be a time, not a count of ticks), each the least of `rounds` (a quadratic cost is dear on every run, a noisy
 * neighbour on some), the two alternating: for a test of how a cost grows. Linear work grows by long / short; work that
 * grows with the square of the length by its square. A bound on the long run's time alone let a mild quadratic pass
 * (n² / 200 steps: 50 ms on a 100 kB line, under a 1,500 ms bound).
 */
export function leastThreadCpuOfLengths(
  run: (length: number) => void,
  short: number,
  long: number,
  rounds = 5,
): { short: number; long: number } {
  const least = { short: Infinity, long: Infinity };
  for (let i = 0; i < rounds; i++) {
    least.short = Math.min(
      least.short,
      threadCpuPerRun(() => run(short)),
    );
    least.long = Math.min(
      least.long,
      threadCpuPerRun(() => run(long)),
    );
  }
  return least;
}
