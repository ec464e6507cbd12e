import { randomUUID } from "node:crypto";
import Redis from "ioredis";
import { SIM_OTP } from "../../src/simulator/state";
import { nextAadhaar, nextAepsRegistration, nextMobile, registrationInput } from "../helpers/identifiers";
import {
  aepsInput,
  CIBIL_CREDIT_HISTORY,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  resultOf,
  rightAnswer,
  VERIFY_AEPS_OTP,
} from "../helpers/operations";
import { describeUnless, REDIS_URL, storeBackends } from "../helpers/redis";
import { type GqlResponse, stackPerTest, type TestStack } from "../helpers/stack";

/**
 * "A replay has no side effects": a repeat of an Idempotency-Key answers the stored result and changes nothing, in
 * any store. Before, submitCibilOtp granted the CIBIL consent again on every replay of a SUCCESS: each replay gave the
 * client another CIBIL_CONSENT_TTL_SECONDS of the customer's credit report without a new OTP, and with the consent
 * store full it logged and counted "could not record CIBIL consent" for a write no replay should make.
 */
const SUBMIT = `mutation($input: SubmitCibilOtpInput!) { submitCibilOtp(input: $input) { __typename ... on CibilOtpVerified { status } ... on Failure { code } } }`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every guarded mutation once, each under a key of its own: the requests and keys a replay repeats. */
async function everyMutationOnce(
  t: TestStack,
  via: () => TestStack = () => t,
): Promise<Array<{ field: string; send: () => Promise<GqlResponse> }>> {
  // `via`: the server a repeat goes to (another one, after a rotation of HMAC_SECRET).
  const keyed = (query: string, variables: Record<string, unknown>) => {
    const key = randomUUID();
    return () => via().gql(query, variables, { "idempotency-key": key });
  };
  const register = keyed(REGISTER_CIBIL_CUSTOMER, { input: registrationInput() });
  const registered = resultOf((await register()).body, "registerCibilCustomer");
  expect(registered.__typename).toBe("CibilCustomerRegistered");
  const ids = { cibilId: registered.cibilId as string, accessToken: registered.accessToken as string };
  const generate = keyed(GENERATE_CIBIL_OTP, { input: ids });
  const challenge = resultOf((await generate()).body, "generateCibilOtp");
  expect(challenge.__typename).toBe("CibilOtpChallenge");
  const submit = keyed(SUBMIT, { input: rightAnswer(ids.cibilId, ids.accessToken, challenge) });
  expect(resultOf((await submit()).body, "submitCibilOtp")).toMatchObject({ status: "SUCCESS" });
  const aeps = aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
  const resend = keyed(RESEND_AEPS_OTP, aeps);
  expect(resultOf((await resend()).body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
  const verify = keyed(VERIFY_AEPS_OTP, { input: { ...aeps.input, otp: SIM_OTP } });
  expect(resultOf((await verify()).body, "verifyAepsOtp").__typename).toBe("AepsRegistrationVerified");
  return [
    { field: "registerCibilCustomer", send: register },
    { field: "generateCibilOtp", send: generate },
    { field: "submitCibilOtp", send: submit },
    { field: "resendAepsOtp", send: resend },
    { field: "verifyAepsOtp", send: verify },
  ];
}

/** Every key under `prefix`: its value and its time to live. */
async function snapshot(redis: Redis, prefix: string): Promise<Map<string, { value: string; pttl: number }>> {
  const out = new Map<string, { value: string; pttl: number }>();
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      const value = type === "string" ? await redis.get(key) : JSON.stringify(await redis.dump(key));
      out.set(key, { value: value ?? "", pttl: await redis.pttl(key) });
    }
  } while (cursor !== "0");
  return out;
}

/** The kinds (`consent`, `idem` ...) of the keys new, rewritten, or living longer than 1 s of waiting allows. */
function changedKinds(
  before: Map<string, { value: string; pttl: number }>,
  after: Map<string, { value: string; pttl: number }>,
  prefix: string,
): string[] {
  return [...after]
    .filter(([key, now]) => {
      const then = before.get(key);
      return then === undefined || then.value !== now.value || (now.pttl >= 0 && now.pttl > then.pttl - 1_000);
    })
    .map(([key]) => key.slice(prefix.length).split(":")[0]);
}

