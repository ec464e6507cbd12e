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
 * This thread's CPU time of `run(short)` (the mean of long / short runs, eight at least: a short run read once, or
 * eight times, may read 0 ms, the accounting moving in steps) and of `run(long)`, in ms, each the least of `rounds`
 * (a quadratic cost is dear on every run, a noisy neighbour on some), the two alternating: for a test of how a cost
 * grows. Linear work grows by long / short; work that grows with the square of the length by its square. A bound on
 * the long run's time alone let a mild quadratic pass (n² / 200 steps: 50 ms on a 100 kB line, under a 1,500 ms bound).
 */
export function leastThreadCpuOfLengths(
  run: (length: number) => void,
  short: number,
  long: number,
  rounds = 5,
): { short: number; long: number } {
  const least = { short: Infinity, long: Infinity };
  const times = Math.max(8, Math.ceil(long / short));
  for (let i = 0; i < rounds; i++) {
    least.short = Math.min(least.short, threadCpuMs(() => Array.from({ length: times }, () => run(short))) / times);
    least.long = Math.min(
      least.long,
      threadCpuMs(() => run(long)),
    );
  }
  return least;
}
