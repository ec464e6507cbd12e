import { createHash } from "node:crypto";
import Redis from "ioredis";
import { hashApiKey } from "../../src/auth/authenticator";
import { SCENARIOS } from "../../src/simulator/scenarios";
import { GUARDED_MUTATION_NAMES } from "../../src/graphql/guarded-mutations";
import { GUARDED_SAMPLES, guardedDocument } from "../helpers/guarded-samples";
import { registrationInput } from "../helpers/identifiers";
import { GENERATE_CIBIL_OTP, RESEND_AEPS_OTP } from "../helpers/operations";
import { deleteKeys, dumpKeys, itWithRedis, REDIS_URL, uniquePrefix } from "../helpers/redis";
import { LENIENT_THROTTLE, startTestStack, type TestStack } from "../helpers/stack";

/**
 * Canary values fed through every path with LOG_LEVEL=trace: success, every simulator scenario (each upstream
 * failure and fault), every kind of validation and coercion error, every throttle, idempotent replays, conflicts
 * and mismatches. None may appear in any log line, response body, response header or (with REDIS_URL) Redis key or
 * value (docs/security-requirements.md D1-D4).
 */
const CANARY = {
  aadhaar: "999971658847",
  accessToken: "tokCANARY7f3a9c",
  userKey: "CANARYKEY1",
  primaryKeyId: "PKCANARY42",
  encodeTxnId: "ENCCANARY42",
  registrationId: "CANARY-REG-9931",
  companyCode: "CANARYCO77",
  apiKey: "aopk_CANARY_api_key_0123456789abcdefghij",
  otp: "40719263",
  pan: "CNRPY7315Q",
  email: "canary.person@example.org",
  dateOfBirth: "1987-11-29",
};
const mobileFor = (suffix: string) => `9123456${suffix}`;
const SUFFIXES = SCENARIOS.map((s) => s.suffix ?? "123").filter((s) => s !== "888"); // skip the 2-second slow scenario
// The registration references are returned to the client on success by design (the next call needs them), so for
// them the rule is "never logged or stored in clear"; for everything else it is "never anywhere".
const RETURNED_BY_DESIGN = new Set(["primaryKeyId", "encodeTxnId"]);

