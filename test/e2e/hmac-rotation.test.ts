import { randomUUID } from "node:crypto";
import { request } from "undici";
import { SIMULATOR_COMPANY_CODE, SIMULATOR_REGISTRATION_ID } from "../../src/config";
import { type Simulator, startSimulator } from "../../src/simulator/server";
import { KeyHasher } from "../../src/protection/key-hasher";
import { upstreamEnv } from "../helpers/fake-upstream";
import {
  nextAadhaar,
  nextAepsRegistration,
  nextMobile,
  registrationInput,
  type RegistrationInput,
} from "../helpers/identifiers";
import {
  aepsInput,
  CIBIL_CREDIT_HISTORY,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  resultOf,
  rightAnswer,
  SUBMIT_CIBIL_OTP,
} from "../helpers/operations";
import { connectRedis, deletePrefixes, describeWithRedis, REDIS_URL, uniquePrefix } from "../helpers/redis";
import { DEFAULT_THROTTLE, startTestStack, type TestStack } from "../helpers/stack";

const OLD = "rotation-old-secret-0123456789abcdefghijk";
const NEW = "rotation-new-secret-0123456789abcdefghijk";

/**
 * HMAC_SECRET rotated as docs/security.md "Rotating the HMAC secret" says: two server stacks in sequence on one Redis
 * (and one AOPay, the simulator), the first under the old secret, the second under the new one with
 * HMAC_SECRET_PREVIOUS=<old>. What the first recorded must hold on the second: a destination in its cooldown stays in
 * it, a repeated Idempotency-Key replays, a consent still opens the credit report, a registered mobile still counts for
 * its CIBIL id. Without HMAC_SECRET_PREVIOUS each of them starts afresh, as the page says (the same cases, expected
 * reset). STORE_ENCRYPTION_KEYS is unset, so records are sealed with the key derived from the secret: the derived key
 * of the previous secret must open them.
 */
