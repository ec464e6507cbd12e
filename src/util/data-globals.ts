/**
 * Run by src/index.ts's second import (after early-signals.ts), before the modules that serve requests load: the
 * globals `process`, `Buffer` and `performance`, which Node 24 defines on globalThis as accessors (a getter and a
 * setter over a variable of its own), redefined as data properties holding the same objects. A read of an accessor
 * global calls its getter every time (V8's global load cache cannot hold it as a constant), about 250 main-thread
 * instructions under callgrind; a read of a data property is a load. Our own modules import these from their node:
 * modules (eslint.config.mjs), but packages on the request path read the globals: ioredis reads `Buffer` twice per
 * argument of every command it writes (`instanceof Buffer`, `Buffer.byteLength`, Command#toWritable).
 * Measured under callgrind (bench/callgrind.js, generateCibilOtp with REDIS_URL, three commands a send; 1,000
 * requests after 3,000, against a copy of the build with this alone added; docs/performance-runs.md, the round "the
 * accessor globals"): V8's global load handler 12.4k -> 0 instructions per request, about 20k in all with the getter
 * calls and their JavaScript (of 934k); without Redis, 0.9k -> 0.
 *
 * Nothing else changes: the same objects, still writable and configurable as the setter and the descriptor allowed
 * (a test or a tool that swaps `globalThis.process` still can), enumerable or not as before. `crypto` and `navigator`
 * are accessors too but lazily loaded and read by nothing on the request path: left as Node defines them. Not done in
 * jest, whose environment owns its globals: only the entry point runs it (src/index.ts imports ./redefine-globals,
 * which calls globalsAsData; test/e2e/data-globals.test.ts checks the started server's globals).
 */

/** The accessor globals read on the request path (by dependencies) that are made data properties. */
export const DATA_GLOBALS = ["process", "Buffer", "performance"] as const;

/**
 * Each of `names` that `target` holds as a configurable accessor with a getter, redefined as a writable data property
 * holding what its getter returns (read once, here); the names redefined. A data property, a non-configurable one or a
 * name `target` lacks is left as it is.
 */
export function globalsAsData(target: object = globalThis, names: readonly string[] = DATA_GLOBALS): string[] {
  const done: string[] = [];
  for (const name of names) {
    const descriptor = Object.getOwnPropertyDescriptor(target, name);
    if (descriptor?.get === undefined || descriptor.configurable !== true) continue;
    const value: unknown = descriptor.get.call(target);
    Object.defineProperty(target, name, {
      value,
      writable: true,
      configurable: true,
      enumerable: descriptor.enumerable === true,
    });
    done.push(name);
  }
  return done;
}
