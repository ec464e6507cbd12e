import { execFileSync } from "node:child_process";
import { join } from "node:path";

/**
 * Heap per OTP destination held by the in-memory throttle (docs/security.md "Memory"; 1,374 B with rate-limiter-flexible's
 * memory store, one setTimeout per key and budget, and 2.4 kB for the whole server). Measured in a child process started with
 * --expose-gc, on the compiled server (dist-test/, built by test/global-setup.js), with the default budgets: heapUsed
 * after forced garbage collection, before and after N sends to N distinct CIBIL ids (3 destination entries each:
 * cooldown, window, daily). Heap sizes after a full GC are deterministic enough for a bound with a wide margin; no time
 * is measured.
 */
const DIST = join(__dirname, "../../../dist-test");

function measure(script: string): Record<string, number | number[]> {
  const out = execFileSync(process.execPath, ["--expose-gc", "-e", script], {
    cwd: DIST,
    encoding: "utf8",
    timeout: 120_000,
  });
  return JSON.parse(out.trim().split("\n").at(-1) as string) as Record<string, number | number[]>;
}

const PRELUDE = `
require("reflect-metadata");
const { OtpThrottle } = require("./protection/otp-throttle.js");
const { KeyHasher } = require("./protection/key-hasher.js");
const { loadConfig } = require("./config.js");
const config = loadConfig({ OTP_IP_MAX: "10000000", OTP_CLIENT_MAX: "10000000", OTP_GLOBAL_MAX: "10000000" });
const hasher = new KeyHasher(Buffer.alloc(32, 1));
const heap = () => { global.gc(); global.gc(); return process.memoryUsage().heapUsed; };
const subject = (i) => ({ destinations: [{ kind: "cibil", value: String(700000000 + i) }], ip: "203.0.113.9", clientId: "app" });
`;

describe("memory per destination (in-memory throttle)", () => {
  it("is under 1 kB after GC with the default budgets", () => {
    const result = measure(`${PRELUDE}
(async () => {
  const N = 20000;
  const throttle = new OtpThrottle(config.throttle, hasher, null, { maxKeys: 1000000 });
  for (let i = 0; i < 1000; i++) await throttle.reserve(subject(N + i)); // warm up
  const before = heap();
  let allowed = 0;
  for (let i = 0; i < N; i++) if ((await throttle.reserve(subject(i))).allowed) allowed++;
  const after = heap();
  console.log(JSON.stringify({ bytesPerDestination: (after - before) / N, allowed, keep: typeof throttle }));
})();`);
    // Every send was allowed (distinct destinations), so every destination holds its entries.
    expect(result.allowed).toBe(20_000);
    expect(result.bytesPerDestination).toBeGreaterThan(100); // the measurement measures something
    expect(result.bytesPerDestination).toBeLessThan(1024);
    process.stdout.write(`heap per destination after GC: ${Math.round(result.bytesPerDestination as number)} B\n`);
  });

  it("stays flat once the cap is reached: sends past it are refused (fail closed), nothing more is held", () => {
    const result = measure(`${PRELUDE}
(async () => {
  // 3 destination entries per send plus the shared IP, client and global ones: about 10,000 destinations fit.
  const throttle = new OtpThrottle(config.throttle, hasher, null, { maxKeys: 30000 });
  const heaps = [];
  let allowed = 0, refused = 0;
  for (let i = 0; i < 40000; i++) {
    try {
      if ((await throttle.reserve(subject(i))).allowed) allowed++;
    } catch (error) {
      if (error.name !== "MemoryStoreFullError") throw error;
      refused++;
    }
    if ((i + 1) % 10000 === 0) heaps.push(heap());
  }
  console.log(JSON.stringify({ allowed, refused, heaps }));
})();`);
    expect(result.allowed).toBe(Math.floor((30_000 - 3) / 3));
    expect(result.refused).toBe(40_000 - (result.allowed as number));
    const [atCap, ...later] = result.heaps as number[];
    // After the cap (reached within the first 10,000 sends), 30,000 more sends add nothing to the heap.
    for (const h of later) expect(Math.abs(h - atCap)).toBeLessThan(512 * 1024);
  });
});
