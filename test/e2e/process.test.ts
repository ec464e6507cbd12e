import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startServerProcess as run } from "../helpers/server-process";
import { cibilInput, GENERATE_CIBIL_OTP } from "../helpers/operations";
import { postGraphQL } from "../helpers/stack";

/**
 * The real entry point (src/index.ts) as `npm start` runs it, compiled once into dist-test/ (test/global-setup.js).
 * Covers what an in-process test cannot: the simulator banner, the production refusal, and SIGTERM handling with
 * exit codes.
 */
describe("the server process (npm start)", () => {
  it("starts with the built-in simulator when AOPAY_BASE_URL is unset, says so loudly, and serves both mutations", async () => {
    const p = run({ NODE_ENV: "development" });
    try {
      const url = await p.ready;
      expect(p.output()).toContain("BUILT-IN AOPay SIMULATOR");
      const res = await postGraphQL<{ generateCibilOtp: { __typename: string } }>(`${url}/graphql`, {
        query: GENERATE_CIBIL_OTP,
        variables: cibilInput(),
      });
      expect(res.body.data?.generateCibilOtp.__typename).toBe("CibilOtpChallenge");
    } finally {
      await p.kill();
    }
  });

  it("on SIGTERM finishes the in-flight mutation, refuses new connections and exits 0", async () => {
    const p = run({ NODE_ENV: "development", SHUTDOWN_GRACE_MS: "8000" });
    const url = await p.ready;
    // Scenario 888: the simulator answers after 2 s.
    const inFlight = postGraphQL<{ generateCibilOtp: { __typename: string } }>(`${url}/graphql`, {
      query: GENERATE_CIBIL_OTP,
      variables: cibilInput("102277888"),
    });
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

  it("on SIGTERM with a call outlasting the grace period, answers OutcomeUnknown before it ends, exits 0", async () => {
    const p = run({
      NODE_ENV: "development",
      SHUTDOWN_GRACE_MS: "800",
      REQUEST_DEADLINE_MS: "20000",
      AOPAY_DEADLINE_MS: "20000",
    });
    const url = await p.ready;
    // Scenario 504: the simulator never answers.
    const stuck = postGraphQL(`${url}/graphql`, {
      query: GENERATE_CIBIL_OTP,
      variables: cibilInput("102277504"),
    }).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 300));
    const signalledAt = Date.now();
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(800 + 1200);
    // The call is aborted a moment before the grace period ends, and its client is told the send may have left; it
    // had its connection cut with no answer (an empty reply), indistinguishable from nothing sent.
    const answer = await stuck;
    if (answer instanceof Error) throw answer;
    expect(answer.status).toBe(200);
    expect(answer.body.data).toEqual({
      generateCibilOtp: expect.objectContaining({ __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" }),
    });
  });

  it("on SIGTERM during startup exits at once with 143 (as PID 1 in a container, an unhandled SIGTERM is ignored)", async () => {
    // An unreachable Redis holds startup in listen() for up to 3 s, after the simulator banner.
    const p = run({
      NODE_ENV: "development",
      REDIS_URL: "redis://127.0.0.1:1",
      HMAC_SECRET: "test-hmac-secret-0123456789-abcdefghijklmnop",
    });
    await new Promise<void>((resolve) => {
      const poll = setInterval(
        () => p.output().includes("BUILT-IN AOPay SIMULATOR") && (clearInterval(poll), resolve()),
        20,
      );
    });
    const signalledAt = Date.now();
    p.child.kill("SIGTERM");
    // Without a handler node would die by the signal (exit code null); 143 says our handler ran.
    expect(await p.exited).toBe(143);
    expect(Date.now() - signalledAt).toBeLessThan(1000);
    expect(p.output()).not.toContain("GraphQL server ready");
  });

  it("installs that handler before any other module loads (loading takes seconds on a busy host)", () => {
    const compiled = readFileSync(join(__dirname, "../../dist-test/index.js"), "utf8");
    const requires = [...compiled.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(requires[0]).toBe("./early-signals");
  });

  it("refuses to start in production without AOPAY_BASE_URL, with a clear message", async () => {
    const p = run({ NODE_ENV: "production" });
    await expect(p.ready).rejects.toThrow(/AOPAY_BASE_URL is required when NODE_ENV=production/);
    expect(await p.exited).toBe(78);
  });
});
