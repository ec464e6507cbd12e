import { join } from "node:path";
import { freePort } from "../helpers/free-port";
import { startServerProcess } from "../helpers/server-process";
import { TEST_API_KEYS_ENTRY } from "../helpers/stack";

/**
 * What the real entry point (dist-test/index.js) loads at start, by configuration: a module only one configuration
 * needs is loaded in that one only, so the others do not keep its source text and compiled code in their live heap
 * for the process's life (docs/performance-runs.md, "Round 5daa3ff: the live heap, and what a server keeps that its
 * configuration never uses"). A top-level import of it that comes back fails here, not silently in a heap figure.
 * Each case also checks that the module is loaded where it is needed, so the detector is seen to see it.
 */

const PRELOAD = join(__dirname, "../fixtures/preload/loaded-modules.cjs");
const MISSING_IOREDIS = join(__dirname, "../fixtures/preload/missing-ioredis.cjs");

interface Loaded {
  packages: string[];
  own: string[];
}

/** Starts the server with `env`, waits for "ready", stops it with SIGTERM and returns what it had loaded. */
async function loadedAtStart(env: Record<string, string>): Promise<Loaded> {
  const p = startServerProcess({ ...env, NODE_OPTIONS: `--require ${PRELOAD}` });
  try {
    await p.ready;
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  } finally {
    await p.kill();
  }
  const m = /LOADED_MODULES (\{.*\})/.exec(p.output());
  if (!m) throw new Error(`no LOADED_MODULES line in:\n${p.output()}`);
  return JSON.parse(m[1]) as Loaded;
}

/** The simulator's modules, less its settings' declaration (config.ts reads them all: unknown names). */
const simulatorModules = (loaded: Loaded) =>
  loaded.own.filter((name) => name.startsWith("simulator/") && !name.endsWith(".settings"));

describe("modules the server loads at start, by configuration", () => {
  // A port nothing listens on: the server starts without reaching it (AOPay is called per request; Redis is waited
  // for REDIS_CONNECT_WAIT_MS, then the server serves, fail closed, and /readyz says not ready).
  let closedPort: number;
  beforeAll(async () => {
    closedPort = await freePort();
  });

  it("production with AOPAY_BASE_URL and no REDIS_URL: neither ioredis nor the simulator", async () => {
    const loaded = await loadedAtStart({
      NODE_ENV: "production",
      AOPAY_BASE_URL: `http://127.0.0.1:${closedPort}`,
      AOPAY_REGISTRATION_ID: "REG-LOADED-1",
      AOPAY_COMPANY_CODE: "COLOADED1",
      HMAC_SECRET: "loaded-modules-hmac-secret-0123456789abcdef",
      API_KEYS: TEST_API_KEYS_ENTRY,
    });
    expect(loaded.packages).not.toContain("ioredis");
    expect(loaded.packages).not.toContain("@ioredis/commands");
    expect(simulatorModules(loaded)).toEqual([]);
    // Apollo's inline-trace plugin (a federation subgraph's; this schema is not one) and the protobuf it needs.
    expect(loaded.packages).not.toContain("@apollo/usage-reporting-protobuf");
    // What it does load: the detector reads this process's modules (its store and transport among them).
    expect(loaded.packages).toEqual(expect.arrayContaining(["undici", "@apollo/server"]));
    expect(loaded.own).toEqual(expect.arrayContaining(["protection/redis", "aopay/transport"]));
  });

  it("with REDIS_URL (and the simulator): ioredis is loaded at start, and the simulator", async () => {
    const loaded = await loadedAtStart({
      REDIS_URL: `redis://127.0.0.1:${closedPort}`,
      HMAC_SECRET: "loaded-modules-hmac-secret-0123456789abcdef",
    });
    expect(loaded.packages).toEqual(expect.arrayContaining(["ioredis", "@ioredis/commands"]));
    expect(simulatorModules(loaded)).toContain("simulator/server");
  }, 20_000);

  it("with REDIS_URL and ioredis failing to load: the server does not start (exit 1), as when it was imported", async () => {
    const p = startServerProcess({
      REDIS_URL: `redis://127.0.0.1:${closedPort}`,
      HMAC_SECRET: "loaded-modules-hmac-secret-0123456789abcdef",
      NODE_OPTIONS: `--require ${MISSING_IOREDIS}`,
    });
    try {
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain("Cannot find module 'ioredis'");
      expect(p.output()).toContain("the server did not start");
      expect(p.output()).not.toContain("GraphQL server ready");
    } finally {
      await p.kill();
    }
  });

  it("without REDIS_URL, ioredis failing to load changes nothing: the server starts", async () => {
    const p = startServerProcess({ NODE_OPTIONS: `--require ${MISSING_IOREDIS}` });
    try {
      await expect(p.ready).resolves.toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await p.kill();
    }
  });
});
