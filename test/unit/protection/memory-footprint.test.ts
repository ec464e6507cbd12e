import { execFileSync } from "node:child_process";
import { join } from "node:path";

/**
 * Memory per OTP destination held by the in-memory throttle (docs/security.md "Memory"; 1,374 B with
 * rate-limiter-flexible's memory store, one setTimeout per key and budget, and 2.4 kB for the whole server; 366-368 B
 * with one table entry per budget and destination). Measured in a child process started with --expose-gc, on the
 * compiled server (dist-test/, built by test/global-setup.js), with the default budgets: heapUsed and arrayBuffers (the
 * destination table's columns are typed arrays, outside the heap) after forced garbage collection, before and after N
 * sends to N distinct CIBIL ids (one destination entry each: its key and the times of its last 10 sends, for its
 * cooldown, window and daily budgets). At 20,000 with the default per-client share: 112 B with the columns in pages
 * (161 B when they doubled), 10 B of it heap (the client's name per entry), since the keys are typed arrays too
 * (key-index.ts); 193 B, 126 B of it heap, with the keys as strings in a Map; 174 B with fixed windows before, 245 B
 * with the times as Float64. Sizes after a full GC are deterministic enough for a bound with a margin; no time is
 * measured.
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
const heap = () => { global.gc(); global.gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
const split = () => { global.gc(); global.gc(); const m = process.memoryUsage(); return [m.heapUsed, m.arrayBuffers]; };
const subject = (i) => ({ destinations: [{ kind: "cibil", value: String(700000000 + i) }], ip: "203.0.113.9", clientId: "app" });
`;

describe("memory per destination (in-memory throttle)", () => {
  it("is under 180 B after GC with the default budgets, under 40 B of it on the heap (keys off the heap too)", () => {
    const result = measure(`${PRELUDE}
(async () => {
  const N = 20000;
  // The defaults: a client may hold half the table (MEMORY_THROTTLE_CLIENT_SHARE_PERCENT), each entry naming its
  // client.
  const throttle = new OtpThrottle(config.throttle, hasher, null, { maxKeys: 1000000, maxKeysPerOwner: 500000 });
  for (let i = 0; i < 1000; i++) await throttle.reserve(subject(N + i)); // warm up
  const [heapBefore, arraysBefore] = split();
  let allowed = 0;
  for (let i = 0; i < N; i++) if ((await throttle.reserve(subject(i))).allowed) allowed++;
  const [heapAfter, arraysAfter] = split();
  console.log(JSON.stringify({
    bytesPerDestination: (heapAfter - heapBefore + arraysAfter - arraysBefore) / N,
    heapPerDestination: (heapAfter - heapBefore) / N,
    allowed,
    keep: typeof throttle,
  }));
})();`);
    // Every send was allowed (distinct destinations), so every destination holds its entries.
    expect(result.allowed).toBe(20_000);
    expect(result.bytesPerDestination).toBeGreaterThan(100); // the measurement measures something
    expect(result.bytesPerDestination).toBeLessThan(180);
    // The keys, their index and the times are typed arrays: what stays on the heap is the client's name per entry (a
    // reference to a shared string, 8 B) and noise. 111-132 B with the keys as strings in a Map.
    expect(result.heapPerDestination).toBeLessThan(40);
    process.stdout.write(
      `per destination after GC: ${Math.round(result.bytesPerDestination as number)} B, ` +
        `${Math.round(result.heapPerDestination as number)} B of heap\n`,
    );
  });

  it("stays flat once the cap is reached: sends past it are refused (fail closed), nothing more is held", () => {
    const result = measure(`${PRELUDE}
(async () => {
  // One entry per destination plus the shared IP, client and global ones: 29,997 destinations fit.
  const throttle = new OtpThrottle(config.throttle, hasher, null, { maxKeys: 30000 });
  const heaps = [];
  let allowed = 0, refused = 0;
  for (let i = 0; i < 60000; i++) {
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
    expect(result.allowed).toBe(30_000 - 3);
    expect(result.refused).toBe(60_000 - (result.allowed as number));
    const [, , atCap, ...later] = result.heaps as number[];
    // After the cap (reached within the first 30,000 sends), 30,000 more sends add nothing to the memory held.
    for (const h of later) expect(Math.abs(h - atCap)).toBeLessThan(512 * 1024);
  });
});
