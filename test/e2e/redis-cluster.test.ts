import type { ChildProcess } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import Redis from "ioredis";
import { request } from "undici";
import { SIMULATOR_COMPANY_CODE, SIMULATOR_REGISTRATION_ID } from "../../src/config";
import { type Simulator, startSimulator } from "../../src/simulator/server";
import { aepsInput, cibilInput, GENERATE_CIBIL_OTP, RESEND_AEPS_OTP, resultOf } from "../helpers/operations";
import {
  deletePrefixes,
  describeUnless,
  describeWithRedis,
  dumpKeys,
  REDIS_SKIP_REASON,
  REDIS_URL,
  uniquePrefix,
} from "../helpers/redis";
import { freePort } from "../helpers/free-port";
import { PRIVATE_REDIS_SKIP_REASON, startRedis, waitFor } from "../helpers/private-redis";
import { type ServerProcess, startServerProcess } from "../helpers/server-process";
import { postGraphQL } from "../helpers/stack";
import { upstreamEnv } from "../helpers/fake-upstream";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CANARY_MOBILE = "9345678123";
const CANARY_AADHAAR = "999941057058";

function processEnv(redisUrl: string, prefix: string, simulator: Simulator): Record<string, string> {
  return {
    NODE_ENV: "development",
    LOG_LEVEL: "debug",
    ...upstreamEnv(simulator.url.href),
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    HMAC_SECRET: "cluster-test-secret-0123456789abcdefghijk",
    // Both replicas share the sealing key: a result one stored, the other opens (the replay test below).
    STORE_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 5).toString("base64")}`,
    OTP_COOLDOWN_SECONDS: "1",
  };
}

const cibil = async (base: string, cibilId: string, headers: Record<string, string> = {}) =>
  resultOf(
    (await postGraphQL(`${base}/graphql`, { query: GENERATE_CIBIL_OTP, variables: cibilInput(cibilId) }, headers)).body,
    "generateCibilOtp",
  );

describeWithRedis(
  "two server processes share limits and idempotency through one Redis (docs/security-requirements.md B5)",
  () => {
    let sim: Simulator;
    let a: ServerProcess;
    let b: ServerProcess;
    let urlA: string;
    let urlB: string;
    const prefix = uniquePrefix();

    beforeAll(async () => {
      sim = await startSimulator({ registrationId: SIMULATOR_REGISTRATION_ID, companyCode: SIMULATOR_COMPANY_CODE });
      a = startServerProcess(processEnv(REDIS_URL as string, prefix, sim));
      b = startServerProcess(processEnv(REDIS_URL as string, prefix, sim));
      [urlA, urlB] = await Promise.all([a.ready, b.ready]);
    });
    afterAll(async () => {
      await a?.kill();
      await b?.kill();
      await sim?.close();
      await deletePrefixes([prefix]);
    });
    beforeEach(() => sim.resetCalls());

    it("the cooldown holds across processes: A sends, B is refused, AOPay saw one call", async () => {
      expect((await cibil(urlA, "900000001")).__typename).toBe("CibilOtpChallenge");
      expect(await cibil(urlB, "900000001")).toMatchObject({ code: "OTP_COOLDOWN" });
      expect(sim.calls()).toBe(1);
    });

    it("the window cap holds across processes: A, B, A, then B is refused; AOPay saw three", async () => {
      for (const base of [urlA, urlB, urlA]) {
        expect((await cibil(base, "900000002")).__typename).toBe("CibilOtpChallenge");
        await sleep(1050);
      }
      expect(await cibil(urlB, "900000002")).toMatchObject({ code: "OTP_LIMIT_REACHED" });
      expect(sim.calls()).toBe(3);
    });

    it("one Idempotency-Key across both processes: ten concurrent requests, one upstream call, then replays", async () => {
      const key = randomUUID();
      // Scenario 888 answers after 2 s, so all ten overlap.
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => cibil(i % 2 ? urlA : urlB, "900000888", { "idempotency-key": key })),
      );
      expect(results.filter((r) => r.__typename === "CibilOtpChallenge")).toHaveLength(1);
      expect(results.filter((r) => r.__typename === "IdempotencyConflict")).toHaveLength(9);
      const replayA = await postGraphQL(
        `${urlA}/graphql`,
        { query: GENERATE_CIBIL_OTP, variables: cibilInput("900000888") },
        { "idempotency-key": key },
      );
      const replayB = await postGraphQL(
        `${urlB}/graphql`,
        { query: GENERATE_CIBIL_OTP, variables: cibilInput("900000888") },
        { "idempotency-key": key },
      );
      expect(replayA.headers["idempotent-replayed"]).toBe("true");
      expect(replayB.body).toEqual(replayA.body);
      expect(sim.calls()).toBe(1);
    });

    it("nothing in Redis or in either process's debug log reveals a mobile, an Aadhaar or a hash of one (docs/security-requirements.md D2, D3)", async () => {
      const aeps = await postGraphQL(
        `${urlA}/graphql`,
        { query: RESEND_AEPS_OTP, variables: aepsInput(CANARY_MOBILE, { aadhaar: CANARY_AADHAAR }) },
        { "idempotency-key": randomUUID() },
      );
      expect(resultOf(aeps.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
      await cibil(urlB, "900000003");
      const redis = new Redis(REDIS_URL as string);
      const entries = await dumpKeys(redis, prefix);
      await redis.quit();
      expect(entries.length).toBeGreaterThan(5);
      const stored = entries.map((e) => `${e.key}\n${e.value}`).join("\n");
      const logs = a.output() + b.output();
      for (const id of [CANARY_MOBILE, CANARY_AADHAAR, "900000003"]) {
        expect(stored).not.toContain(id);
        for (const algo of ["sha256", "md5"]) {
          for (const encoding of ["hex", "base64", "base64url"] as const)
            expect(stored).not.toContain(createHash(algo).update(id).digest(encoding));
        }
      }
      for (const id of [CANARY_MOBILE, CANARY_AADHAAR]) expect(logs).not.toContain(id);
      // The stored idempotent results are sealed (AES-256-GCM under STORE_ENCRYPTION_KEYS): not even the masked values the
      // client saw are readable in Redis.
      expect(stored).not.toContain("XXXX XXXX 7058");
      const results = entries
        .filter((e) => e.key.includes(":idem:"))
        .map((e) => (JSON.parse(e.value) as { result?: string }).result);
      expect(results.length).toBeGreaterThan(0);
      for (const result of results) expect(result).toMatch(/^s1\.k1\./);
    });
  },
);

describeUnless(
  REDIS_SKIP_REASON ?? PRIVATE_REDIS_SKIP_REASON,
  "Redis goes down and comes back (a private redis-server)",
  () => {
    let sim: Simulator;
    let server: ServerProcess;
    let redisProcess: ChildProcess;
    let port: number;
    let base: string;
    // Its status: a Redis away is a 200 that names it (READINESS_INCLUDES_REDIS false), "ready" once it answers.
    const readyz = async () => {
      const res = await request(`${base}/readyz`);
      return ((await res.body.json()) as { status: string }).status;
    };

    beforeAll(async () => {
      port = await freePort();
      redisProcess = startRedis(port);
      sim = await startSimulator({ registrationId: SIMULATOR_REGISTRATION_ID, companyCode: SIMULATOR_COMPANY_CODE });
      server = startServerProcess({
        ...processEnv(`redis://127.0.0.1:${port}`, uniquePrefix(), sim),
        OTP_COOLDOWN_SECONDS: "0",
      });
      base = await server.ready;
      expect(await waitFor(async () => (await readyz()) === "ready", 5_000)).toBe(true);
    });
    afterAll(async () => {
      await server?.kill();
      redisProcess?.kill("SIGKILL");
      await sim?.close();
    });

    it("fails closed while Redis is down, reports not ready, and recovers when it returns", async () => {
      expect((await cibil(base, "910000001")).__typename).toBe("CibilOtpChallenge");
      redisProcess.kill("SIGKILL");
      await new Promise((r) => redisProcess.once("exit", r));
      expect(await waitFor(async () => (await readyz()) === "redis-unavailable", 5_000)).toBe(true);
      sim.resetCalls();
      expect(await cibil(base, "910000002")).toMatchObject({
        __typename: "ProtectionUnavailable",
        code: "PROTECTION_UNAVAILABLE",
      });
      expect(sim.calls()).toBe(0);

      redisProcess = startRedis(port);
      expect(await waitFor(async () => (await readyz()) === "ready", 10_000)).toBe(true);
      expect((await cibil(base, "910000003")).__typename).toBe("CibilOtpChallenge");
      expect(sim.calls()).toBe(1);
    });
  },
);
