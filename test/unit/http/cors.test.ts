import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { loadConfig } from "../../../src/config";
import { createCors, REFUSED_ORIGIN_WARNINGS_PER_INTERVAL, REFUSED_ORIGINS_REMEMBERED } from "../../../src/http/cors";
import { createLogger } from "../../../src/logging/logger";
import { SUMMARY_INTERVAL_MS } from "../../../src/logging/summarised";
import { LogCapture } from "../../helpers/log-capture";

/** The refused-origin warning (http/cors.ts warnOnce), on a clock of the test's own. */
describe("refused-origin warnings", () => {
  const setup = () => {
    const logs = new LogCapture();
    let now = 1_000;
    const cors = createCors(
      loadConfig({ NODE_ENV: "test" }),
      createLogger({ level: "info", destination: logs }),
      null,
      () => now,
    );
    const warn = (origin: string) => cors.warnOnce(origin, "api.example", () => "https");
    const warnings = () => logs.records().filter((r) => String(r.msg).startsWith("CORS: refused"));
    return { warn, warnings, logs, later: (ms: number) => (now += ms) };
  };

  it(`names each origin once, at most ${REFUSED_ORIGIN_WARNINGS_PER_INTERVAL} per interval; a summary counts the rest, which are named when they come again`, () => {
    const { warn, warnings, later, logs } = setup();
    for (let i = 0; i < 25; i++) warn(`https://o${i}.example`);
    expect(warnings()).toHaveLength(REFUSED_ORIGIN_WARNINGS_PER_INTERVAL);
    warn("https://o0.example");
    expect(warnings()).toHaveLength(REFUSED_ORIGIN_WARNINGS_PER_INTERVAL);
    later(SUMMARY_INTERVAL_MS);
    warn("https://o24.example");
    expect(warnings().at(-1)).toMatchObject({ origin: "https://o24.example" });
    const summaries = logs.records().filter((r) => String(r.msg).startsWith("CORS: 15 more requests"));
    expect(summaries).toEqual([
      expect.objectContaining({ level: "warn", suppressed: 15, notLogged: { "refused origin": 15 }, overSeconds: 10 }),
    ]);
  });

  it(`remembers at most ${REFUSED_ORIGINS_REMEMBERED} refused origins: an old one is logged again once that many others came after it`, () => {
    const { warn, warnings, later } = setup();
    warn("https://first.example");
    for (let i = 0; i < REFUSED_ORIGINS_REMEMBERED; i++) {
      if (i % REFUSED_ORIGIN_WARNINGS_PER_INTERVAL === 0) later(SUMMARY_INTERVAL_MS);
      warn(`https://o${i}.example`);
    }
    expect(warnings()).toHaveLength(REFUSED_ORIGINS_REMEMBERED + 1);
    later(SUMMARY_INTERVAL_MS);
    warn("https://first.example");
    expect(warnings().at(-1)?.origin).toBe("https://first.example");
    expect(warnings().every((r) => r.suppressed === undefined)).toBe(true);
  });
});

/**
 * What the remembered set holds per refused origin (cors.ts refusedOriginKey): an Origin is any client's to choose,
 * up to MAX_HEADER_BYTES, and each was kept whole: 1,000 origins of 16 KiB held about 16 MB. Measured as
 * test/unit/protection/memory-footprint.test.ts measures, in a child process with --expose-gc on the compiled server
 * (dist-test/), heapUsed after forced garbage collection, before and after 1,000 refused origins of 16 KiB each.
 */
describe("refused origins remembered", () => {
  it("a long origin is remembered by a bounded key: two alike in their first 200 characters are two, each logged once", () => {
    const logs = new LogCapture();
    let now = 1_000;
    const cors = createCors(
      loadConfig({ NODE_ENV: "test" }),
      createLogger({ level: "info", destination: logs }),
      null,
      () => (now += SUMMARY_INTERVAL_MS),
    );
    const long = `https://${"a".repeat(16_000)}`;
    for (const origin of [`${long}1.example`, `${long}2.example`, `${long}1.example`, `${long}2.example`])
      cors.warnOnce(origin, "api.example", () => "https");
    expect(logs.records().filter((r) => String(r.msg).startsWith("CORS: refused"))).toHaveLength(2);
  });

  it("holds under 1 MB for 1,000 refused origins of 16 KiB (it held their 16 MB)", () => {
    const script = `
require("reflect-metadata");
const { createCors, REFUSED_ORIGINS_REMEMBERED } = require("./http/cors.js");
const { loadConfig } = require("./config.js");
const heap = () => { global.gc(); global.gc(); return process.memoryUsage().heapUsed; };
let now = 0;
const cors = createCors(loadConfig({ NODE_ENV: "test" }), { warn() {} }, () => (now += 10000));
// Each a flat string of its own, as Node's parser hands a header's value to the request.
const origin = (i) => Buffer.from("https://" + "a".repeat(16 * 1024) + i + ".example", "latin1").toString("latin1");
const before = heap();
for (let i = 0; i < REFUSED_ORIGINS_REMEMBERED; i++) cors.warnOnce(origin(i), "api.example", () => "https");
const after = heap();
console.log(JSON.stringify({ held: after - before, keep: typeof cors }));
`;
    const out = execFileSync(process.execPath, ["--expose-gc", "-e", script], {
      cwd: join(__dirname, "../../../dist-test"),
      encoding: "utf8",
      timeout: 60_000,
    });
    const { held } = JSON.parse(out.trim().split("\n").at(-1) as string) as { held: number };
    process.stdout.write(`refused origins remembered: ${Math.round(held / 1024)} KiB for 1,000 of 16 KiB\n`);
    expect(held).toBeLessThan(1024 * 1024);
  });
});