describeWithRedis("HMAC_SECRET rotation with HMAC_SECRET_PREVIOUS", () => {
  let simulator: Simulator;
  const prefixes: string[] = [];
  const stacks: TestStack[] = [];

  beforeAll(async () => {
    simulator = await startSimulator({
      registrationId: SIMULATOR_REGISTRATION_ID,
      companyCode: SIMULATOR_COMPANY_CODE,
    });
  });
  beforeEach(() => {
    simulator.resetCalls();
    prefixes.push(uniquePrefix());
  });
  afterEach(async () => {
    for (const t of stacks.splice(0)) await t.stop();
  });
  afterAll(async () => {
    await simulator.close();
    await deletePrefixes(prefixes);
  });

  /** A server on this test's Redis prefix: `secret`, and `previous` as HMAC_SECRET_PREVIOUS when given. */
  const server = async (secret: string, previous?: string, env: Record<string, string> = {}): Promise<TestStack> => {
    const t = await startTestStack({
      ...upstreamEnv(simulator.url.href),
      REDIS_URL: REDIS_URL as string,
      REDIS_KEY_PREFIX: prefixes.at(-1) as string,
      HMAC_SECRET: secret,
      ...(previous === undefined ? {} : { HMAC_SECRET_PREVIOUS: previous }),
      ...env,
    });
    stacks.push(t);
    return t;
  };
  /** The old server stops (an env change restarts the process), the new one starts on the same Redis. */
  const rotate = async (old: TestStack, previous: string | undefined, env?: Record<string, string>) => {
    await old.stop();
    stacks.splice(stacks.indexOf(old), 1);
    return server(NEW, previous, env);
  };
  /** An AEPS send to `mobile`, every other destination (Aadhaar, user key, references) fresh. */
  const resend = async (t: TestStack, mobile: string) =>
    resultOf(
      (await t.gql(RESEND_AEPS_OTP, aepsInput(mobile, { ...nextAepsRegistration(), aadhaar: nextAadhaar() }))).body,
      "resendAepsOtp",
    );
  /** aopay_rotation_older_secret_reads_total's series above 0, as `store/secret`: count. */
  const olderReads = async (t: TestStack): Promise<Record<string, number>> => {
    const page = await (await request(t.stack.app.metricsUrl as string)).body.text();
    const counts: Record<string, number> = {};
    const series = /^aopay_rotation_older_secret_reads_total\{store="(\w+)",secret="(\w+)"\} (\d+)$/gm;
    for (const [, store, secret, n] of page.matchAll(series))
      if (Number(n) > 0) counts[`${store}/${secret}`] = Number(n);
    return counts;
  };
  const register = async (t: TestStack, input: RegistrationInput) => {
    const registered = resultOf((await t.gql(REGISTER_CIBIL_CUSTOMER, { input })).body, "registerCibilCustomer");
    expect(registered.__typename).toBe("CibilCustomerRegistered");
    return registered as unknown as { cibilId: string; accessToken: string };
  };

  describe.each([
    ["with HMAC_SECRET_PREVIOUS=<old>: nothing resets", OLD, true],
    ["without it: everything starts afresh (the documented reset)", undefined, false],
  ])("%s", (_name, previous, kept) => {
    it("a destination in its cooldown stays in it: AOPay sees one send", async () => {
      const old = await server(OLD, undefined, DEFAULT_THROTTLE);
      const mobile = nextMobile();
      expect((await resend(old, mobile)).__typename).toBe("AepsOtpResent");
      const updated = await rotate(old, previous, DEFAULT_THROTTLE);
      const again = await resend(updated, mobile);
      if (kept) {
        expect(again).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN", scope: "DESTINATION" });
        expect(simulator.calls("aeps.resendOtp")).toBe(1);
      } else {
        expect(again.__typename).toBe("AepsOtpResent");
        expect(simulator.calls("aeps.resendOtp")).toBe(2);
      }
    });

    it("a repeated Idempotency-Key replays: AOPay sees one call", async () => {
      // Lenient budgets (no cooldown): only the key can stop the second call.
      const old = await server(OLD);
      // The result's typename, or the error code of a refused key (a GraphQL error, HTTP 422).
      const send = async (t: TestStack, input: ReturnType<typeof aepsInput>, key: string) => {
        const { body } = await t.gql(RESEND_AEPS_OTP, input, { "idempotency-key": key });
        const code = (body as { errors?: Array<{ extensions?: { code?: string } }> }).errors?.[0]?.extensions?.code;
        return code ?? resultOf(body, "resendAepsOtp").__typename;
      };
      const fresh = () => aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
      const [input, repeated, reused] = [fresh(), randomUUID(), randomUUID()];
      expect(await send(old, input, repeated)).toBe("AepsOtpResent");
      expect(await send(old, fresh(), reused)).toBe("AepsOtpResent");
      const updated = await rotate(old, previous);
      expect(await send(updated, input, repeated)).toBe("AepsOtpResent");
      expect(simulator.calls("aeps.resendOtp")).toBe(kept ? 2 : 3);
      // The same key with other input: a reuse of it (judged by the old record's fingerprint, under the old secret).
      expect(await send(updated, fresh(), reused)).toBe(kept ? "IDEMPOTENCY_KEY_REUSED" : "AepsOtpResent");
      expect(simulator.calls("aeps.resendOtp")).toBe(kept ? 2 : 4);
    });

    it("a consent still lets the credit report be read", async () => {
      const old = await server(OLD);
      const { cibilId, accessToken } = await register(old, registrationInput());
      const challenge = resultOf(
        (await old.gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } })).body,
        "generateCibilOtp",
      );
      expect(challenge.__typename).toBe("CibilOtpChallenge");
      const verified = resultOf(
        (await old.gql(SUBMIT_CIBIL_OTP, { input: rightAnswer(cibilId, accessToken, challenge) })).body,
        "submitCibilOtp",
      );
      expect(verified.__typename).toBe("CibilOtpVerified");
      const updated = await rotate(old, previous);
      const history = resultOf((await updated.gql(CIBIL_CREDIT_HISTORY, { cibilId })).body, "cibilCreditHistory");
      expect(history.__typename).toBe(kept ? "CibilCreditHistory" : "ConsentRequired");
    });

    it("a registered mobile still counts for its CIBIL id", async () => {
      const old = await server(OLD, undefined, DEFAULT_THROTTLE);
      const input = registrationInput();
      const { cibilId, accessToken } = await register(old, input);
      const updated = await rotate(old, previous, DEFAULT_THROTTLE);
      const challenge = resultOf(
        (await updated.gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } })).body,
        "generateCibilOtp",
      );
      expect(challenge.__typename).toBe("CibilOtpChallenge");
      // The CIBIL send counted on the registered mobile (read from the record the old secret keyed): an AEPS send to
      // that mobile is in its cooldown. Without the record it is budgeted by the CIBIL id only.
      const aeps = await resend(updated, input.mobile);
      if (kept) expect(aeps).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
      else expect(aeps.__typename).toBe("AepsOtpResent");
    });
  });

  it("during a rolling rotation, a replica still on the old secret sees the sends of an updated one", async () => {
    const [old, updated] = [await server(OLD, undefined, DEFAULT_THROTTLE), await server(NEW, OLD, DEFAULT_THROTTLE)];
    const mobile = nextMobile();
    expect((await resend(updated, mobile)).__typename).toBe("AepsOtpResent");
    expect(await resend(old, mobile)).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
    const other = nextMobile();
    expect((await resend(old, other)).__typename).toBe("AepsOtpResent");
    expect(await resend(updated, other)).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
    expect(simulator.calls("aeps.resendOtp")).toBe(2);
  });

  it("a registration under the new secret of a PAN registered under the old one keeps both mobiles", async () => {
    const old = await server(OLD, undefined, DEFAULT_THROTTLE);
    const first = registrationInput();
    const { cibilId } = await register(old, first);
    const updated = await rotate(old, OLD, DEFAULT_THROTTLE);
    const second = { ...first, mobile: nextMobile() };
    const { accessToken } = await register(updated, second);
    const challenge = resultOf(
      (await updated.gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } })).body,
      "generateCibilOtp",
    );
    expect(challenge.__typename).toBe("CibilOtpChallenge");
    // The send counted on both mobiles: the old record's and the new registration's.
    for (const mobile of [first.mobile, second.mobile])
      expect(await resend(updated, mobile)).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
  });

  /**
   * The rolling rotation in two steps (docs/security.md "Rotating the HMAC secret"). Step 1 gives every replica
   * HMAC_SECRET_NEXT=<new>; step 2 switches them one by one to HMAC_SECRET=<new> with HMAC_SECRET_PREVIOUS=<old>. During
   * step 2 both configurations serve side by side on one Redis, and each must see what the other wrote, both ways:
   * here a replica not yet switched (`notYet`) and a switched one (`switched`), running at once.
   */
  describe("step 2 of a rolling rotation: a replica not yet switched and a switched one, side by side", () => {
    const pair = async (env: Record<string, string> = {}) => ({
      notYet: await server(OLD, undefined, { HMAC_SECRET_NEXT: NEW, ...env }),
      switched: await server(NEW, OLD, env),
    });
    /** The result's data, or the error code of a refused key (a GraphQL error, HTTP 422). */
    const send = async (t: TestStack, input: ReturnType<typeof aepsInput>, key: string) => {
      const { body } = await t.gql(RESEND_AEPS_OTP, input, { "idempotency-key": key });
      const code = (body as { errors?: Array<{ extensions?: { code?: string } }> }).errors?.[0]?.extensions?.code;
      return code ?? resultOf(body, "resendAepsOtp");
    };
    const fresh = () => aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
    /** A verified CIBIL OTP on `t`: the client's consent to read the customer's credit report. */
    const consent = async (t: TestStack) => {
      const { cibilId, accessToken } = await register(t, registrationInput());
      const challenge = resultOf(
        (await t.gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } })).body,
        "generateCibilOtp",
      );
      const input = rightAnswer(cibilId, accessToken, challenge);
      expect(resultOf((await t.gql(SUBMIT_CIBIL_OTP, { input })).body, "submitCibilOtp").__typename).toBe(
        "CibilOtpVerified",
      );
      return cibilId;
    };
    const report = async (t: TestStack, cibilId: string) =>
      resultOf((await t.gql(CIBIL_CREDIT_HISTORY, { cibilId })).body, "cibilCreditHistory").__typename;

    it("an Idempotency-Key used on either replica replays on the other, result and all: AOPay sees one call per key", async () => {
      // Lenient budgets (no cooldown): only the key can stop a second call.
      const { notYet, switched } = await pair();
      let calls = 0;
      for (const [first, second] of [
        [switched, notYet],
        [notYet, switched],
      ]) {
        const [input, key] = [fresh(), randomUUID()];
        const sent = await send(first, input, key);
        expect(sent).toMatchObject({ __typename: "AepsOtpResent" });
        expect(simulator.calls("aeps.resendOtp")).toBe(++calls);
        // The same result, opened by the other replica (its sealing key derived from the other secret), and no call.
        expect(await send(second, input, key)).toEqual(sent);
        expect(simulator.calls("aeps.resendOtp")).toBe(calls);
        // The same key with other input: a reuse, on the replica that did not record it.
        expect(await send(second, fresh(), key)).toBe("IDEMPOTENCY_KEY_REUSED");
      }
      expect(simulator.calls("aeps.resendOtp")).toBe(2);
    });

    it("ten taps with one Idempotency-Key, spread over both replicas at once: one reaches AOPay", async () => {
      const { notYet, switched } = await pair();
      const [input, key] = [fresh(), randomUUID()];
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? notYet : switched).gql(RESEND_AEPS_OTP, input, { "idempotency-key": key }),
        ),
      );
      const kinds = answers.map(({ body }) => resultOf(body, "resendAepsOtp").__typename);
      expect(kinds.filter((k) => k === "AepsOtpResent").length).toBeGreaterThanOrEqual(1);
      expect(kinds.every((k) => k === "AepsOtpResent" || k === "IdempotencyConflict")).toBe(true);
      expect(simulator.calls("aeps.resendOtp")).toBe(1);
    });

    it("each replica says at startup which step it is on, naming no secret", async () => {
      const { notYet, switched } = await pair();
      const line = (t: TestStack) =>
        t.logs
          .text()
          .split("\n")
          .find((l) => l.includes('"hmacRotation"'));
      expect(JSON.parse(line(notYet) ?? "{}")).toMatchObject({
        hmacRotation: { previous: 0, next: true, shared: true },
      });
      expect(JSON.parse(line(switched) ?? "{}")).toMatchObject({
        hmacRotation: { previous: 1, next: false, shared: true },
      });
      for (const t of [notYet, switched]) for (const secret of [OLD, NEW]) expect(t.logs.text()).not.toContain(secret);
    });

    it("a send on either replica counts on the other (the throttle, through the old secret's keys)", async () => {
      const { notYet, switched } = await pair(DEFAULT_THROTTLE);
      for (const [first, second] of [
        [switched, notYet],
        [notYet, switched],
      ]) {
        const mobile = nextMobile();
        expect((await resend(first, mobile)).__typename).toBe("AepsOtpResent");
        expect(await resend(second, mobile)).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
      }
      expect(simulator.calls("aeps.resendOtp")).toBe(2);
    });

    it("a consent recorded on either replica opens the credit report on the other", async () => {
      const { notYet, switched } = await pair();
      expect(await report(notYet, await consent(switched))).toBe("CibilCreditHistory");
      expect(await report(switched, await consent(notYet))).toBe("CibilCreditHistory");
    });

    it("a mobile registered on either replica counts for its CIBIL id's sends on the other", async () => {
      const { notYet, switched } = await pair(DEFAULT_THROTTLE);
      for (const [registrar, sender] of [
        [switched, notYet],
        [notYet, switched],
      ]) {
        const input = registrationInput();
        const { cibilId, accessToken } = await register(registrar, input);
        const challenge = resultOf(
          (await sender.gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } })).body,
          "generateCibilOtp",
        );
        expect(challenge.__typename).toBe("CibilOtpChallenge");
        // Counted on the registered mobile: an AEPS send to it is in its cooldown, on either replica.
        for (const t of [notYet, switched])
          expect(await resend(t, input.mobile)).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
      }
    });
  });

  it("step 1: a replica with HMAC_SECRET_NEXT writes nothing lasting under the coming secret", async () => {
    // What it records, a server on the coming secret alone (no HMAC_SECRET_PREVIOUS) must not find: the reads under
    // it are reads only, and step 1 changes nothing a replica without the setting sees.
    const announced = await server(OLD, undefined, { ...DEFAULT_THROTTLE, HMAC_SECRET_NEXT: NEW });
    const input = registrationInput();
    const { cibilId, accessToken } = await register(announced, input);
    const challenge = resultOf(
      (await announced.gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } })).body,
      "generateCibilOtp",
    );
    expect(challenge.__typename).toBe("CibilOtpChallenge");
    const verified = resultOf(
      (await announced.gql(SUBMIT_CIBIL_OTP, { input: rightAnswer(cibilId, accessToken, challenge) })).body,
      "submitCibilOtp",
    );
    expect(verified.__typename).toBe("CibilOtpVerified");
    const aeps = aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
    const [mobile, key] = [nextMobile(), randomUUID()];
    expect((await resend(announced, mobile)).__typename).toBe("AepsOtpResent");
    const keyed = await announced.gql(RESEND_AEPS_OTP, aeps, { "idempotency-key": key });
    expect(resultOf(keyed.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    // The same stack on its own secret sees all of it (the control): here a replica without the setting.
    const plain = await server(OLD, undefined, DEFAULT_THROTTLE);
    expect(await resend(plain, mobile)).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
    expect(resultOf((await plain.gql(CIBIL_CREDIT_HISTORY, { cibilId })).body, "cibilCreditHistory").__typename).toBe(
      "CibilCreditHistory",
    );
    // On the coming secret alone: nothing of it.
    await plain.stop();
    stacks.splice(stacks.indexOf(plain), 1);
    const coming = await rotate(announced, undefined, DEFAULT_THROTTLE);
    expect((await resend(coming, mobile)).__typename).toBe("AepsOtpResent");
    expect(resultOf((await coming.gql(CIBIL_CREDIT_HISTORY, { cibilId })).body, "cibilCreditHistory").__typename).toBe(
      "ConsentRequired",
    );
    // The registered mobile is not known under the coming secret: a CIBIL send there is budgeted on the id alone, and
    // leaves the mobile free for an AEPS send.
    const generated = await coming.gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } });
    expect(resultOf(generated.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    expect((await resend(coming, input.mobile)).__typename).toBe("AepsOtpResent");
    // The Idempotency-Key is not known there either: the repeat is a new send (AOPay sees it), not a replay.
    const sends = simulator.calls("aeps.resendOtp");
    const again = await coming.gql(RESEND_AEPS_OTP, aeps, { "idempotency-key": key });
    expect(resultOf(again.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    expect(simulator.calls("aeps.resendOtp")).toBe(sends + 1);
  });

  it("step 4 with HMAC_SECRET_RETIRED: registered mobiles are still read and copied; the throttle writes nothing under the old secret", async () => {
    const budgets = { ...DEFAULT_THROTTLE, OTP_COOLDOWN_SECONDS: "0", OTP_WINDOW_MAX: "2" };
    const redis = await connectRedis();
    try {
      const prefix = prefixes.at(-1) as string;
      // The throttle's key for a mobile's sends under a secret (otp-throttle.ts: otp:sends:<HMAC>).
      const sendsKey = (secret: string, mobile: string) =>
        `${prefix}otp:sends:${new KeyHasher(Buffer.from(secret)).hash("destination:mobile", mobile)}`;
      const old = await server(OLD, undefined, budgets);
      const registered = registrationInput();
      const { cibilId, accessToken } = await register(old, registered);
      // Step 3's configuration, the control: the throttle takes under the old secret too.
      const switched = await rotate(old, OLD, budgets);
      const [during, after] = [nextMobile(), nextMobile()];
      expect((await resend(switched, during)).__typename).toBe("AepsOtpResent");
      expect(await redis.exists(sendsKey(OLD, during), sendsKey(NEW, during))).toBe(2);
      // Step 4 with the old secret moved to HMAC_SECRET_RETIRED: under the new secret only.
      const retired = await rotate(switched, undefined, { ...budgets, HMAC_SECRET_RETIRED: OLD });
      expect((await resend(retired, after)).__typename).toBe("AepsOtpResent");
      expect(await redis.exists(sendsKey(NEW, after))).toBe(1);
      expect(await redis.exists(sendsKey(OLD, after))).toBe(0);
      // The CIBIL id no send read before: its record is read under the retired secret (the send counts on the mobile)
      // and copied, so that a server without any rotation setting still counts it.
      const generate = async (t: TestStack) =>
        resultOf((await t.gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } })).body, "generateCibilOtp")
          .__typename;
      expect(await generate(retired)).toBe("CibilOtpChallenge");
      const done = await rotate(retired, undefined, budgets);
      expect(await generate(done)).toBe("CibilOtpChallenge");
      expect(await resend(done, registered.mobile)).toMatchObject({
        __typename: "OtpThrottled",
        code: "OTP_LIMIT_REACHED",
      });
    } finally {
      await redis.quit();
    }
  });

  it("the five steps: a PAN linked only under the old secret is still followed at step 4 (limit, mobile before the call)", async () => {
    // No cooldown; two sends per window: the third send to a mobile shows whether two before counted on it.
    const budgets = { ...DEFAULT_THROTTLE, OTP_COOLDOWN_SECONDS: "0", OTP_WINDOW_MAX: "2" };
    const step = async (from: TestStack | null, secret: string, env: Record<string, string>) => {
      if (from !== null) {
        await from.stop();
        stacks.splice(stacks.indexOf(from), 1);
      }
      return server(secret, undefined, { ...budgets, ...env });
    };
    const registration = async (t: TestStack, input: RegistrationInput) =>
      resultOf((await t.gql(REGISTER_CIBIL_CUSTOMER, { input })).body, "registerCibilCustomer");
    const generate = async (t: TestStack, { cibilId, accessToken }: { cibilId: string; accessToken: string }) =>
      resultOf((await t.gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } })).body, "generateCibilOtp")
        .__typename;
    // Before the rotation: PAN `full` registered with four mobiles (the most a CIBIL id keeps), PAN `one` with one.
    // Neither is registered again, nor its CIBIL id sent to, until step 4: their links exist under the old secret only.
    const before = await step(null, OLD, {});
    const full = registrationInput();
    const fullMobiles = [full.mobile, nextMobile(), nextMobile(), nextMobile()];
    for (const mobile of fullMobiles) await register(before, { ...full, mobile });
    const one = registrationInput();
    const oneId = await register(before, one);
    // Step 1 (announce), step 2 (switch); step 3 is the wait: nothing here touches these two customers. An
    // Idempotency-Key used at step 1 and repeated at step 2 is found under the previous secret, and the metric the
    // procedure names says so (aopay_rotation_older_secret_reads_total: the operator's signal of what is still read).
    const announced = await step(before, OLD, { HMAC_SECRET_NEXT: NEW });
    const key = randomUUID();
    const aeps = aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
    await announced.gql(RESEND_AEPS_OTP, aeps, { "idempotency-key": key });
    expect(await olderReads(announced)).toEqual({});
    const switched = await step(announced, NEW, { HMAC_SECRET_PREVIOUS: OLD });
    await switched.gql(RESEND_AEPS_OTP, aeps, { "idempotency-key": key });
    expect(await olderReads(switched)).toEqual({ "idempotency/previous": 1 });
    // Step 4 (retire): the old PAN links are still followed, as the records they name are read.
    const retired = await step(switched, NEW, { HMAC_SECRET_RETIRED: OLD });
    const registrations = simulator.calls("cibil.register");
    // A fifth mobile for `full`: refused before AOPay, as before the rotation (it was registered, AOPay called).
    expect(await registration(retired, { ...full, mobile: nextMobile() })).toMatchObject({
      __typename: "RegistrationRefused",
      code: "MOBILE_LIMIT_REACHED",
    });
    expect(simulator.calls("cibil.register")).toBe(registrations);
    // A new mobile for `one`, refused by AOPay (simulator: a mobile ending 207): it joined the record before the call,
    // as any registration of a known PAN does, so the CIBIL id's sends count on it (it was added only on success).
    const refusedMobile = `${nextMobile().slice(0, 7)}207`;
    expect((await registration(retired, { ...one, mobile: refusedMobile })).__typename).not.toBe(
      "CibilCustomerRegistered",
    );
    expect(simulator.calls("cibil.register")).toBe(registrations + 1);
    expect(await generate(retired, oneId)).toBe("CibilOtpChallenge");
    // The send found the id's record under the retired secret only (and copied it): counted once, so that the
    // operator sees how many records are still read there (the old record and its successor key are one record).
    expect(await olderReads(retired)).toEqual({ "registered_mobile/retired": 1 });
    // Step 5 (finish): no rotation setting. The send at step 4 copied the record, the new mobile with it, under the
    // new secret: this send is the second on each of the id's mobiles, an AEPS send the third.
    const finished = await step(retired, NEW, {});
    expect(await generate(finished, oneId)).toBe("CibilOtpChallenge");
    for (const mobile of [one.mobile, refusedMobile])
      expect(await resend(finished, mobile)).toMatchObject({ __typename: "OtpThrottled", code: "OTP_LIMIT_REACHED" });
  });

  it("a registered mobile a send read during the rotation still counts once HMAC_SECRET_PREVIOUS is removed", async () => {
    // No cooldown; two sends per window: the third send to a mobile shows whether the second counted on it.
    const budgets = { ...DEFAULT_THROTTLE, OTP_COOLDOWN_SECONDS: "0", OTP_WINDOW_MAX: "2" };
    const old = await server(OLD, undefined, budgets);
    const [read, unread] = [registrationInput(), registrationInput()];
    const a = await register(old, read);
    const b = await register(old, unread);
    const switched = await rotate(old, OLD, budgets);
    const generate = async (t: TestStack, { cibilId, accessToken }: { cibilId: string; accessToken: string }) =>
      resultOf((await t.gql(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } })).body, "generateCibilOtp")
        .__typename;
    // The send reads the record under the old secret and copies it under the new one (its TTL kept).
    expect(await generate(switched, a)).toBe("CibilOtpChallenge");
    const after = await rotate(switched, undefined, budgets);
    // Without the setting: the copy is found, the send counts on the mobile (its second), an AEPS send is its third.
    expect(await generate(after, a)).toBe("CibilOtpChallenge");
    expect(await resend(after, read.mobile)).toMatchObject({ __typename: "OtpThrottled", code: "OTP_LIMIT_REACHED" });
    // A CIBIL id no send read during the rotation: its record was never copied, and it is budgeted by its id only (the
    // documented price of removing the setting before CIBIL_REGISTERED_MOBILE_TTL_SECONDS).
    expect(await generate(after, b)).toBe("CibilOtpChallenge");
    expect((await resend(after, unread.mobile)).__typename).toBe("AepsOtpResent");
  });
});
