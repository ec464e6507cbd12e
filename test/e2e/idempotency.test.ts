import { randomUUID } from "node:crypto";
import { request } from "undici";
import { hashApiKey } from "../../src/auth/authenticator";
import { upstreamEnv } from "../helpers/fake-upstream";
import { freePort } from "../helpers/free-port";
import {
  aepsInput,
  cibilInput,
  GENERATE_CIBIL_OTP,
  RESEND_AEPS_OTP,
  resultOf,
  withoutRequestIds,
} from "../helpers/operations";
import { startTestStack, TEST_API_KEY, TEST_API_KEYS_ENTRY, type TestStack } from "../helpers/stack";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Idempotency-Key on OTP mutations (docs/security-requirements.md E4)", () => {
  let t: TestStack;
  const OTHER_KEY = "aopk_second_client_key_abcdefghijklmnopqrstuv";
  beforeAll(async () => {
    t = await startTestStack({ API_KEYS: `${TEST_API_KEYS_ENTRY},second-client:${hashApiKey(OTHER_KEY)}` });
  });
  afterAll(() => t?.stop());
  beforeEach(() => t.simulator?.resetCalls());

  const send = (cibilId: string, key: string, headers: Record<string, string> = {}) =>
    t.gql(GENERATE_CIBIL_OTP, cibilInput(cibilId), { "idempotency-key": key, ...headers });

  it("the same key replays the first result, marked Idempotent-Replayed, without a second upstream call", async () => {
    const key = randomUUID();
    const first = await send("800000001", key);
    const second = await send("800000001", key);
    expect(resultOf(first.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    expect(second.body).toEqual(first.body);
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    expect(second.headers["idempotent-replayed"]).toBe("true");
    expect(t.simulator?.calls()).toBe(1);
    // The replay's one line, its access line, says so (a client repeating its key cannot double the log).
    expect(t.logs.records().filter((r) => r.requestId === second.headers["x-request-id"])).toEqual([
      expect.objectContaining({ msg: "request completed", result: "CibilOtpChallenge", idempotency: "replayed" }),
    ]);
  });

  it("a double-tapped Send OTP button sends one SMS: 10 concurrent requests with one key make one upstream call", async () => {
    const key = randomUUID();
    // Scenario 888 answers after 2 s, so the other nine arrive while the first is in flight.
    const results = await Promise.all(Array.from({ length: 10 }, () => send("800000888", key)));
    const types = results.map((r) => resultOf(r.body, "generateCibilOtp").__typename);
    expect(types.filter((x) => x === "CibilOtpChallenge")).toHaveLength(1);
    expect(types.filter((x) => x === "IdempotencyConflict")).toHaveLength(9);
    const conflict = results
      .map((r) => resultOf(r.body, "generateCibilOtp"))
      .find((r) => r.__typename === "IdempotencyConflict");
    expect(conflict).toMatchObject({ code: "IDEMPOTENCY_IN_FLIGHT", retryable: true, retryAfterSeconds: 2 });
    expect(t.simulator?.calls()).toBe(1);
    const held = results.find((r) => resultOf(r.body, "generateCibilOtp").__typename === "IdempotencyConflict");
    expect(t.logs.records().filter((r) => r.requestId === held?.headers["x-request-id"])).toEqual([
      expect.objectContaining({ msg: "request completed", result: "IDEMPOTENCY_IN_FLIGHT", idempotency: "in-flight" }),
    ]);
    // Once the first has finished, the same key replays it.
    const later = await send("800000888", key);
    expect(later.headers["idempotent-replayed"]).toBe("true");
    expect(t.simulator?.calls()).toBe(1);
  });

  it("the same key with different input is refused with 422 IDEMPOTENCY_KEY_REUSED, and nothing is sent", async () => {
    const key = randomUUID();
    await send("800000002", key);
    const other = await send("800000003", key);
    expect(other.status).toBe(422);
    expect(other.body.errors?.[0]?.extensions).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED" });
    expect(withoutRequestIds(other.text)).not.toContain("800000003");
    expect(t.simulator?.calls()).toBe(1);
  });

  it("replays failures that reached AOPay too (a rejection is not retried under the same key)", async () => {
    const key = randomUUID();
    const first = await send("800000207", key);
    const again = await send("800000207", key);
    expect(resultOf(again.body, "generateCibilOtp")).toMatchObject({
      __typename: "UpstreamRejected",
      upstreamCode: "207",
    });
    expect(again.body).toEqual(first.body);
    expect(t.simulator?.calls()).toBe(1);
  });

  it("keys are scoped per client: two clients may use the same key", async () => {
    const key = randomUUID();
    await send("800000004", key, { "x-api-key": TEST_API_KEY });
    const other = await send("800000004", key, { "x-api-key": OTHER_KEY });
    expect(other.headers["idempotent-replayed"]).toBeUndefined();
    expect(t.simulator?.calls()).toBe(2);
  });

  it("keys are scoped per mutation, and replay works for AEPS", async () => {
    const key = randomUUID();
    await send("800000005", key);
    const aeps1 = await t.gql(RESEND_AEPS_OTP, aepsInput(), { "idempotency-key": key });
    const aeps2 = await t.gql(RESEND_AEPS_OTP, aepsInput(), { "idempotency-key": key });
    expect(resultOf(aeps1.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    expect(aeps2.headers["idempotent-replayed"]).toBe("true");
    expect(aeps2.body).toEqual(aeps1.body);
    expect(t.simulator?.calls("aeps.resendOtp")).toBe(1);
  });

  it.each([
    ["too long", "k".repeat(256)],
    ["with a space", "two words"],
    ["with a non-ASCII character", "clé"],
  ])("rejects a key %s before anything is sent", async (_what, key) => {
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput("800000006"), { "idempotency-key": key });
    expect(res.body.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      fields: [{ field: "Idempotency-Key" }],
    });
    expect(t.simulator?.calls()).toBe(0);
  });
});

