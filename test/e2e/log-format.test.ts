import { join } from "node:path";
import { Writable } from "node:stream";
import { SIMULATOR_COMPANY_CODE, SIMULATOR_REGISTRATION_ID, loadConfig } from "../../src/config";
import { createLogger } from "../../src/logging/logger";
import { startSimulator } from "../../src/simulator/server";
import { startServerProcess } from "../helpers/server-process";
import { PRODUCTION_SECURITY } from "../helpers/stack";
import { upstreamEnv } from "../helpers/fake-upstream";

/** Waits until the process output matches `pattern` (or fails with the output so far). */
async function waitForOutput(p: ReturnType<typeof startServerProcess>, pattern: RegExp, ms = 20_000): Promise<string> {
  const until = Date.now() + ms;
  while (!pattern.test(p.output())) {
    if (Date.now() > until || p.child.exitCode !== null) throw new Error(`no ${pattern} in:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return p.output();
}

/**
 * Log formats: readable lines for a developer (`npm run dev`, or `npm start` in a terminal: LOG_FORMAT=pretty), JSON
 * lines everywhere else, and always in production. The process tests run the real entry point (dist-test/index.js).
 */
describe("log format", () => {
  it("LOG_FORMAT=pretty (npm run dev): readable lines with local times, and the simulator banner on lines of its own", async () => {
    const p = startServerProcess({ NODE_ENV: "development", LOG_FORMAT: "pretty" });
    try {
      const out = await waitForOutput(p, /INFO: GraphQL server ready/);
      const lines = out.split("\n");
      expect(lines.find((l) => l.includes("GraphQL server ready"))).toMatch(
        /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: GraphQL server ready \{"url":"http:\/\/127\.0\.0\.1:\d+\/graphql","explorer":"http:\/\/127\.0\.0\.1:\d+\/graphiql\/"/,
      );
      // The banner is readable as it was written, not one escaped string.
      expect(lines).toContain("  AOPAY_BASE_URL is not set: answering with the BUILT-IN AOPay SIMULATOR.");
      expect(out).not.toContain("\\n");
      expect(lines.filter((l) => l.startsWith("{"))).toEqual([]);
    } finally {
      await p.kill();
    }
  });

  it("production: JSON lines only, with epoch-millisecond times", async () => {
    const simulator = await startSimulator({
      registrationId: SIMULATOR_REGISTRATION_ID,
      companyCode: SIMULATOR_COMPANY_CODE,
    });
    const p = startServerProcess({
      NODE_ENV: "production",
      ...upstreamEnv(simulator.url.href),
      ...PRODUCTION_SECURITY,
    });
    try {
      await p.ready;
      const lines = p.output().split("\n").filter(Boolean);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        const record = JSON.parse(line) as { time: unknown; level: unknown };
        expect({ time: typeof record.time, level: typeof record.level }).toEqual({ time: "number", level: "string" });
      }
      // No explorer in production, so the ready line names none.
      expect(p.output()).not.toContain("graphiql");
    } finally {
      await p.kill();
      await simulator.close();
    }
  });

  it("production refuses LOG_FORMAT=pretty; development defaults to pretty in a terminal only", () => {
    expect(() => loadConfig({ NODE_ENV: "production", LOG_FORMAT: "pretty" })).toThrow(
      /LOG_FORMAT=pretty is for development/,
    );
    expect(loadConfig({ NODE_ENV: "development" }, { stdoutIsTTY: true }).logFormat).toBe("pretty");
    expect(loadConfig({ NODE_ENV: "development" }, { stdoutIsTTY: false }).logFormat).toBe("json");
    expect(loadConfig({ NODE_ENV: "development", LOG_FORMAT: "json" }, { stdoutIsTTY: true }).logFormat).toBe("json");
    expect(loadConfig({ NODE_ENV: "test" }, { stdoutIsTTY: true }).logFormat).toBe("json");
  });

  it("a pretty line hides what a JSON line hides (the scrubber runs before pino-pretty)", () => {
    // pino-pretty writes to a Node stream.
    const chunks: string[] = [];
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    const log = createLogger({ level: "info", format: "pretty", destination: capture, secrets: ["PARTNER-SECRET-1"] });
    log.info({ aadhaar: "234123412346", note: "mobile 9876543210 and PARTNER-SECRET-1" }, "customer 234123412346");
    const text = chunks.join("");
    expect(text).toMatch(/INFO: customer /);
    expect(text).not.toMatch(/234123412346|9876543210|PARTNER-SECRET-1/);
  });

  it("a fatal error right after a request: its access line, still waiting for its batch, reaches stdout", async () => {
    // test/fixtures/preload/fatal-after-response.cjs throws at the end of the response's turn, well within the 20 ms
    // window (LOG_BATCH_MS): only FdWriter's exit hook (or the fatal line's flush) can write the line before the
    // process ends (code 70, src/early-faults.ts), and the fatal line after it.
    const preload = join(__dirname, "../fixtures/preload/fatal-after-response.cjs");
    const p = startServerProcess({ NODE_ENV: "development", LOG_FORMAT: "json", NODE_OPTIONS: `--require ${preload}` });
    try {
      const url = await p.ready;
      const res = await fetch(`${url}/healthz`, { headers: { "x-test-fatal": "1" } });
      expect(res.status).toBe(200);
      expect(await p.exited).toBe(70);
      const lines = p.stdout().split("\n");
      const access = lines.filter((l) => l.includes('"path":"/healthz"'));
      expect(access).toHaveLength(1);
      expect(JSON.parse(access[0])).toMatchObject({ msg: "request completed", status: 200 });
      const fatal = lines.findIndex((l) => l.includes("fatal, as the test asked"));
      expect(JSON.parse(lines[fatal])).toMatchObject({ level: "fatal", msg: "uncaught exception: the process ends" });
      expect(fatal).toBeGreaterThan(lines.indexOf(access[0]));
    } finally {
      await p.kill();
    }
  });
});
