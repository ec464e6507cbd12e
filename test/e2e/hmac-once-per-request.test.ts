import { createHmac } from "node:crypto";
import Redis from "ioredis";
import { KeyHasher } from "../../src/protection/key-hasher";
import { SIM_OTP } from "../../src/simulator/state";
import { nextAadhaar, nextAepsRegistration, nextMobile, registrationInput } from "../helpers/identifiers";
// The documents clients send, as one namespace (`op.RESEND_AEPS_OTP`).
import * as op from "../helpers/operations";
import { REDIS_URL, storeBackends } from "../helpers/redis";
import { stackPerTest, type TestStack } from "../helpers/stack";

/**
 * Each store key is an HMAC (KeyHasher), computed once per request and passed on: the same (secret, dimension,
 * identifier) hashed twice within one request is a defect (an HMAC is two SHA-256 calls, four blocks). Counted here by
 * watching KeyHasher.hash through every operation of both flows, in memory and in Redis, and in Redis during a
 * rotation (HMAC_SECRET_PREVIOUS and HMAC_SECRET_NEXT: the same identifier under each secret is a different HMAC,
 * not a repeat). Before this was held, a registration hashed its PAN's link at `registering` and again at `remember`,
 * and a verification that reads the report hashed the consent key at the grant and again at the check.
 * What is kept of a call is the hasher, the dimension and the identifier, in this process only; a failure names the
 * dimension and the call sites, never the identifier.
 */
const SECRET = "h".repeat(32);
const BACKENDS = storeBackends(SECRET);
const ROTATION = { HMAC_SECRET_PREVIOUS: "p".repeat(32), HMAC_SECRET_NEXT: "n".repeat(32) };

/** One KeyHasher.hash call of the request under way. */
interface Call {
  hasher: KeyHasher;
  dimension: string;
  identifier: string;
  /** The first frames under src/ (file:line), for a failure's message. */
  site: string;
}

/** What earlier versions wrote: createHmac over the dimension, NUL and the identifier, base64url. */
const reference = (secret: string, dimension: string, identifier: string): string =>
  createHmac("sha256", Buffer.from(secret, "utf8")).update(`${dimension}\u0000${identifier}`).digest("base64url");

