import { randomUUID } from "node:crypto";
import { cibilInput, GENERATE_CIBIL_OTP, resultOf } from "../helpers/operations";
import { TEST_API_KEY, type TestStack } from "../helpers/stack";
import { startTokenStack, type TokenStack } from "../helpers/token-stack";

/**
 * A token's client id (docs/security.md "Authentication"): the claim is taken only as a string of the client-id
 * alphabet (ASCII letters, digits, `._:@-`, 1 to 128), so it has one spelling: no Unicode form (NFC/NFKC, a Cyrillic
 * homoglyph, fullwidth letters), no space or control character, no array or number can make a second client that looks
 * like another, nor a budget key of unbounded length. What a client id owns stays its own across the two kinds of
 * credential: an Idempotency-Key used by an API-key client and by a token client is two keys.
 */
describe("a token's client claim, and what its client owns", () => {
  let stack: TokenStack;
  let t: TestStack;
  beforeAll(async () => {
    stack = await startTokenStack();
    t = stack.t;
  });
  afterAll(() => stack?.stop());
  beforeEach(() => t.simulator?.resetCalls());

  const token = (claims: Record<string, unknown>) => stack.sign(claims);

  it.each<[string, Record<string, unknown>]>([
    ["missing", { sub: "user-1" }],
    ["an array", { azp: ["mobile-app"] }],
    ["a number", { azp: 9812345678 }],
    ["an object", { azp: { id: "mobile-app" } }],
    ["empty", { azp: "" }],
    ["129 characters", { azp: "a".repeat(129) }],
    ["with a Cyrillic homoglyph (mobile-аpp)", { azp: "mobile-\u0430pp" }],
    ["in fullwidth letters (NFKC would fold it)", { azp: "\uff4d\uff4f\uff42\uff49\uff4c\uff45" }],
    ["decomposed (NFD: e and a combining accent)", { azp: "caf\u0065\u0301" }],
    ["with a space", { azp: "mobile app" }],
    ["with a newline (a key separator of the stores)", { azp: "mobile-app\nx" }],
    ["ending in a newline", { azp: "mobile-app\n" }],
  ])("a claim %s: 401, no upstream call", async (_what, claims) => {
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(), { authorization: `Bearer ${await token(claims)}` });
    expect([res.status, res.body.errors?.[0]?.extensions?.code]).toEqual([401, "UNAUTHENTICATED"]);
    expect(t.logs.accessLines(res.headers["x-request-id"] as string).map((l) => l.refused)).toEqual([
      "token has no usable azp claim",
    ]);
    expect(t.simulator?.calls()).toBe(0);
  });

  // RFC 9110 §11.1: the auth scheme is a case-insensitive token, and one or more spaces part it from the credentials
  // (RFC 9110 §11.4). `bearer` was refused 401 "invalid Authorization header", a good token with it.
  it.each([["Bearer "], ["bearer "], ["BEARER "], ["Bearer   "]])("takes the scheme written %j", async (scheme) => {
    const res = await t.gql("{ __typename }", undefined, {
      authorization: `${scheme}${await token({ azp: "jwt-client" })}`,
    });
    expect(res.status).toBe(200);
  });

  it.each([["Bearer"], ["Bearer\t"], ["Bearerx "], ["Basic "]])("refuses the scheme written %j", async (scheme) => {
    const res = await t.gql("{ __typename }", undefined, {
      authorization: `${scheme}${await token({ azp: "jwt-client" })}`,
    });
    expect(res.status).toBe(401);
  });

  it("takes 128 characters of the alphabet", async () => {
    const res = await t.gql("{ __typename }", undefined, {
      authorization: `Bearer ${await token({ azp: `a.b_c:d@e-${"9".repeat(118)}` })}`,
    });
    expect(res.status).toBe(200);
  });

  it("an Idempotency-Key of an API-key client and of token clients is one key each: no replay across them", async () => {
    const idempotencyKey = randomUUID();
    const send = async (headers: Record<string, string>) => {
      const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput("800000011"), {
        "idempotency-key": idempotencyKey,
        ...headers,
      });
      return [resultOf(res.body, "generateCibilOtp").__typename, res.headers["idempotent-replayed"]];
    };
    expect(await send({ "x-api-key": TEST_API_KEY })).toEqual(["CibilOtpChallenge", undefined]);
    expect(await send({ authorization: `Bearer ${await token({ azp: "jwt-client" })}` })).toEqual([
      "CibilOtpChallenge",
      undefined,
    ]);
    // A second token client, its id differing in case only: another client, not a replay of the first.
    expect(await send({ authorization: `Bearer ${await token({ azp: "JWT-Client" })}` })).toEqual([
      "CibilOtpChallenge",
      undefined,
    ]);
    // Each replays its own.
    expect(await send({ authorization: `Bearer ${await token({ azp: "jwt-client" })}` })).toEqual([
      "CibilOtpChallenge",
      "true",
    ]);
    expect(t.simulator?.calls()).toBe(3);
  });
});