describe.each(storeBackends("replay-effects-secret-0123456789abcdef"))("%s", (name, skip, backendEnv) => {
  describeUnless(skip, "a replay under an Idempotency-Key", () => {
    const stack = stackPerTest(backendEnv);

    it("answers the stored result of every guarded mutation, with no upstream call and no line but its access line", async () => {
      const t = await stack.start();
      const requests = await everyMutationOnce(t);
      const calls = t.simulator?.calls();
      for (const { field, send } of requests) {
        const replay = await send();
        expect(replay.headers["idempotent-replayed"]).toBe("true");
        // Nothing but the access line: no consent recorded (or failing to be), no mobile remembered, no send logged.
        expect(t.logs.records().filter((r) => r.requestId === replay.headers["x-request-id"])).toEqual([
          expect.objectContaining({ msg: "request completed", idempotency: "replayed" }),
        ]);
        expect({ field, calls: t.simulator?.calls() }).toEqual({ field, calls });
      }
    });

    if (name === "in memory")
      it("of a verified CIBIL OTP records no consent: with the consent store full, no 'could not record' again", async () => {
        // One consent fills the store: the second customer's verification is answered, its consent not recorded.
        const t = await stack.start({ MEMORY_CONSENT_MAX_KEYS: "1" });
        await everyMutationOnce(t);
        const reg = resultOf(
          (await t.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput() })).body,
          "registerCibilCustomer",
        );
        const ids = { cibilId: reg.cibilId as string, accessToken: reg.accessToken as string };
        const challenge = resultOf((await t.gql(GENERATE_CIBIL_OTP, { input: ids })).body, "generateCibilOtp");
        const key = { "idempotency-key": randomUUID() };
        const variables = { input: rightAnswer(ids.cibilId, ids.accessToken, challenge) };
        const first = await t.gql(SUBMIT, variables, key);
        expect(resultOf(first.body, "submitCibilOtp")).toMatchObject({ status: "SUCCESS" });
        const unrecorded = (res: GqlResponse) =>
          t.logs
            .records()
            .filter((r) => r.requestId === res.headers["x-request-id"] && r.msg === "could not record CIBIL consent");
        expect(unrecorded(first)).toHaveLength(1);

        const replay = await t.gql(SUBMIT, variables, key);
        expect(replay.body).toEqual(first.body);
        expect(replay.headers["idempotent-replayed"]).toBe("true");
        expect(unrecorded(replay)).toEqual([]);
        // And the consent it could not record is still none.
        const history = resultOf(
          (await t.gql(CIBIL_CREDIT_HISTORY, { cibilId: ids.cibilId })).body,
          "cibilCreditHistory",
        );
        expect(history.code).toBe("CONSENT_REQUIRED");
      });

    if (name === "in Redis")
      it("changes no record in Redis: no key written, none's time to live extended (the consent's above all)", async () => {
        const t = await stack.start();
        const prefix = stack.env().REDIS_KEY_PREFIX;
        const redis = new Redis(REDIS_URL as string);
        try {
          const requests = await everyMutationOnce(t);
          const before = await snapshot(redis, prefix);
          expect([...before.keys()].some((k) => k.startsWith(`${prefix}consent:`))).toBe(true);
          await sleep(1_100);
          for (const { send } of requests) expect((await send()).headers["idempotent-replayed"]).toBe("true");
          expect(changedKinds(before, await snapshot(redis, prefix), prefix)).toEqual([]);
        } finally {
          redis.disconnect();
        }
      });

    if (name === "in Redis")
      it("during a rotation of HMAC_SECRET, found under the previous secret: replayed, nothing copied or extended", async () => {
        const first = await stack.start();
        const env = stack.env();
        let second: TestStack | undefined;
        const requests = await everyMutationOnce(first, () => second ?? first);
        const redis = new Redis(REDIS_URL as string);
        try {
          const before = await snapshot(redis, env.REDIS_KEY_PREFIX);
          await stack.stop();
          // The next step of the rotation (docs/security.md "Rotating the HMAC secret"): a new secret, the old one kept.
          second = await stack.start({
            REDIS_KEY_PREFIX: env.REDIS_KEY_PREFIX,
            HMAC_SECRET: "replay-effects-rotated-0123456789abcdef",
            HMAC_SECRET_PREVIOUS: env.HMAC_SECRET,
          });
          await sleep(1_100);
          for (const { field, send } of requests) {
            const replay = await send();
            expect({ field, replayed: replay.headers["idempotent-replayed"] }).toEqual({ field, replayed: "true" });
            expect(second.logs.records().filter((r) => r.requestId === replay.headers["x-request-id"])).toEqual([
              expect.objectContaining({ msg: "request completed", idempotency: "replayed" }),
            ]);
          }
          expect(second.simulator?.calls()).toBe(0);
          // No record copied under the new secret, the consent's time to live not extended.
          expect(changedKinds(before, await snapshot(redis, env.REDIS_KEY_PREFIX), env.REDIS_KEY_PREFIX)).toEqual([]);
        } finally {
          redis.disconnect();
        }
      });
  });
});