describe.each(BACKENDS)("one HMAC per key per request (%s)", (name, skip, backendEnv) => {
  const { start, env, stop } = stackPerTest(backendEnv);
  let calls: Call[] = [];
  beforeEach(() => {
    calls = [];
    const original = KeyHasher.prototype.hash;
    jest.spyOn(KeyHasher.prototype, "hash").mockImplementation(function (this: KeyHasher, dimension, identifier, enc) {
      const frames = (new Error().stack ?? "").split("\n").filter((l) => l.includes("/src/"));
      const site = frames
        .slice(0, 3)
        .map((l) =>
          l
            .trim()
            .replace(/.*\/src\//, "")
            .replace(/\)$/, ""),
        )
        .join(" < ");
      calls.push({ hasher: this, dimension, identifier, site });
      return original.call(this, dimension, identifier, enc);
    });
  });
  afterEach(() => jest.restoreAllMocks());

  /** The request's calls (emptied for the next), each (hasher, dimension, identifier) at most once. */
  function once(operation: string): Call[] {
    const taken = calls;
    calls = [];
    const seen = new Map<KeyHasher, Map<string, Call>>();
    const repeats: string[] = [];
    for (const c of taken) {
      const byKey = seen.get(c.hasher) ?? seen.set(c.hasher, new Map()).get(c.hasher)!;
      const key = `${c.dimension}\u0000${c.identifier}`;
      const first = byKey.get(key);
      if (first) repeats.push(`${c.dimension}: ${first.site} and again ${c.site}`);
      else byKey.set(key, c);
    }
    expect({ operation, repeats }).toEqual({ operation, repeats: [] });
    return taken;
  }
  const count = (taken: Call[], dimension: string) => taken.filter((c) => c.dimension === dimension).length;

  async function everyOperation(s: TestStack): Promise<{ pan: string; cibilId: string; taken: Map<string, Call[]> }> {
    const taken = new Map<string, Call[]>();
    const input = registrationInput({ mobile: nextMobile() });
    const reg = op.resultOf((await s.gql(op.REGISTER_CIBIL_CUSTOMER, { input })).body, "registerCibilCustomer");
    expect(reg.__typename).toBe("CibilCustomerRegistered");
    taken.set("register", once("registerCibilCustomer"));
    const customer = { cibilId: reg.cibilId as string, accessToken: reg.accessToken as string };
    // The same PAN with another mobile: found through its link (the key `remember` wrote), not hashed twice either.
    const again = await s.gql(op.REGISTER_CIBIL_CUSTOMER, { input: { ...input, mobile: nextMobile() } });
    expect(op.resultOf(again.body, "registerCibilCustomer").__typename).toBe("CibilCustomerRegistered");
    taken.set("register again", once("registerCibilCustomer, the same PAN"));

    const challenge = op.resultOf((await s.gql(op.GENERATE_CIBIL_OTP, { input: customer })).body, "generateCibilOtp");
    expect(challenge.__typename).toBe("CibilOtpChallenge");
    taken.set("generate", once("generateCibilOtp"));
    const question = challenge.question as { key: string; answerChoices: Array<{ key: string }> };
    const answer = { otp: SIM_OTP, questionKey: question.key, answerKey: question.answerChoices[0].key };
    const verified = op.resultOf(
      (await s.gql(op.SUBMIT_CIBIL_OTP, { input: { ...customer, ...answer } })).body,
      "submitCibilOtp",
    );
    expect(verified).toMatchObject({
      __typename: "CibilOtpVerified",
      creditHistory: { __typename: "CibilCreditHistory" },
    });
    taken.set("submit", once("submitCibilOtp with its creditHistory"));
    const history = op.resultOf(
      (await s.gql(op.CIBIL_CREDIT_HISTORY, { cibilId: customer.cibilId })).body,
      "cibilCreditHistory",
    );
    expect(history.__typename).toBe("CibilCreditHistory");
    taken.set("history", once("cibilCreditHistory"));

    const aeps = op.aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
    expect(op.resultOf((await s.gql(op.RESEND_AEPS_OTP, aeps)).body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    taken.set("resend", once("resendAepsOtp"));
    const v = op.resultOf(
      (await s.gql(op.VERIFY_AEPS_OTP, { input: { ...aeps.input, otp: SIM_OTP } })).body,
      "verifyAepsOtp",
    );
    expect(v.__typename).toBe("AepsRegistrationVerified");
    taken.set("verify", once("verifyAepsOtp"));
    const keyed = op.aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
    const replayed = await s.gql(op.RESEND_AEPS_OTP, keyed, { "idempotency-key": `hmac-once-${Date.now()}` });
    if (!replayed.body.data) throw new Error(replayed.text);
    expect(op.resultOf(replayed.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    taken.set("keyed resend", once("resendAepsOtp with an Idempotency-Key"));
    return { pan: input.pan, cibilId: customer.cibilId, taken };
  }

  (skip === null ? it : it.skip)("every operation of both flows: no key hashed twice in a request", async () => {
    const { taken } = await everyOperation(await start());
    // The two that did before: the PAN's link (registering, then remember), the consent (grant, then check).
    expect(count(taken.get("register")!, "registered-pan")).toBe(1);
    expect(count(taken.get("register again")!, "registered-pan")).toBe(1);
    expect(count(taken.get("submit")!, "consent")).toBe(1);
    expect(count(taken.get("history")!, "consent")).toBe(1);
  });

  // What Redis holds, and a rotation (which needs Redis): asked of the Redis stack only, not skipped for the memory one.
  const inRedis = name === "in Redis" ? (skip === null ? it : it.skip) : null;

  inRedis?.(
    "the keys written are the ones earlier versions wrote and read: the PAN's link and the consent",
    async () => {
      const s = await start();
      const { pan, cibilId } = await everyOperation(s);
      const redis = new Redis(REDIS_URL as string);
      try {
        const prefix = env().REDIS_KEY_PREFIX;
        // The link `remember` wrote, under the HMAC createHmac gave (test/unit/protection/key-hasher.test.ts holds
        // KeyHasher to it): a replica of an earlier version finds it, and this one finds theirs.
        const recordKey = reference(SECRET, "registered-mobile", cibilId);
        expect(await redis.get(`${prefix}regpan:${reference(SECRET, "registered-pan", pan)}`)).toBe(recordKey);
        // The consent the verification granted, under the key an earlier version checks (client `anonymous`: the test
        // stack does not require a key).
        expect(await redis.exists(`${prefix}consent:${reference(SECRET, "consent", `anonymous\n${cibilId}`)}`)).toBe(1);
      } finally {
        redis.disconnect();
      }
    },
  );

  inRedis?.("during a rotation: each secret's key once per request, the current one's computed once", async () => {
    const { taken } = await everyOperation(await start(ROTATION));
    // The PAN's link looked up under each of the three secrets (none has it yet) and written under the current one's
    // key, computed once (4 before: the current one's again at `remember`).
    expect(count(taken.get("register")!, "registered-pan")).toBe(3);
    // Each secret's key once (graphql/loaders.ts Loaders.consentKeys), all shared between the grant and the nested
    // read: the grant writes under the current one and reads the others for a revoke mark (consent-store.ts GRANT),
    // the read reads them all, since an operator's revoke mark under any of them is no consent
    // (protection/consent.ts hasConsent). 3 before this grant read the others too, 3 after: not hashed again.
    expect(count(taken.get("submit")!, "consent")).toBe(3);
    expect(
      new Set(
        taken
          .get("submit")!
          .filter((c) => c.dimension === "consent")
          .map((c) => c.hasher),
      ).size,
    ).toBe(3);
    expect(count(taken.get("history")!, "consent")).toBe(3);
  });

  // A PAN whose link is under an older secret: found through it, each secret's key still computed once. The stacks run
  // in turn on one Redis prefix: the first under SECRET, then SECRET as HMAC_SECRET_PREVIOUS, then as
  // HMAC_SECRET_RETIRED (the successor path: the old record's mobiles joined under the current secret).
  inRedis?.("a PAN linked under a previous or a retired secret: each secret's key once per request", async () => {
    const [viaPrevious, viaRetired] = [
      registrationInput({ mobile: nextMobile() }),
      registrationInput({ mobile: nextMobile() }),
    ];
    const first = await start();
    const prefix = env().REDIS_KEY_PREFIX;
    for (const input of [viaPrevious, viaRetired]) {
      const reg = op.resultOf((await first.gql(op.REGISTER_CIBIL_CUSTOMER, { input })).body, "registerCibilCustomer");
      expect(reg.__typename).toBe("CibilCustomerRegistered");
    }
    calls = [];
    const registerAgain = async (s: TestStack, input: typeof viaPrevious, what: string): Promise<Call[]> => {
      const again = await s.gql(op.REGISTER_CIBIL_CUSTOMER, { input: { ...input, mobile: nextMobile() } });
      expect(op.resultOf(again.body, "registerCibilCustomer").__typename).toBe("CibilCustomerRegistered");
      return once(what);
    };
    const NEW = "w".repeat(32);
    await stop();
    const rotated = await start({ REDIS_KEY_PREFIX: prefix, HMAC_SECRET: NEW, HMAC_SECRET_PREVIOUS: SECRET });
    const linkedBefore = await registerAgain(rotated, viaPrevious, "registerCibilCustomer, linked under the previous");
    // Looked up under the current secret (none), then the previous one (found); then written under the current one.
    expect(count(linkedBefore, "registered-pan")).toBe(2);
    await stop();
    const retired = await start({ REDIS_KEY_PREFIX: prefix, HMAC_SECRET: NEW, HMAC_SECRET_RETIRED: SECRET });
    const linkedRetired = await registerAgain(retired, viaRetired, "registerCibilCustomer, linked under a retired one");
    expect(count(linkedRetired, "registered-pan")).toBe(2);
  });
});
