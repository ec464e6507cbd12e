import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { CONSENT_REVOKE_MS, CONSENT_REVOKED } from "../../src/protection/consent-store";
import { byPath, json } from "../helpers/fake-upstream";
import { fixtureJson } from "../helpers/fixtures";
import { cibilInput, GENERATE_CIBIL_OTP, resultOf } from "../helpers/operations";
import { connectRedis, deletePrefixes, describeWithRedis, REDIS_URL, uniquePrefix } from "../helpers/redis";
import { startStackOnFakeUpstream, type TestStack } from "../helpers/stack";

/**
 * `npm run customer-ref -- --consent <clientId>` (docs/operations.md "Revoking a consent"): the key it prints for a
 * CIBIL id is the key the server wrote in Redis for that client's consent, whichever spelling of the id each was
 * given, and a revoke mark written there refuses the report (CONSENT_REQUIRED). The real server on loopback with a
 * scripted AOPay, the Redis at REDIS_URL, the tool run as an operator runs it (the CIBIL id on stdin).
 */
const ROOT = join(__dirname, "../..");
const HMAC_SECRET = "consent-key-e2e-secret-0123456789abcdefgh";
/** The client of a request without credentials (this stack has no API_KEYS: src/auth/auth.settings.ts). */
const CLIENT = "anonymous";
const HISTORY = `query($cibilId: String!) { cibilCreditHistory(cibilId: $cibilId) {
  __typename ... on Failure { code } } }`;
const VERIFY = `mutation($input: SubmitCibilOtpInput!) { submitCibilOtp(input: $input) { __typename } }`;

/** The tool's lines for `input` on stdin, with `args` after `--consent`. */
function tool(input: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [join(ROOT, "scripts/customer-ref.js"), "--consent", ...args], {
    input,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HMAC_SECRET, ...env },
  });
}

