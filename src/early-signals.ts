/**
 * Imported first by src/index.ts, before any other module: loading the server's modules takes a second or more, and a
 * stop signal may come during it. In the container image node is PID 1, and the kernel gives PID 1 no default action
 * for a signal: without a handler a SIGTERM would be ignored and the container killed at its stop timeout (found under
 * podman: `podman stop` took its full 20 s). Until the drain in index.ts adds its own listener (nothing is in flight
 * yet), a stop signal ends the process at once; after that, this listener stands aside.
 */
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (process.listenerCount(signal) === 1) process.exit(signal === "SIGTERM" ? 143 : 130);
  });
}
