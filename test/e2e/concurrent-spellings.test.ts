import { hashApiKey } from "../../src/auth/authenticator";
import { verhoeffValid } from "../../src/pii/aadhaar";
import { GENERATE_CIBIL_OTP, RESEND_AEPS_OTP, resultOf } from "../helpers/operations";
import { describeUnless, storeBackends } from "../helpers/redis";
import { DEFAULT_THROTTLE, type GqlResponse, postGraphQL, stackPerTest } from "../helpers/stack";

/**
 * An attack review's floods that the sequential tests (throttle, canonical-identifiers, idempotency) do not make: 50
 * sends at once for one customer, each varying everything a client can vary at once (the identifier's spelling, the
 * token's case, the Idempotency-Key, the API client, the IP behind a trusted proxy: IPv6 addresses of other /64s and
 * IPv4-mapped ones), with the real budgets. Whatever wins the race, AOPay must see one send: the cooldown is taken
 * atomically per canonical destination, on either store. Nothing failed here on the code of 8cf3e64; kept as
 * regression tests of the promise ("No OTP flood", "One identifier, one budget", "No duplicate SMS").
 */
const KEY_A = "aopk_flood_a_0123456789abcdefghijklmnopqrstuvwxyzAB";
const KEY_B = "aopk_flood_b_0123456789abcdefghijklmnopqrstuvwxyzAB";
const ENV = {
  ...DEFAULT_THROTTLE,
  TRUSTED_PROXIES: "127.0.0.1",
  API_KEYS: `flood-a:${hashApiKey(KEY_A)},flood-b:${hashApiKey(KEY_B)}`,
};
const RUN = String(Date.now() % 1e5).padStart(5, "0");

/** A valid Aadhaar number of its own for `n` (Verhoeff check digit found), so each send brings a fresh one. */
function aadhaar(n: number): string {
  const body = `6${RUN}${String(n).padStart(5, "0")}`;
  for (let d = 0; d < 10; d++) if (verhoeffValid(body + d)) return body + d;
  throw new Error("no check digit");
}

/** The i-th sender's headers: its own Idempotency-Key, one of two clients, an IP of its own (IPv6 /64 or mapped). */
const sender = (i: number, key: string) => ({
  "idempotency-key": `${key}-${i}`,
  "x-api-key": i % 2 ? KEY_A : KEY_B,
  "x-forwarded-for": i % 3 ? `2001:db8:${i.toString(16)}::${i}` : `::ffff:198.51.100.${i}`,
});

const typenames = (answers: GqlResponse[], field: string) =>
  answers.map((a) => String(resultOf(a.body, field).__typename)).sort();
/** The scopes of the refusals among `answers`: the destination's budget, not an IP's or a prefix's, must say no. */
const refusalScopes = (answers: GqlResponse[], field: string) => [
  ...new Set(
    answers.map((a) => resultOf(a.body, field)).flatMap((r) => (r.__typename === "OtpThrottled" ? [r.scope] : [])),
  ),
];

describe.each(storeBackends("concurrent-spellings-secret-0123456789abcdef"))("%s", (_name, skip, backendEnv) => {
  describeUnless(skip, "concurrent sends, every axis a client can vary varied: one reaches AOPay", () => {
    const stack = stackPerTest(backendEnv);

    it("CIBIL: one id in six spellings (leading zeros), its token in two cases", async () => {
      const t = await stack.start(ENV);
      const id = `7${RUN}1459`;
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          postGraphQL(
            t.graphqlUrl,
            {
              query: GENERATE_CIBIL_OTP,
              variables: { input: { cibilId: "0".repeat(i % 6) + id, accessToken: (i % 2 ? "TOKF" : "tokf") + RUN } },
            },
            sender(i, "cibil"),
          ),
        ),
      );
      expect(t.simulator?.calls()).toBe(1);
      const got = typenames(answers, "generateCibilOtp");
      expect(got.filter((n) => n === "CibilOtpChallenge")).toHaveLength(1);
      expect(got.filter((n) => n === "OtpThrottled")).toHaveLength(49);
      expect(refusalScopes(answers, "generateCibilOtp")).toEqual(["DESTINATION"]);
    });

    it("AEPS: one user key in two cases, a fresh mobile, Aadhaar and references in each", async () => {
      const t = await stack.start(ENV);
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          postGraphQL(
            t.graphqlUrl,
            {
              query: RESEND_AEPS_OTP,
              variables: {
                input: {
                  userKey: (i % 2 ? "AOPF" : "aopf") + RUN,
                  mobile: `9${RUN}${String(1000 + i)}`,
                  aadhaar: aadhaar(i),
                  primaryKeyId: `PK${RUN}${i}`,
                  encodeTxnId: `TX${RUN}${i}`,
                },
              },
            },
            sender(i, "aeps"),
          ),
        ),
      );
      expect(t.simulator?.calls()).toBe(1);
      expect(typenames(answers, "resendAepsOtp").filter((n) => n === "AepsOtpResent")).toHaveLength(1);
      expect(refusalScopes(answers, "resendAepsOtp")).toEqual(["DESTINATION"]);
    });

    it("one Idempotency-Key from two clients and one request without a key, at once: one send", async () => {
      const t = await stack.start(ENV);
      const input = { input: { cibilId: `8${RUN}2001`, accessToken: `tokk${RUN}` } };
      const answers = await Promise.all(
        [KEY_A, KEY_B, KEY_A, KEY_B, KEY_A, undefined].map((key) =>
          postGraphQL(
            t.graphqlUrl,
            { query: GENERATE_CIBIL_OTP, variables: input },
            key === undefined ? { "x-api-key": KEY_A } : { "x-api-key": key, "idempotency-key": "one-key" },
          ),
        ),
      );
      expect(t.simulator?.calls()).toBe(1);
      // Each answer is the send, its replay, a conflict with it (IdempotencyConflict) or the cooldown: never a second
      // challenge that did not come from the one send.
      for (const a of answers)
        expect(["CibilOtpChallenge", "OtpThrottled", "IdempotencyConflict"]).toContain(
          resultOf(a.body, "generateCibilOtp").__typename,
        );
    });

    it("one Idempotency-Key, ten bodies (ten customers: no cooldown to fall back on) at once: one send", async () => {
      const t = await stack.start(ENV);
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          postGraphQL(
            t.graphqlUrl,
            {
              query: GENERATE_CIBIL_OTP,
              variables: { input: { cibilId: `8${RUN}${3000 + i}`, accessToken: `tokb${RUN}${i}` } },
            },
            { "x-api-key": KEY_A, "idempotency-key": "one-key-many-bodies" },
          ),
        ),
      );
      expect(t.simulator?.calls()).toBe(1);
      // The others: IdempotencyConflict while it runs, or 422 IDEMPOTENCY_KEY_REUSED (no data) once it is stored.
      const sent = answers.filter(
        (a) => a.body.data && resultOf(a.body, "generateCibilOtp").__typename === "CibilOtpChallenge",
      );
      expect(sent).toHaveLength(1);
      for (const a of answers.filter((x) => !x.body.data)) expect(a.status).toBe(422);
    });
  });
});