describeWithRedis("the consent key npm run customer-ref --consent prints", () => {
  let t: TestStack;
  let stop: () => Promise<void>;
  const prefix = uniquePrefix();
  beforeAll(async () => {
    const started = await startStackOnFakeUpstream({
      answer: byPath({
        "/CibilScore/GenerateOTP": json(200, fixtureJson("cibil/generate-otp.success")),
        "/CibilScore/SubmitOTP": json(200, fixtureJson("cibil/submit-otp.success")),
        "/CibilScore/GetCreditHistory": json(200, {
          status: "SUCCESS",
          message: "success",
          error_code: "SPC-200",
          merchant_trans_id: "SPCBL2401311200000000CnsntKy",
          result: { score: 742 },
        }),
      }),
      env: { HMAC_SECRET, REDIS_URL: REDIS_URL as string, REDIS_KEY_PREFIX: prefix },
    });
    ({ t, stop } = started);
  }, 120_000);
  afterAll(async () => {
    await stop?.();
    await deletePrefixes([prefix]);
  });

  it("is the key the server wrote; the revoke mark written there refuses the report", async () => {
    const cibilId = "831234567891";
    const sent = resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput(cibilId))).body, "generateCibilOtp");
    expect(sent.__typename).toBe("CibilOtpChallenge");
    const input = {
      // Another spelling than the tool is given below: both canonicalised to the same id.
      cibilId: `00${cibilId}`,
      accessToken: cibilInput(cibilId).input.accessToken,
      otp: "123456",
      questionKey: "1423489238",
      answerKey: "USER_TO_INPUT_ANSWER",
    };
    expect(resultOf((await t.gql(VERIFY, { input })).body, "submitCibilOtp")).toEqual({
      __typename: "CibilOtpVerified",
    });
    const read = async () => resultOf((await t.gql(HISTORY, { cibilId })).body, "cibilCreditHistory");
    expect(await read()).toEqual({ __typename: "CibilCreditHistory" });

    // The client the server saw: the access line's.
    expect(new Set(t.logs.records().flatMap((r) => (r.msg === "request completed" ? [r.clientId] : [])))).toEqual(
      new Set([CLIENT]),
    );
    const run = tool(`${cibilId}\n`, [CLIENT], { REDIS_KEY_PREFIX: prefix });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const [line, ...rest] = run.stdout.split("\n").filter(Boolean);
    expect(rest).toEqual([]);
    const key = line.replace(/^consent\s+/, "");
    const redis = await connectRedis();
    try {
      expect(key.startsWith(`${prefix}consent:`)).toBe(true);
      expect(await redis.get(key)).toBe("1");
      // Another client's key for the same customer is another key, which the server did not write.
      const other = tool(`${cibilId}\n`, ["other-client"], { REDIS_KEY_PREFIX: prefix }).stdout;
      const otherKey = other.replace(/^consent\s+/, "").trim();
      expect(otherKey).not.toBe(key);
      expect(await redis.exists(otherKey)).toBe(0);

      // The revoke as docs/operations.md writes it: the mark, for the longest consent and a minute (the server's own
      // constants, so that the documented command stays the one the server honours).
      expect([CONSENT_REVOKED, CONSENT_REVOKE_MS]).toEqual(["revoked", 86_460_000]);
      expect(await redis.set(key, "revoked", "PX", 86_460_000)).toBe("OK");
      expect(await read()).toEqual({ __typename: "ConsentRequired", code: "CONSENT_REQUIRED" });
      // The customer verifying again while the mark stands (at the moment of the revoke, or a write delayed): the
      // verification stands, its grant is not written over the mark (before, it was: the revoke undone).
      expect(resultOf((await t.gql(VERIFY, { input })).body, "submitCibilOtp")).toEqual({
        __typename: "CibilOtpVerified",
      });
      expect(await redis.get(key)).toBe("revoked");
      expect(await read()).toEqual({ __typename: "ConsentRequired", code: "CONSENT_REQUIRED" });
    } finally {
      await redis.quit();
    }
    // Nothing the tool wrote shows the CIBIL id.
    expect(run.stdout).not.toContain(cibilId);
  });

  it("never takes the CIBIL id as an argument, nor shows one it refuses", () => {
    const argv = spawnSync(
      process.execPath,
      [join(ROOT, "scripts/customer-ref.js"), "--consent", CLIENT, "831234567891"],
      {
        encoding: "utf8",
        env: { PATH: process.env.PATH, HMAC_SECRET },
      },
    );
    expect(argv.status).not.toBe(0);
    expect(argv.stdout).toBe("");
    expect(argv.stderr).toContain("not an argument");
    const invalid = tool("98-76x\n", [CLIENT]);
    expect(invalid.status).not.toBe(0);
    expect(invalid.stdout).toBe("");
    expect(invalid.stderr).not.toContain("98-76x");
    const noSecret = spawnSync(process.execPath, [join(ROOT, "scripts/customer-ref.js"), "--consent", CLIENT], {
      input: "831234567891\n",
      encoding: "utf8",
      env: { PATH: process.env.PATH },
    });
    expect(noSecret.status).not.toBe(0);
    expect(noSecret.stdout).toBe("");
  });
});

/**
 * During a rotation of HMAC_SECRET (HMAC_SECRET_PREVIOUS set, as on the server): the tool prints a key per secret and
 * says to mark every one; the server reads them all, so a mark under either refuses the report whichever key holds
 * the consent (a grant under the current secret's key, or under the previous one's, written by a replica not yet
 * switched). Before, the first consent found answered: a mark under the other key was not read.
 */