describe("no PII or credential leaves the process in clear (LOG_LEVEL=trace)", () => {
  const stacks: TestStack[] = [];
  const responses: string[] = [];
  const mobiles: string[] = [];
  const prefixes: string[] = [];
  let redis: Redis | undefined;

  const start = async (env: Record<string, string>) => {
    // One key prefix per stack: stacks with different budgets must not share counters.
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const t = await startTestStack({
      // The lowest level, so every line any level writes (README.md: "at any log level"); it was debug.
      LOG_LEVEL: "trace",
      AOPAY_REGISTRATION_ID: CANARY.registrationId,
      AOPAY_COMPANY_CODE: CANARY.companyCode,
      AOPAY_DEADLINE_MS: "400",
      API_KEYS: `canary-client:${hashApiKey(CANARY.apiKey)}`,
      HMAC_SECRET: "pii-test-secret-0123456789abcdefghijklmn",
      ...(REDIS_URL ? { REDIS_URL, REDIS_KEY_PREFIX: prefix } : {}),
      ...env,
    });
    stacks.push(t);
    return t;
  };
  const record = (res: Awaited<ReturnType<TestStack["gql"]>>) => responses.push(res.text, JSON.stringify(res.headers));
  const aeps = (mobile: string, overrides: Record<string, unknown> = {}) => ({
    input: {
      userKey: CANARY.userKey,
      mobile,
      aadhaar: CANARY.aadhaar,
      primaryKeyId: CANARY.primaryKeyId,
      encodeTxnId: CANARY.encodeTxnId,
      ...overrides,
    },
  });
  const auth = { "x-api-key": CANARY.apiKey };

  beforeAll(async () => {
    // 1. Every upstream scenario, with budgets out of the way.
    const t = await start(LENIENT_THROTTLE);
    for (const suffix of SUFFIXES) {
      const mobile = mobileFor(suffix);
      mobiles.push(mobile);
      record(
        await t.gql(
          GENERATE_CIBIL_OTP,
          { input: { cibilId: `555000${suffix}`, accessToken: CANARY.accessToken } },
          auth,
        ),
      );
      record(await t.gql(RESEND_AEPS_OTP, aeps(mobile), auth));
    }
    // 2. Validation errors: bad checksum (an Aadhaar-shaped canary), bad mobile, long user key; coercion errors.
    mobiles.push(mobileFor("321"));
    const base = aeps(mobileFor("321")).input;
    record(await t.gql(RESEND_AEPS_OTP, { input: { ...base, aadhaar: "999971658848" } }, auth));
    record(await t.gql(RESEND_AEPS_OTP, { input: { ...base, mobile: "5123456321" } }, auth));
    record(await t.gql(RESEND_AEPS_OTP, { input: { ...base, userKey: `${CANARY.userKey}XYZ` } }, auth));
    const { mobile: _m, ...missingMobile } = base;
    record(await t.gql(RESEND_AEPS_OTP, { input: missingMobile }, auth));
    record(await t.gql(RESEND_AEPS_OTP, { input: { ...base, aadhaar: Number(CANARY.aadhaar) } }, auth));
    record(await t.gql(GENERATE_CIBIL_OTP, { input: { cibilId: 5, accessToken: CANARY.accessToken } }, auth));
    // The flows: registration (PAN, e-mail, date of birth), OTP submissions and verifications with a canary OTP,
    // right and wrong, and a credit history read.
    const reg = await t.gql(
      `mutation($input: RegisterCibilCustomerInput!) { registerCibilCustomer(input: $input) { __typename ... on CibilCustomerRegistered { cibilId accessToken maskedPan maskedEmail } } }`,
      {
        input: registrationInput({
          pan: CANARY.pan,
          dateOfBirth: CANARY.dateOfBirth,
          email: CANARY.email,
          mobile: mobileFor("741"),
        }),
      },
      auth,
    );
    record(reg);
    mobiles.push(mobileFor("741"));
    const registered = (reg.body.data as { registerCibilCustomer: { cibilId: string; accessToken: string } })
      .registerCibilCustomer;
    const submit = `mutation($input: SubmitCibilOtpInput!) { submitCibilOtp(input: $input) { __typename ... on Failure { code message } ... on CibilOtpVerified { status creditHistory { __typename } } } }`;
    record(
      await t.gql(
        submit,
        {
          input: {
            cibilId: registered.cibilId,
            accessToken: registered.accessToken,
            otp: CANARY.otp,
            questionKey: "k",
            answerKey: "a",
          },
        },
        auth,
      ),
    );
    record(
      await t.gql(
        submit,
        {
          input: {
            cibilId: registered.cibilId,
            accessToken: registered.accessToken,
            otp: `${CANARY.otp}9`,
            questionKey: "k",
            answerKey: "a",
          },
        },
        auth,
      ),
    );
    const verify = `mutation($input: VerifyAepsOtpInput!) { verifyAepsOtp(input: $input) { __typename ... on Failure { code message } } }`;
    record(await t.gql(verify, { input: { ...aeps(mobileFor("742")).input, otp: CANARY.otp } }, auth));
    record(await t.gql(verify, { input: { ...aeps(mobileFor("742")).input, otp: "1" } }, auth));
    mobiles.push(mobileFor("742"));
    record(
      await t.gql(`query { cibilCreditHistory(cibilId: "${registered.cibilId}") { __typename } }`, undefined, auth),
    );
    // Every guarded mutation, as GUARDED_MUTATIONS lists them (a new one is exercised here without editing this file).
    mobiles.push(mobileFor("743"));
    for (const field of GUARDED_MUTATION_NAMES) {
      const input = GUARDED_SAMPLES[field].input({ ...CANARY, cibilId: "555000743", mobile: mobileFor("743") });
      record(await t.gql(guardedDocument(field), { input }, auth));
    }
    // A wrong API key (401) and an anonymous call.
    record(
      await t.gql(
        GENERATE_CIBIL_OTP,
        { input: { cibilId: "555000777", accessToken: CANARY.accessToken } },
        { "x-api-key": `${CANARY.apiKey}x` },
      ),
    );

    // 3. Throttles and idempotency, with the real budgets.
    const strict = await start({
      OTP_COOLDOWN_SECONDS: "60",
      OTP_WINDOW_MAX: "3",
      OTP_DAILY_MAX: "10",
      OTP_IP_MAX: "1000",
      OTP_CLIENT_MAX: "6",
      OTP_GLOBAL_MAX: "1000",
    });
    const mobile = mobileFor("654");
    mobiles.push(mobile);
    record(await strict.gql(RESEND_AEPS_OTP, aeps(mobile), { ...auth, "idempotency-key": "canary-key-1" }));
    record(await strict.gql(RESEND_AEPS_OTP, aeps(mobile), { ...auth, "idempotency-key": "canary-key-1" })); // replay
    record(
      await strict.gql(RESEND_AEPS_OTP, aeps(mobile, { encodeTxnId: "OTHER" }), {
        ...auth,
        "idempotency-key": "canary-key-1",
      }),
    ); // mismatch
    record(await strict.gql(RESEND_AEPS_OTP, aeps(mobile), auth)); // cooldown
    for (let i = 0; i < 6; i++)
      record(
        await strict.gql(
          GENERATE_CIBIL_OTP,
          // A token per send (the token has a budget of its own), each carrying the canary.
          { input: { cibilId: `55600${i}`, accessToken: `${CANARY.accessToken}${i}` } },
          auth,
        ),
      ); // client cap
    if (REDIS_URL) redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    for (const t of stacks) await t.stop();
    if (redis) {
      for (const prefix of prefixes) await deleteKeys(redis, prefix);
      await redis.quit();
    }
  });

  const logs = () => stacks.map((t) => t.logs.text()).join("");

  it("exercised every path (the log has debug lines, an unknown outcome, throttles, a replay)", () => {
    const records = stacks.flatMap((t) => t.logs.records());
    expect(records.some((r) => r.level === "debug")).toBe(true);
    expect(records.some((r) => (r.upstream as { outcome?: string } | undefined)?.outcome === "OUTCOME_UNKNOWN")).toBe(
      true,
    );
    const all = responses.join("\n");
    for (const code of [
      "OTP_COOLDOWN",
      "RATE_LIMITED",
      "IDEMPOTENCY_KEY_REUSED",
      "BAD_USER_INPUT",
      "UNAUTHENTICATED",
      "UPSTREAM_REJECTED",
    ]) {
      expect(all).toContain(code);
    }
    expect(all).toContain('"idempotent-replayed":"true"');
  });

  it.each(Object.entries(CANARY))("the %s canary appears in no log line", (_name, value) => {
    expect(logs()).not.toContain(value);
  });

  it.each(Object.entries(CANARY).filter(([name]) => !RETURNED_BY_DESIGN.has(name)))(
    "the %s canary appears in no response body or header",
    (_name, value) => {
      for (const text of responses) expect(text).not.toContain(value);
    },
  );

  it("no canary mobile appears in clear in logs or responses", () => {
    for (const mobile of mobiles) {
      expect(logs()).not.toContain(mobile);
      for (const text of responses) expect(text).not.toContain(mobile);
    }
  });

  it("the Aadhaar appears only as XXXX XXXX 8847 in responses", () => {
    const shown = responses.join("\n").match(/XXXX XXXX [0-9]{4}/g) ?? [];
    expect(shown.length).toBeGreaterThan(0);
    expect(new Set(shown)).toEqual(new Set(["XXXX XXXX 8847"]));
  });

  it("names customers on access lines only by keyed references: no unkeyed hash of a canary; no reference in an answer", () => {
    const access = stacks.flatMap((t) => t.logs.records()).filter((r) => r.msg === "request completed");
    const refs = access.flatMap((r) => (r.refs as string[] | undefined) ?? []);
    // Every kind is exercised: mobile, Aadhaar, PAN, CIBIL id, AEPS user key.
    expect(new Set(refs.map((r) => r.slice(0, 2)))).toEqual(new Set(["m_", "a_", "p_", "c_", "u_"]));
    for (const ref of refs) expect(ref).toMatch(/^[mapcu]_[bcdfghjkmnpqrstv]{16}$/);
    // Refused requests name their customers too: a throttled send, an idempotent replay.
    const refused = access.filter((r) => r.throttled !== undefined || r.idempotency !== undefined);
    expect(refused.length).toBeGreaterThan(1);
    for (const line of refused) expect((line.refs as string[] | undefined)?.length).toBeGreaterThan(0);
    const text = logs();
    for (const value of [...Object.values(CANARY), ...mobiles, CANARY.pan.toLowerCase()]) {
      for (const algo of ["sha256", "md5", "sha1"])
        expect(text).not.toContain(createHash(algo).update(value).digest("hex").slice(0, 16));
    }
    for (const ref of new Set(refs)) for (const answer of responses) expect(answer).not.toContain(ref.slice(2));
  });

  itWithRedis("no canary, nor an unsalted hash of one, is in any Redis key or value", async () => {
    const entries = (await Promise.all(prefixes.map((p) => dumpKeys(redis as Redis, p)))).flat();
    expect(entries.length).toBeGreaterThan(10);
    const stored = entries.map((e) => `${e.key}\n${e.value}`).join("\n");
    const secrets = [
      ...Object.entries(CANARY)
        .filter(([n]) => !RETURNED_BY_DESIGN.has(n))
        .map(([, v]) => v),
      ...mobiles,
    ];
    for (const value of secrets) {
      expect(stored).not.toContain(value);
      for (const algo of ["sha256", "md5"]) expect(stored).not.toContain(createHash(algo).update(value).digest("hex"));
    }
  });
});
