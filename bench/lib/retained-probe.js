// @ts-check
"use strict";
/**
 * Preloaded into a system by bench/retained.js (`node --expose-gc -r bench/lib/retained-probe.js <script>`): on
 * SIGUSR2 it runs two full collections and writes one line with the heap that survived them, and with
 * RETAINED_SNAPSHOT_DIR set also a heap snapshot there (named by its count: 1.heapsnapshot, 2...). Nothing else: the
 * system's own code is not touched. SIGUSR2 because Node takes SIGUSR1 for its inspector and none of the systems
 * handles SIGUSR2.
 */
const v8 = require("node:v8");
const path = require("node:path");

let count = 0;
process.on("SIGUSR2", () => {
  const gc = /** @type {() => void} */ (/** @type {any} */ (globalThis).gc);
  // Two: the first may leave what only a second finds dead (weak references, finalizers run in between).
  gc();
  gc();
  const m = process.memoryUsage();
  count += 1;
  const dir = process.env.RETAINED_SNAPSHOT_DIR;
  if (dir) v8.writeHeapSnapshot(path.join(dir, `${count}.heapsnapshot`));
  process.stdout.write(
    `RETAINED ${count} heapUsed=${m.heapUsed} external=${m.external} arrayBuffers=${m.arrayBuffers}\n`,
  );
});