describeWithRedis("the consent keys during a rotation of HMAC_SECRET", () => {
  const PREVIOUS = "consent-key-e2e-previous-0123456789abcdef";
  let t: TestStack;
  let stop: () => Promise<void>;
  const prefix = uniquePrefix();
  beforeAll(async () => {
    ({ t, stop } = await startStackOnFakeUpstream({
      answer: byPath({
        "/CibilScore/SubmitOTP": json(200, fixtureJson("cibil/submit-otp.success")),
        "/CibilScore/GetCreditHistory": json(200, {
          status: "SUCCESS",
          message: "success",
          error_code: "SPC-200",
          merchant_trans_id: "SPCBL2401311200000000CnsntRt",
          result: { score: 742 },
        }),
      }),
      env: { HMAC_SECRET, HMAC_SECRET_PREVIOUS: PREVIOUS, REDIS_URL: REDIS_URL as string, REDIS_KEY_PREFIX: prefix },
    }));
  }, 120_000);
  afterAll(async () => {
    await stop?.();
    await deletePrefixes([prefix]);
  });
  const read = async (cibilId: string) => resultOf((await t.gql(HISTORY, { cibilId })).body, "cibilCreditHistory");
  const keysOf = (cibilId: string) => {
    const run = tool(`${cibilId}\n`, [CLIENT], { REDIS_KEY_PREFIX: prefix, HMAC_SECRET_PREVIOUS: PREVIOUS });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("2 keys the server reads: revoke by marking every one: SET <key> revoked PX 86460000\n");
    const [current, previous, ...rest] = run.stdout.split("\n").filter(Boolean);
    expect([rest, previous.endsWith("  (previous secret 1)")]).toEqual([[], true]);
    return { current: current.replace(/^consent\s+/, ""), previous: previous.replace(/^consent\s+|\s+\(.*$/g, "") };
  };

  it("a consent under the current secret's key, the mark under the previous one's alone: refused", async () => {
    const cibilId = "831234567892";
    const input = { ...cibilInput(cibilId).input, otp: "123456", questionKey: "1", answerKey: "USER_TO_INPUT_ANSWER" };
    expect(resultOf((await t.gql(VERIFY, { input })).body, "submitCibilOtp")).toEqual({
      __typename: "CibilOtpVerified",
    });
    expect(await read(cibilId)).toEqual({ __typename: "CibilCreditHistory" });
    const keys = keysOf(cibilId);
    const redis = await connectRedis();
    try {
      expect([await redis.get(keys.current), await redis.get(keys.previous)]).toEqual(["1", null]);
      await redis.set(keys.previous, CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
      expect(await read(cibilId)).toEqual({ __typename: "ConsentRequired", code: "CONSENT_REQUIRED" });
    } finally {
      await redis.quit();
    }
  });

  // The customer verifying while the mark stands under the previous secret's key alone: the grant, written under the
  // current one's, reads the other for a mark (consent-store.ts GRANT). Before, it was written there, refused only
  // while the mark stood, and became a consent once the mark ended (its PX; a DEL here): made while revoked.
  it("the mark under the previous key, then the customer verifies: no grant, none once the mark ends", async () => {
    const cibilId = "831234567894";
    const keys = keysOf(cibilId);
    const redis = await connectRedis();
    try {
      await redis.set(keys.previous, CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
      const input = {
        ...cibilInput(cibilId).input,
        otp: "123456",
        questionKey: "1",
        answerKey: "USER_TO_INPUT_ANSWER",
      };
      expect(resultOf((await t.gql(VERIFY, { input })).body, "submitCibilOtp")).toEqual({
        __typename: "CibilOtpVerified",
      });
      expect(await redis.exists(keys.current)).toBe(0);
      expect(await read(cibilId)).toEqual({ __typename: "ConsentRequired", code: "CONSENT_REQUIRED" });
      expect(await redis.del(keys.previous)).toBe(1);
      expect(await read(cibilId)).toEqual({ __typename: "ConsentRequired", code: "CONSENT_REQUIRED" });
    } finally {
      await redis.quit();
    }
  });

  it("a consent under the previous secret's key, the mark under the current one's: refused", async () => {
    const cibilId = "831234567893";
    const keys = keysOf(cibilId);
    const redis = await connectRedis();
    try {
      // What a replica still on the previous secret writes for the customer's verification.
      await redis.set(keys.previous, "1", "PX", 600_000);
      expect(await read(cibilId)).toEqual({ __typename: "CibilCreditHistory" });
      await redis.set(keys.current, CONSENT_REVOKED, "PX", CONSENT_REVOKE_MS);
      expect(await read(cibilId)).toEqual({ __typename: "ConsentRequired", code: "CONSENT_REQUIRED" });
    } finally {
      await redis.quit();
    }
  });
});
