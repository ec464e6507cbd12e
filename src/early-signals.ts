/**
 * Imported first by src/index.ts, before any other module: loading the server's modules takes a second or more, and a
 * stop signal may come during it. In the container image node is PID 1, and the kernel gives PID 1 no default action
 * for a signal: without a handler a SIGTERM would be ignored and the container killed at its stop timeout (found under
 * podman: `podman stop` took its full 20 s). With a listener, the signal is kept until node's event loop runs it
 * (after the synchronous module loading): if the drain in index.ts has not added its own listener by then (nothing is
 * in flight yet), this one ends the process with 143; otherwise it stands aside and the drain runs.
 */
import process from "node:process";

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (process.listenerCount(signal) === 1) process.exit(signal === "SIGTERM" ? 143 : 130);
  });
}
