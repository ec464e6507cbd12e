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

/** The least of `runs` threadCpuMs of `run`: a quadratic cost is dear on every run, a noisy neighbour on some. */
export function leastThreadCpuMs(run: () => void, runs = 3): number {
  let least = Infinity;
  for (let i = 0; i < runs; i++) least = Math.min(least, threadCpuMs(run));
  return least;
}
