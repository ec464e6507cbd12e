import { Authenticator, hashApiKey, shownClientId } from "../../../src/auth/authenticator";

describe("a client id as logs and spans show it (shownClientId)", () => {
  it.each([
    ["mobile-app", "mobile-app"],
    ["app.v2:2024", "app.v2:2024"],
    ["a1c2e3f4-0b1d-4e2f-8a3b-4c5d6e7f8a9b", "a1c2e3f4-0b1d-4e2f-8a3b-4c5d6e7f8a9b"],
    // A run of ten or more digits, glued to letters or not, and what the log scrubber masks.
    ["mob9812345678", "mobXXXXXXXXXX"],
    ["merchant-9812345678", "merchant-XXXXXXXXXX"],
    ["9812345678", "XXXXXX5678"],
    ["234123412346", "XXXX XXXX 2346"],
    ["user@example.com", "***@example.com"],
    // An attack review: a number split or written in another script, a PAN glued to letters or in lower case.
    // `_` between a number's groups is read as a mobile's separator since the look-alike review (pii/scrub.ts
    // MOBILE_WIDE): masked as a mobile is, its last four shown as `9812345678`'s above.
    ["sub_98123_45678", "sub_XXXXXX5678"],
    // A bracket around a group likewise since the review of numbers written apart (pii/scrub.ts MOBILE_APART).
    ["mob(98123) 45678", "mob(XXXXXX5678"],
    ["मोबाइल९८१२३४५६७८", "मोबाइलXXXXXXXXXX"],
    ["panCNRPY7315Q", "panXXXXXX315Q"],
    ["kyc-cnrpy7315q", "kyc-XXXXXX315Q"],
  ])("%s shows as %s", (id, shown) => {
    expect(shownClientId(id)).toBe(shown);
  });

  it("keeps the whole id for what belongs to the client (budgets, consents, idempotency)", () => {
    const key = "aopk_digits_0123456789abcdefghijklmnopqrstuv";
    const auth = new Authenticator({
      required: true,
      apiKeys: new Map([[hashApiKey(key), "mob9812345678"]]),
      jwt: null,
    });
    expect(auth.authenticateNow({ "x-api-key": key })).toEqual({
      ok: true,
      client: { id: "mob9812345678", shown: "mobXXXXXXXXXX", via: "api-key" },
    });
  });
});

describe("a client id percent-escaped or in punycode shows as read (pii/client-text.ts)", () => {
  it.each([
    // A token's claim is the identity provider's text: a number escaped in it is the number to whoever decodes it.
    ["sub%E0%A5%AF%E0%A5%AE%E0%A5%AD%E0%A5%AC%E0%A5%AB%E0%A5%A6%E0%A5%A7%E0%A5%A8%E0%A5%A9%E0%A5%AA", "subXXXXXXXXXX"],
    ["user-98123%E2%80%8B45678", "user-XXXXX\u200bXXXXX"],
    ["kyc%2Dcnrpy7315q", "kyc-XXXXXX315Q"],
    ["tenant.xn--d4bbcdefghij", "tenant.XXXXXXXXXX"],
    ["app%20v2", "app%20v2"],
  ])("%s shows as %s", (id, shown) => {
    expect(shownClientId(id)).toBe(shown);
  });
});
