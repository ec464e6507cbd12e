import { randomUUID } from "node:crypto";
import { Client } from "undici";
import { SIMULATOR_COMPANY_CODE, SIMULATOR_REGISTRATION_ID } from "../../src/config";
import { type Simulator, startSimulator } from "../../src/simulator/server";
import { nextAadhaar, nextAepsRegistration, nextMobile, nextPan, registrationInput } from "../helpers/identifiers";
import {
  aepsInput,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  type Result,
  tally,
} from "../helpers/operations";
import { deletePrefixes, describeWithRedis, REDIS_URL, uniquePrefix } from "../helpers/redis";
import { type ServerProcess, startServerProcess } from "../helpers/server-process";
import { upstreamEnv } from "../helpers/fake-upstream";

/**
 * Two stacks racing on one Redis: requests for the same customer sent at once to two server processes, and to one
 * process of two workers (WEB_CONCURRENCY=2), sharing REDIS_URL and REDIS_KEY_PREFIX, in front of one simulator that
 * counts what reached AOPay. test/e2e/redis-cluster.test.ts has the two processes one request after another (and one
 * Idempotency-Key at once on CIBIL), test/e2e/cluster.test.ts the workers one after another,
 * test/e2e/contention.test.ts the races inside one stack; here the cooldown, the window, an Idempotency-Key and a
 * registration racing a send are each met from both stacks at the same moment: AOPay must see exactly the sends the
 * budgets allow, each answered as sent, and no answer may be a store failure.
 */

/** A cooldown a burst of requests on loopback ends well within, and which the window's waves wait out. */
const COOLDOWN_SECONDS = 3;

/** How many times a scenario is run for one whose every burst both stacks served (acrossBothStacks). */
const ATTEMPTS = 3;

