import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import { cibilInput, GENERATE_CIBIL_OTP } from "../helpers/operations";
import { postGraphQL } from "../helpers/stack";

/**
 * The real entry point (src/index.ts) as `npm start` runs it, compiled once into dist-test/. Covers what an
 * in-process test cannot: the simulator banner, the production refusal, and SIGTERM handling with exit codes.
 */
const ROOT = join(__dirname, "../..");
const OUT = join(ROOT, "dist-test");

interface Running {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

function run(env: Record<string, string>): Running & { ready: Promise<string> } {
  const child = spawn(process.execPath, [join(OUT, "index.js")], {
    env: { PATH: process.env.PATH ?? "", PORT: "0", HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /"url":"(http:\/\/[^"]+)\/graphql"[^\n]*"GraphQL server ready"/.exec(output);
      if (m) resolve(m[1]);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    void exited.then((code) => reject(new Error(`exited with ${code} before ready:\n${output}`)));
  });
  const running = { child, url: "", output: () => output, exited, ready };
  return running;
}

describe("the server process (npm start)", () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.build.json"), "--outDir", OUT], {
      stdio: "inherit",
    });
  }, 60_000);

  it("starts with the built-in simulator when AOPAY_BASE_URL is unset, says so loudly, and serves both mutations", async () => {
    const p = run({ NODE_ENV: "development" });
    try {
      const url = await p.ready;
      expect(p.output()).toContain("BUILT-IN AOPay SIMULATOR");
      const res = await postGraphQL<{ generateCibilOtp: { __typename: string } }>(`${url}/graphql`, { query: GENERATE_CIBIL_OTP, variables: cibilInput() });
      expect(res.body.data?.generateCibilOtp.__typename).toBe("CibilOtpChallenge");
    } finally {
      p.child.kill("SIGKILL");
      await p.exited;
    }
  });

  it("on SIGTERM finishes the in-flight mutation, refuses new connections and exits 0", async () => {
    const p = run({ NODE_ENV: "development", SHUTDOWN_GRACE_MS: "8000" });
    const url = await p.ready;
    // Scenario 888: the simulator answers after 2 s.
    const inFlight = postGraphQL<{ generateCibilOtp: { __typename: string } }>(`${url}/graphql`, { query: GENERATE_CIBIL_OTP, variables: cibilInput("102277888") });
    await new Promise((r) => setTimeout(r, 300));
    const signalledAt = Date.now();
    p.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 200));
    await expect(postGraphQL(`${url}/graphql`, { query: "{ serviceInfo { upstream } }" })).rejects.toThrow();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body.data?.generateCibilOtp.__typename).toBe("CibilOtpChallenge");
    expect(await p.exited).toBe(0);
    // Well inside the 8 s grace: the drain ends when the in-flight call does, not when the grace runs out.
    expect(Date.now() - signalledAt).toBeLessThan(5000);
    expect(p.output()).toContain("shutting down");
  });

  it("refuses to start in production without AOPAY_BASE_URL, with a clear message", async () => {
    const p = run({ NODE_ENV: "production" });
    await expect(p.ready).rejects.toThrow(/AOPAY_BASE_URL is required when NODE_ENV=production/);
    expect(await p.exited).toBe(78);
  });
});