describe("Idempotency-Key lifetime and release", () => {
  let t: TestStack | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it("keys expire (IDEMPOTENCY_TTL_SECONDS): after that the same key sends again", async () => {
    t = await startTestStack({ IDEMPOTENCY_TTL_SECONDS: "1" });
    const key = randomUUID();
    await t.gql(GENERATE_CIBIL_OTP, cibilInput("810000001"), { "idempotency-key": key });
    await sleep(1200);
    const again = await t.gql(GENERATE_CIBIL_OTP, cibilInput("810000001"), { "idempotency-key": key });
    expect(again.headers["idempotent-replayed"]).toBeUndefined();
    expect(t.simulator?.calls()).toBe(2);
  });

  it("an expired key is still subject to the OTP cooldown", async () => {
    t = await startTestStack({ IDEMPOTENCY_TTL_SECONDS: "1", OTP_COOLDOWN_SECONDS: "60" });
    const key = randomUUID();
    await t.gql(GENERATE_CIBIL_OTP, cibilInput("810000002"), { "idempotency-key": key });
    await sleep(1200);
    const again = await t.gql(GENERATE_CIBIL_OTP, cibilInput("810000002"), { "idempotency-key": key });
    expect(resultOf(again.body, "generateCibilOtp")).toMatchObject({ code: "OTP_COOLDOWN" });
    expect(t.simulator?.calls()).toBe(1);
  });

  it("a throttled attempt does not use up the key: after the cooldown the same key sends", async () => {
    t = await startTestStack({ OTP_COOLDOWN_SECONDS: "1" });
    await t.gql(GENERATE_CIBIL_OTP, cibilInput("810000003"));
    const key = randomUUID();
    const throttled = await t.gql(GENERATE_CIBIL_OTP, cibilInput("810000003"), { "idempotency-key": key });
    expect(resultOf(throttled.body, "generateCibilOtp")).toMatchObject({ code: "OTP_COOLDOWN" });
    await sleep(1100);
    const sent = await t.gql(GENERATE_CIBIL_OTP, cibilInput("810000003"), { "idempotency-key": key });
    expect(resultOf(sent.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    expect(t.simulator?.calls()).toBe(2);
  });

  it("a failure that provably sent nothing frees the key: the same key tries again", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    t = await startTestStack({
      ...upstreamEnv(url),
    });
    const key = randomUUID();
    const first = await t.gql(GENERATE_CIBIL_OTP, cibilInput("810000004"), { "idempotency-key": key });
    const second = await t.gql(GENERATE_CIBIL_OTP, cibilInput("810000004"), { "idempotency-key": key });
    expect(resultOf(first.body, "generateCibilOtp")).toMatchObject({ code: "UPSTREAM_UNAVAILABLE" });
    expect(second.headers["idempotent-replayed"]).toBeUndefined();
  });
});

describe("an Idempotency-Key whose result is over IDEMPOTENCY_MAX_RESULT_BYTES (docs/security.md)", () => {
  let t: TestStack;
  // 512 bytes: below the simulator's CIBIL challenge (its question and answer choices), so that one is too large.
  beforeAll(async () => {
    t = await startTestStack({ IDEMPOTENCY_MAX_RESULT_BYTES: "512" });
  });
  afterAll(() => t?.stop());

  /** aopay_idempotency_results_unkept_total on a real scrape of the metrics listener (undefined: not on the page). */
  async function unkept(): Promise<number | undefined> {
    const res = await request(t.stack.app.metricsUrl as string);
    expect(res.statusCode).toBe(200);
    const line = /^aopay_idempotency_results_unkept_total (\S+)$/m.exec(await res.body.text());
    return line ? Number(line[1]) : undefined;
  }

  it("the client gets its answer once; a retry of the key sends no second OTP and is told OUTCOME_UNKNOWN", async () => {
    // On the page at 0 from the first scrape (Metrics.startAtZero), so that increase() sees the first one.
    expect(await unkept()).toBe(0);
    const key = randomUUID();
    const send = () => t.gql(GENERATE_CIBIL_OTP, cibilInput("800000001"), { "idempotency-key": key });
    const first = await send();
    const second = await send();
    expect(resultOf(first.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    expect(JSON.stringify(resultOf(first.body, "generateCibilOtp")).length).toBeGreaterThan(512);
    expect(resultOf(second.body, "generateCibilOtp")).toMatchObject({
      __typename: "OutcomeUnknown",
      code: "OUTCOME_UNKNOWN",
    });
    expect(second.headers["idempotent-replayed"]).toBe("true");
    expect(t.simulator?.calls()).toBe(1);
    const warned = t.logs.records().filter((r) => r.requestId === first.headers["x-request-id"] && r.level === "warn");
    expect(warned).toEqual([
      expect.objectContaining({
        otpSend: expect.objectContaining({ field: "generateCibilOtp", idempotency: "unkept" }),
      }),
    ]);
    // Counted once, for the result not kept: the repeat answered OUTCOME_UNKNOWN is a replay, not a second one.
    expect(await unkept()).toBe(1);
  });
});