function env(prefix: string, simulator: Simulator): Record<string, string> {
  return {
    NODE_ENV: "development",
    LOG_FORMAT: "json",
    ...upstreamEnv(simulator.url.href),
    REDIS_URL: REDIS_URL as string,
    REDIS_KEY_PREFIX: prefix,
    HMAC_SECRET: "stacks-race-test-secret-0123456789abcdefghij",
    // Every stack opens what another sealed (an idempotent replay, a registered mobile).
    STORE_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString("base64")}`,
    OTP_COOLDOWN_SECONDS: String(COOLDOWN_SECONDS),
    OTP_WINDOW_MAX: "3",
    OTP_WINDOW_SECONDS: "600",
  };
}

/** The pids of the processes (or workers) that said they were ready. */
function readyPids(p: ServerProcess): number[] {
  return p
    .output()
    .split("\n")
    .filter((l) => l.includes('"GraphQL server ready"'))
    .map((l) => (JSON.parse(l) as { pid: number }).pid);
}

/**
 * Which stack logged this request's access line: its process's index and, under the primary of workers, the worker's
 * pid (a single server's lines carry none).
 */
function servedBy(processes: readonly ServerProcess[], requestId: string): string | undefined {
  for (const [i, p] of processes.entries())
    for (const line of p.output().split("\n")) {
      if (!line.includes(requestId) || !line.includes('"request completed"')) continue;
      return `${i}:${(JSON.parse(line) as { pid?: number }).pid}`;
    }
  return undefined;
}

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

type Topology = [name: string, start: (prefix: string, simulator: Simulator) => Promise<ServerProcess[]>];

const TOPOLOGIES: Topology[] = [
  [
    "two server processes",
    async (prefix, simulator) => {
      const processes = [startServerProcess(env(prefix, simulator)), startServerProcess(env(prefix, simulator))];
      await Promise.all(processes.map((p) => p.ready));
      return processes;
    },
  ],
  [
    "one process of two workers (WEB_CONCURRENCY=2)",
    async (prefix, simulator) => {
      const server = startServerProcess({ ...env(prefix, simulator), WEB_CONCURRENCY: "2" });
      await server.ready;
      await until("both workers to be ready", () => new Set(readyPids(server)).size === 2);
      return [server];
    },
  ],
];

describeWithRedis("two stacks racing on one Redis", () => {
  describe.each(TOPOLOGIES)("requests for one customer at once on %s sharing one Redis", (_name, startTopology) => {
    const prefix = uniquePrefix();
    let simulator: Simulator;
    let processes: ServerProcess[] = [];
    let bases: string[] = [];

    beforeAll(async () => {
      simulator = await startSimulator({
        registrationId: SIMULATOR_REGISTRATION_ID,
        companyCode: SIMULATOR_COMPANY_CODE,
      });
      try {
        processes = await startTopology(prefix, simulator);
        bases = await Promise.all(processes.map((p) => p.ready));
      } catch (error) {
        for (const p of processes) await p.kill();
        throw error;
      }
    }, 60_000);
    afterAll(async () => {
      for (const p of processes) await p.kill();
      await simulator?.close();
      await deletePrefixes([prefix]);
    });
    beforeEach(() => simulator.resetCalls());

    /**
     * One GraphQL request on a connection of its own (the primary of two workers hands connections out in turn), the
     * i-th to the i-th stack in turn: its result and request id.
     */
    async function post(
      i: number,
      query: string,
      variables: object,
      field: string,
      headers: Record<string, string> = {},
    ): Promise<{ result: Result; requestId: string; body: string }> {
      const client = new Client(bases[i % bases.length]);
      try {
        const res = await client.request({
          path: "/graphql",
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ query, variables }),
        });
        const body = await res.body.text();
        const result = (JSON.parse(body) as { data: Record<string, Result> }).data[field];
        return { result, requestId: String(res.headers["x-request-id"]), body };
      } finally {
        await client.close();
      }
    }

    /**
     * Whether every burst of the attempt under way was served by both stacks. The two processes get every other
     * request (each has its own base URL); the primary of two workers hands connections to whichever worker is free,
     * and a worker paused for the whole of a burst (a GC, a loaded CI box) leaves all of it to the other: that burst
     * raced nothing across stacks, though every assertion on its answers still holds.
     */
    let spread = true;

    /** `n` requests at once, spread over the stacks; notes whether each stack (process or worker) served some. */
    async function burst(n: number, request: (i: number) => ReturnType<typeof post>) {
      const answers = await Promise.all(Array.from({ length: n }, (_, i) => request(i)));
      await until("every access line", () => answers.every((a) => servedBy(processes, a.requestId) !== undefined));
      const pids = new Set(answers.map((a) => servedBy(processes, a.requestId)));
      if (pids.size !== 2) spread = false;
      return answers;
    }

    /**
     * Runs `scenario` (fresh identifiers each time; every assertion in it holds on every attempt) until an attempt's
     * every burst was served by both stacks, at most ATTEMPTS times: a race across stacks is what the test is for.
     */
    async function acrossBothStacks(scenario: () => Promise<void>): Promise<void> {
      for (let attempt = 1; ; attempt++) {
        spread = true;
        simulator.resetCalls();
        await scenario();
        if (spread || attempt === ATTEMPTS) break;
      }
      expect(spread).toBe(true);
    }

    const aeps = () => aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
    const resend = (i: number, variables: object, headers?: Record<string, string>) =>
      post(i, RESEND_AEPS_OTP, variables, "resendAepsOtp", headers);
    const noStoreFailure = (results: Result[]) =>
      expect(results.filter((r) => r.__typename === "ProtectionUnavailable")).toEqual([]);

    it("20 resendAepsOtp to one mobile and Aadhaar at once, half on each: one SMS, 19 OTP_COOLDOWN", async () => {
      await acrossBothStacks(async () => {
        const destination = aeps();
        const started = Date.now();
        const results = (await burst(20, (i) => resend(i, destination))).map((a) => a.result);
        // Within the cooldown, or the test says nothing (a second SMS would then be allowed).
        expect(Date.now() - started).toBeLessThan(COOLDOWN_SECONDS * 1000);
        expect(tally(results)).toEqual({ "AepsOtpResent:": 1, "OtpThrottled:OTP_COOLDOWN": 19 });
        expect(simulator.calls("aeps.resendOtp")).toBe(1);
      });
    }, 60_000);

    it("waves of ten at once, a cooldown apart, on both: the window's three SMS, then OTP_LIMIT_REACHED", async () => {
      await acrossBothStacks(async () => {
        const destination = aeps();
        const results: Result[] = [];
        let sent = 0;
        // Each wave after the cooldown has room for one send until the window (3 per 600 s) is used up. How many land
        // in a wave depends on how long a wave takes on a loaded machine; what must hold is that AOPay saw exactly the
        // sends answered as sent, and never more than the window's.
        for (let wave = 0; wave < 5; wave++) {
          const answers = (await burst(10, (i) => resend(i, destination))).map((a) => a.result);
          results.push(...answers);
          sent += answers.filter((r) => r.__typename === "AepsOtpResent").length;
          expect(simulator.calls("aeps.resendOtp")).toBe(sent);
          if (sent === 3) break;
          await new Promise((r) => setTimeout(r, COOLDOWN_SECONDS * 1000 + 100));
        }
        expect(sent).toBe(3);
        const refused = results.filter((r) => r.__typename !== "AepsOtpResent");
        for (const r of refused) expect(r.code).toMatch(/^(OTP_COOLDOWN|OTP_LIMIT_REACHED)$/);
        await new Promise((r) => setTimeout(r, COOLDOWN_SECONDS * 1000 + 100));
        const after = (await burst(10, (i) => resend(i, destination))).map((a) => a.result);
        expect(tally(after)).toEqual({ "OtpThrottled:OTP_LIMIT_REACHED": 10 });
        expect(simulator.calls("aeps.resendOtp")).toBe(3);
      });
    }, 150_000);

    it("one Idempotency-Key sent ten times at once, half on each: one SMS, then the same replay from both", async () => {
      await acrossBothStacks(async () => {
        const destination = aeps();
        const key = randomUUID();
        const answers = await burst(10, (i) => resend(i, destination, { "idempotency-key": key }));
        const results = answers.map((a) => a.result);
        noStoreFailure(results);
        // The request that sent, replays of it (after it answered), and conflicts (while it ran).
        for (const r of results)
          if (r.__typename !== "AepsOtpResent")
            expect(r).toMatchObject({ __typename: "IdempotencyConflict", code: "IDEMPOTENCY_IN_FLIGHT" });
        expect(results.some((r) => r.__typename === "AepsOtpResent")).toBe(true);
        expect(simulator.calls("aeps.resendOtp")).toBe(1);
        const replays = await Promise.all([0, 1, 2, 3].map((i) => resend(i, destination, { "idempotency-key": key })));
        for (const replay of replays) expect(replay.body).toBe(replays[0].body);
        expect(replays[0].result.__typename).toBe("AepsOtpResent");
        expect(simulator.calls("aeps.resendOtp")).toBe(1);
      });
    }, 60_000);

    it("generateCibilOtp ten times at once while its PAN registers ten times, on both: one SMS, each answer typed", async () => {
      await acrossBothStacks(async () => {
        const pan = nextPan();
        const mobiles = [nextMobile(), nextMobile()];
        const register = (i: number) =>
          post(
            i,
            REGISTER_CIBIL_CUSTOMER,
            { input: registrationInput({ pan, mobile: mobiles[i % 2] }) },
            "registerCibilCustomer",
          );
        const customer = (await register(0)).result;
        expect(customer.__typename).toBe("CibilCustomerRegistered");
        simulator.resetCalls();
        const input = { cibilId: customer.cibilId, accessToken: customer.accessToken };
        const sends = burst(10, (i) => post(i, GENERATE_CIBIL_OTP, { input }, "generateCibilOtp"));
        const registrations = burst(10, (i) => register(i + 1));
        const sent = (await sends).map((a) => a.result);
        const registered = (await registrations).map((a) => a.result);
        noStoreFailure([...sent, ...registered]);
        expect(tally(sent)).toEqual({ "CibilOtpChallenge:": 1, "OtpThrottled:OTP_COOLDOWN": 9 });
        expect(simulator.calls("cibil.generateOtp")).toBe(1);
        // A registration meets the send under way (refused, retryable, nothing sent), or goes; AOPay saw those that
        // went.
        for (const r of registered.filter((x) => x.__typename !== "CibilCustomerRegistered"))
          expect(r).toMatchObject({
            __typename: "RegistrationRefused",
            code: expect.stringMatching(/^(OTP_SEND_IN_PROGRESS|REGISTRATION_IN_PROGRESS)$/),
            retryable: true,
          });
        const went = registered.filter((x) => x.__typename === "CibilCustomerRegistered").length;
        expect(simulator.calls("cibil.register")).toBe(went);
      });
    }, 60_000);
  });
});
