import { aepsInput, cibilInput, resultOf } from "../helpers/operations";
import { deletePrefixes, REDIS_URL, uniquePrefix } from "../helpers/redis";
import { startTestStack, type TestStack } from "../helpers/stack";

/**
 * `resendAvailableInSeconds` through the server: what a successful send says about the next one is what the throttle
 * then enforces. Small budgets (seconds, not minutes) so the test can wait them out; run in memory and, with
 * REDIS_URL, against Redis (the store replicas share).
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Every budget but the destination's out of the way. */
const CALLER_BUDGETS = {
  OTP_PREFIX_MAX: "1000",
  OTP_IP_MAX: "1000",
  OTP_CLIENT_MAX: "1000",
  OTP_GLOBAL_MAX: "1000",
  OTP_DAILY_MAX: "100",
};

const COUNTDOWN_FIELDS = /* GraphQL */ `
  mutation ($input: GenerateCibilOtpInput!) {
    generateCibilOtp(input: $input) {
      __typename
      ... on CibilOtpChallenge {
        resendAvailableInSeconds
      }
      ... on OtpThrottled {
        code
        scope
        retryAfterSeconds
      }
    }
  }
`;
const AEPS_COUNTDOWN = /* GraphQL */ `
  mutation ($input: ResendAepsOtpInput!) {
    resendAepsOtp(input: $input) {
      __typename
      ... on AepsOtpResent {
        resendAvailableInSeconds
      }
      ... on OtpThrottled {
        code
        scope
        retryAfterSeconds
      }
    }
  }
`;

type Answer = { __typename: string; resendAvailableInSeconds?: number; code?: string; retryAfterSeconds?: number };

/**
 * A send's countdown is computed after AOPay answered, from the moment the send was let through: `said` seconds
 * exactly when its request took under a second (as it does on a quiet machine), and at least `said` less the seconds the
 * request took otherwise (on a loaded one, with other Jest workers on the two cores, a first send answered 2 of 3).
 */
function expectCountdown(seconds: number | undefined, said: number, tookMs: number): void {
  expect(seconds).toBeLessThanOrEqual(said);
  expect(seconds).toBeGreaterThanOrEqual(Math.ceil(said - tookMs / 1000));
}

/**
 * A refusal right after a countdown of `said` seconds waits `said` seconds, or one less if a second boundary passed;
 * fewer only when more than a second went by from the start of the request that set the countdown to the refusal's
 * answer (`sinceMs`, a loaded machine).
 */
function expectConsistent(refusal: Answer, said: number, sinceMs: number): void {
  expect(refusal.retryAfterSeconds).toBeLessThanOrEqual(said);
  expect(refusal.retryAfterSeconds).toBeGreaterThanOrEqual(Math.min(said - 1, Math.ceil(said - sinceMs / 1000)));
}

const stores: Array<[string, Record<string, string>]> = [["memory", {}]];
if (REDIS_URL) stores.push(["redis", { REDIS_URL, HMAC_SECRET: "countdown-test-secret-0123456789abcdefgh" }]);

