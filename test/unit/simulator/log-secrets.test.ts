import { spawn } from "node:child_process";
import { join } from "node:path";
import { request } from "undici";
import { runToExit } from "../../helpers/run-to-exit";

/**
 * `npm run simulator` (dist-test/simulator/main.js, a real process on port 0): every line it writes while running
 * hides the environment's secrets and the simulator's own credentials, as the server's lines do (config.ts
 * logSecrets). Its runtime logger was made with the level alone: its start that failed hid them (failStart), but a
 * fault once it listened (logFaultsTo: an exception or a warning quoting a secret) wrote them whole. Driven by real
 * HTTP requests that carry the secrets and a customer's identifiers in their bodies and headers (LOG_LEVEL=debug, so
 * every answer is logged), then by test/fixtures/preload/fault-on-sigusr2.cjs: a warning, then an uncaught exception
 * quoting the canaries.
 */
const ROOT = join(__dirname, "../../..");
const PRELOAD = join(ROOT, "test/fixtures/preload/fault-on-sigusr2.cjs");
/** A valid Aadhaar number (Verhoeff) and a mobile: masked in every line. */
const AADHAAR = "999971658847";
const MOBILE = "9876543210";
const SECRETS = {
  HMAC_SECRET: "sim-canary-hmac-secret-0123456789-abcdefgh",
  METRICS_TOKEN: "sim-canary-metrics-token-0123456789",
  REDIS_URL: "redis://:sim-canary-redis-pw@127.0.0.1:9",
};

async function run(secret: string) {
  const child = spawn(process.execPath, ["--require", PRELOAD, join(ROOT, "dist-test/simulator/main.js")], {
    env: {
      PATH: process.env.PATH ?? "",
      SIMULATOR_PORT: "0",
      LOG_LEVEL: "debug",
      ...SECRETS,
      FAULT_CANARIES: [AADHAAR, MOBILE, secret, "throw"].join(","),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
  while (!/"url":"(http:[^"]+)"/.test(stdout)) {
    if (child.exitCode !== null) throw new Error(`simulator exited: ${stdout}${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const base = /"url":"(http:[^"]+)"/.exec(stdout)![1];
  const carried = { Mobile: MOBILE, aadhaar: AADHAAR, cibil_id: 102277100, secret, ...SECRETS };
  for (const [method, path] of [
    ["GET", "/api/AOP/CibilScore/GenerateOTP"],
    ["POST", "/api/AOP/V1/AEPS/UserRegisterBankWise/ResendOTP"],
    ["POST", "/api/AOP/CibilScore/registeration"],
  ] as const) {
    const res = await request(new URL(path, base), {
      method,
      headers: { authorization: `Bearer ${secret}`, "x-api-key": secret, "content-type": "application/json" },
      body: JSON.stringify(carried),
    });
    await res.body.text();
  }
  child.kill("SIGUSR2");
  const code = await closed;
  return { code, output: `${stdout}${stderr}`, stdout };
}

describe("the standalone simulator's log while it runs", () => {
  it.each([
    ["the HMAC secret", SECRETS.HMAC_SECRET],
    ["a metrics token", SECRETS.METRICS_TOKEN],
    ["a Redis password", "sim-canary-redis-pw"],
    ["the simulator's registration id", "SIM-REG-0001"],
  ])("a fault quoting %s, a customer's Aadhaar and mobile: hidden in every line", async (_what, secret) => {
    const { code, output, stdout } = await run(secret);
    // The fault was logged (src/early-faults.ts FATAL_EXIT_CODE), and so was every answer (LOG_LEVEL=debug).
    expect(code).toBe(70);
    expect(stdout.match(/"msg":"simulator answered"/g)).toHaveLength(3);
    expect(stdout).toContain('"code":"TEST_CANARY"');
    expect(stdout).toContain("[REDACTED]");
    expect(output).not.toContain(secret);
    for (const value of Object.values(SECRETS)) expect(output).not.toContain(value);
    expect(output).not.toContain("sim-canary");
    expect(output).not.toContain(AADHAAR.slice(0, 8));
    expect(output).not.toContain(MOBILE);
  });
});

describe("the standalone simulator's lines name it, and a start that failed hides its own credentials", () => {
  it("service aopay-simulator, not the server's aopay-graphql, in every JSON line", async () => {
    const { stdout } = await run(SECRETS.HMAC_SECRET);
    const lines = stdout.split("\n").filter((line) => line.startsWith("{"));
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ service: "aopay-simulator" });
  });

  it.each(["SIM-REG-0001", "SIMCO01"])(
    "a setting holding %s that stops its start: hidden on stderr and in the line",
    async (own) => {
      const { code, stdout, stderr } = await runToExit("dist-test/simulator/main.js", {
        SIMULATOR_PORT: "0",
        SIMULATOR_HOST: `${own}.invalid`,
      });
      expect(code).not.toBe(0);
      expect(stderr).toMatch(/^Failed to start the simulator: .*\[REDACTED\]/);
      expect(`${stdout}${stderr}`).not.toContain(own);
      const line = stdout.split("\n").find((l) => l.startsWith("{"));
      expect(JSON.parse(line ?? "{}")).toMatchObject({ service: "aopay-simulator", level: "fatal" });
    },
  );
});
