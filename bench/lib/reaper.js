// @ts-check
"use strict";
/**
 * A tiny guard process: the bench tells it the pid of every child it starts ({add}) and of every child that ended
 * ({remove}). If the bench dies without cleaning up (even by SIGKILL), the IPC channel closes and the guard kills the
 * children still registered, so no system under test outlives the bench. Our server cannot watch its parent itself.
 */
/** @type {Set<number>} */
const pids = new Set();
process.on("message", (/** @type {any} */ msg) => {
  if (typeof msg?.add === "number") pids.add(msg.add);
  if (typeof msg?.remove === "number") pids.delete(msg.remove);
});
process.on("disconnect", () => {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  process.exit(0);
});