describe.each(stores)("resend countdown against the throttle that enforces it (%s)", (_store, storeEnv) => {
  let t: TestStack | undefined;
  const prefixes: string[] = [];
  const prefix = () => {
    prefixes.push(uniquePrefix());
    return prefixes[prefixes.length - 1];
  };
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });
  afterAll(async () => {
    if (!REDIS_URL || prefixes.length === 0) return;
    await deletePrefixes(prefixes);
  });
  const start = async (env: Record<string, string>) => {
    // A fresh key prefix per stack: counters from an earlier test must not carry over.
    t = await startTestStack({
      ...CALLER_BUDGETS,
      ...storeEnv,
      ...(storeEnv.REDIS_URL ? { REDIS_KEY_PREFIX: prefix() } : {}),
      ...env,
    });
    return t;
  };
  const cibil = async (stack: TestStack, cibilId: string, headers: Record<string, string> = {}) => {
    const sent = Date.now();
    const res = await stack.gql(COUNTDOWN_FIELDS, cibilInput(cibilId), headers);
    const at = Date.now();
    return {
      answer: resultOf(res.body, "generateCibilOtp") as Answer,
      sent,
      at,
      tookMs: at - sent,
      replayed: res.headers["idempotent-replayed"] === "true",
    };
  };

  it("CIBIL: the cooldown's seconds; a send before they elapse is OTP_COOLDOWN with the same wait; after them it goes through", async () => {
    const stack = await start({ OTP_COOLDOWN_SECONDS: "3", OTP_WINDOW_MAX: "100" });
    const first = await cibil(stack, "700000801");
    expect(first.answer.__typename).toBe("CibilOtpChallenge");
    expectCountdown(first.answer.resendAvailableInSeconds, 3, first.tookMs);

    const early = await cibil(stack, "700000801");
    expect(early.answer).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
    expectConsistent(early.answer, 3, early.at - first.sent);

    await sleep(first.at + 3 * 1000 + 50 - Date.now());
    const after = await cibil(stack, "700000801");
    expect(after.answer.__typename).toBe("CibilOtpChallenge");
    expectCountdown(after.answer.resendAvailableInSeconds, 3, after.tookMs);
    expect(stack.simulator?.calls("cibil.generateOtp")).toBe(2);
  });

  it("a refusal's retryAfterSeconds is truthful: rounded up, never 0, and a retry after exactly that long goes through", async () => {
    const stack = await start({ OTP_COOLDOWN_SECONDS: "2", OTP_WINDOW_MAX: "100" });
    // The waits are real time. The refusal must be computed inside the 2 s cooldown: from the first request's start to
    // the refusal's arrival bounds that from above. On a loaded machine (other Jest workers on two cores) the sleep and
    // the requests can take past 2 s, and the "refusal" is then a send: such a try proves nothing either way and is
    // run again with a fresh destination (up to 4 tries), as throttle-next-send.test.ts does.
    for (let attempt = 0; ; attempt++) {
      const cibilId = `70000081${attempt}`;
      const calls = stack.simulator?.calls("cibil.generateOtp") ?? 0;
      const first = await cibil(stack, cibilId);
      // Over a second after the send was let through (before its answer): less than a second of the cooldown is left,
      // so 1, never 0 (a retry right away would be refused). As early as that allows, so that a slow request still
      // lands inside the cooldown.
      await sleep(first.at + 1_050 - Date.now());
      const refused = await cibil(stack, cibilId);
      if (refused.at - first.sent >= 1_950 && attempt < 3) continue;
      expect(refused.answer).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN", retryAfterSeconds: 1 });
      // The wait was rounded up from the time the refusal was computed, before its answer arrived: waiting that long
      // from the answer's arrival is past the cooldown's end, on either store, with no slack added. (performance.now:
      // setTimeout never fires early on it.)
      const arrived = performance.now();
      await sleep(1_000);
      while (performance.now() - arrived < 1_000) await sleep(1);
      expect((await cibil(stack, cibilId)).answer).toMatchObject({ __typename: "CibilOtpChallenge" });
      expect((stack.simulator?.calls("cibil.generateOtp") ?? 0) - calls).toBe(2);
      return;
    }
  });

  it("CIBIL: the send that uses up the window says the window's reset (the latest), and the next send is refused with it", async () => {
    const stack = await start({ OTP_COOLDOWN_SECONDS: "1", OTP_WINDOW_MAX: "2", OTP_WINDOW_SECONDS: "20" });
    const first = await cibil(stack, "700000802");
    expectCountdown(first.answer.resendAvailableInSeconds, 1, first.tookMs);
    await sleep(first.at + 1000 + 50 - Date.now());
    const second = await cibil(stack, "700000802");
    // The window began with the first send, about a second ago: 19 or 20 seconds are left of it, more than the cooldown
    // (1 s). Fewer on a loaded machine where the second send landed later: never fewer than 20 less the seconds from
    // the first request's start to the second's answer.
    expect(second.answer.resendAvailableInSeconds).toBeGreaterThanOrEqual(
      Math.min(18, Math.floor(20 - (second.at - first.sent) / 1000)),
    );
    expect(second.answer.resendAvailableInSeconds).toBeGreaterThan(1);
    expect(second.answer.resendAvailableInSeconds).toBeLessThanOrEqual(20);
    const third = await cibil(stack, "700000802");
    // Both the cooldown and the window refuse it: the code is the most specific (OTP_COOLDOWN), the wait the longest.
    expect(third.answer).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN", scope: "DESTINATION" });
    expectConsistent(third.answer, second.answer.resendAvailableInSeconds as number, third.at - second.sent);
    expect(stack.simulator?.calls("cibil.generateOtp")).toBe(2);
  });

  it("0 when nothing gates the next send (no cooldown, points left)", async () => {
    const stack = await start({ OTP_COOLDOWN_SECONDS: "0", OTP_WINDOW_MAX: "100" });
    expect((await cibil(stack, "700000803")).answer).toEqual({
      __typename: "CibilOtpChallenge",
      resendAvailableInSeconds: 0,
    });
    expect((await cibil(stack, "700000803")).answer).toEqual({
      __typename: "CibilOtpChallenge",
      resendAvailableInSeconds: 0,
    });
  });

  it("AEPS: the countdown covers both destinations: the same Aadhaar with another mobile is refused with the same wait", async () => {
    const stack = await start({ OTP_COOLDOWN_SECONDS: "3", OTP_WINDOW_MAX: "100" });
    // Each its own registration (user key and references are budgeted too): only the Aadhaar is shared.
    const registration = (n: string) => ({ userKey: `AOP${n}`, primaryKeyId: `PK-${n}`, encodeTxnId: `TX-${n}` });
    const firstSent = Date.now();
    const first = resultOf(
      (await stack.gql(AEPS_COUNTDOWN, aepsInput("9876500801", registration("801")))).body,
      "resendAepsOtp",
    ) as Answer;
    expect(first.__typename).toBe("AepsOtpResent");
    expectCountdown(first.resendAvailableInSeconds, 3, Date.now() - firstSent);
    const sameAadhaar = resultOf(
      (await stack.gql(AEPS_COUNTDOWN, aepsInput("9876500802", registration("802")))).body,
      "resendAepsOtp",
    ) as Answer;
    expect(sameAadhaar).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
    expectConsistent(sameAadhaar, 3, Date.now() - firstSent);
    expect(stack.simulator?.calls("aeps.resendOtp")).toBe(1);
  });

  it("an idempotent replay recomputes the countdown from the time the first send set (it does not repeat a stale number)", async () => {
    const stack = await start({ OTP_COOLDOWN_SECONDS: "5", OTP_WINDOW_MAX: "100" });
    const key = { "idempotency-key": `countdown-${Math.random()}` };
    const first = await cibil(stack, "700000804", key);
    expectCountdown(first.answer.resendAvailableInSeconds, 5, first.tookMs);
    await sleep(2100);
    const replay = await cibil(stack, "700000804", key);
    expect(replay.replayed).toBe(true);
    expect(replay.answer.__typename).toBe("CibilOtpChallenge");
    // 2 or 3 (2.1 s on); fewer only if the replay landed late (a loaded machine): never fewer than 5 less the seconds
    // from the first request's start to the replay's answer.
    expect(replay.answer.resendAvailableInSeconds).toBeGreaterThanOrEqual(
      Math.max(0, Math.min(2, Math.floor(5 - (replay.at - first.sent) / 1000))),
    );
    expect(replay.answer.resendAvailableInSeconds).toBeLessThanOrEqual(3);
    expect(stack.simulator?.calls("cibil.generateOtp")).toBe(1);
  });
});
