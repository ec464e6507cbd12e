import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type CryptoKey, exportJWK, generateKeyPair, SignJWT } from "jose";
import { request } from "undici";
import { hashApiKey } from "../../src/auth/authenticator";
import { cibilInput, GENERATE_CIBIL_OTP, resultOf, withoutRequestIds } from "../helpers/operations";
import {
  PRODUCTION_SECURITY,
  type ProductionTestStack,
  startProductionStack,
  startTestStack,
  TEST_API_KEY,
  TEST_API_KEYS_ENTRY,
  type TestStack,
} from "../helpers/stack";

const ISSUER = "https://auth.example.test/";
const AUDIENCE = "aopay-graphql";

/** A real JWKS endpoint on loopback, serving one RS256 public key. */
async function startJwks(publicKey: CryptoKey): Promise<{ url: string; server: Server }> {
  const jwk = { ...(await exportJWK(publicKey)), kid: "test-key", alg: "RS256", use: "sig" };
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`, server };
}

describe("client authentication in production (docs/security-requirements.md B3; OWASP API2)", () => {
  let jwks: { url: string; server: Server };
  let signingKey: CryptoKey;
  let strangerKey: CryptoKey;
  let t: ProductionTestStack;

  const token = (
    claims: Record<string, unknown>,
    opts: {
      key?: CryptoKey;
      issuer?: string;
      audience?: string;
      /** null: no `exp` claim. */
      exp?: string | null;
      nbf?: string;
      typ?: string | null;
    } = {},
  ) => {
    const jwt = new SignJWT(claims)
      // RFC 9068 §2.1: an OAuth access token is typed `at+jwt`. `typ: null` leaves the header out.
      .setProtectedHeader({
        alg: "RS256",
        kid: "test-key",
        ...(opts.typ === null ? {} : { typ: opts.typ ?? "at+jwt" }),
      })
      .setIssuer(opts.issuer ?? ISSUER)
      .setAudience(opts.audience ?? AUDIENCE)
      .setIssuedAt();
    if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? "5m");
    if (opts.nbf !== undefined) jwt.setNotBefore(opts.nbf);
    return jwt.sign(opts.key ?? signingKey);
  };

  beforeAll(async () => {
    const pair = await generateKeyPair("RS256");
    signingKey = pair.privateKey;
    strangerKey = (await generateKeyPair("RS256")).privateKey;
    jwks = await startJwks(pair.publicKey);
    t = await startProductionStack();
  });
  afterAll(async () => {
    await t?.stop();
    jwks?.server.close();
  });
  beforeEach(() => t.simulator.resetCalls());

  it("rejects an unauthenticated OTP mutation with 401 before any upstream call", async () => {
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput());
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED" });
    expect(res.headers["www-authenticate"]).toBe("Bearer");
    expect(t.simulator.calls()).toBe(0);
  });

  it("accepts a configured API key and attributes the request to its client in the logs", async () => {
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(), {
      "x-api-key": TEST_API_KEY,
      "x-request-id": "a1c2e3f4-0b1d-4e2f-8a3b-4c5d6e7f8a9b",
    });
    expect(resultOf(res.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    const lines = t.logs.records().filter((r) => r.callerRequestId === "a1c2e3f4-0b1d-4e2f-8a3b-4c5d6e7f8a9b");
    expect(lines.some((r) => r.clientId === "test-client")).toBe(true);
    expect(t.logs.text()).not.toContain(TEST_API_KEY);
    expect(t.simulator.calls()).toBe(1);
  });

  it.each([
    ["a wrong API key", { "x-api-key": "aopk_wrong" }],
    ["a bearer token when no JWKS is configured", { authorization: "Bearer abc.def.ghi" }],
    ["a malformed Authorization header", { authorization: "Basic dXNlcjpwYXNz" }],
    ["both an API key and a token", { "x-api-key": TEST_API_KEY, authorization: "Bearer abc.def.ghi" }],
  ])("rejects %s with 401 and no upstream call", async (_what, headers) => {
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(), headers);
    expect(res.status).toBe(401);
    expect(withoutRequestIds(res.text)).not.toContain(TEST_API_KEY);
    expect(t.simulator.calls()).toBe(0);
  });

  // API keys only (no AUTH_JWKS_URL): the answer names the x-api-key header and no bearer token, on both routes. It
  // offered "or a bearer token", and a client holding an API key sent it as one, to be refused in the same words.
  it.each([
    ["no credential (thin route)", {}],
    ["an API key sent as a bearer token (thin route)", { authorization: `Bearer ${TEST_API_KEY}` }],
    ["no credential (Fastify: a browser origin)", { origin: "https://app.example" }],
  ])("tells a client with %s to send an API key in x-api-key, not a bearer token", async (_what, headers) => {
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(), headers as Record<string, string>);
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.message).toBe(
      "Authentication required: send a valid API key in the x-api-key header.",
    );
  });

  // Both headers, the key valid: the answer said "send a valid API key in the x-api-key header", the header it had
  // sent.
  it.each([
    ["thin route", {}],
    ["Fastify: a browser origin", { origin: "https://app.example" }],
  ])("tells a client that sent an API key and a bearer token to send the key alone (%s)", async (_what, headers) => {
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(), {
      ...headers,
      "x-api-key": TEST_API_KEY,
      authorization: `Bearer ${TEST_API_KEY}`,
    });
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.message).toBe(
      "Authentication required: send a valid API key in the x-api-key header, and no Authorization header.",
    );
    expect(t.simulator.calls()).toBe(0);
  });

  /**
   * A refusal anyone can provoke without a credential writes one line, its access line, which says why: a line of its
   * own beside it had doubled the log per refused request (about 170 bytes beside 200).
   */
  it.each([
    ["no credential (thin route)", {}, "authentication required"],
    ["a wrong API key (thin route)", { "x-api-key": "aopk_wrong" }, "invalid API key"],
    [
      "a wrong API key (Fastify: a browser origin)",
      { "x-api-key": "aopk_wrong", origin: "https://app.example" },
      "invalid API key",
    ],
  ])("logs %s on its access line only", async (_what, headers, reason) => {
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(), headers as Record<string, string>);
    expect(res.status).toBe(401);
    const lines = t.logs.records().filter((r) => r.requestId === res.headers["x-request-id"]);
    expect(lines).toEqual([
      expect.objectContaining({
        msg: "request completed",
        level: "info",
        status: 401,
        result: "UNAUTHENTICATED",
        refused: reason,
      }),
    ]);
  });

  describe("JWT bearer tokens verified against a JWKS (jose)", () => {
    let tj: TestStack;
    beforeAll(async () => {
      // Development with AUTH_REQUIRED=true: the JWKS test server is plain http on loopback, which production refuses.
      tj = await startTestStack({
        AUTH_REQUIRED: "true",
        AUTH_JWKS_URL: jwks.url,
        AUTH_JWT_ISSUER: ISSUER,
        AUTH_JWT_AUDIENCE: AUDIENCE,
        API_KEYS: TEST_API_KEYS_ENTRY,
      });
    });
    afterAll(() => tj?.stop());
    beforeEach(() => tj.simulator?.resetCalls());

    it("tells a client without a credential it may send either (both are configured)", async () => {
      const res = await tj.gql(GENERATE_CIBIL_OTP, cibilInput());
      expect(res.status).toBe(401);
      expect(res.body.errors?.[0]?.message).toBe(
        "Authentication required: send a valid API key in the x-api-key header or a valid bearer token (JWT) in the " +
          "Authorization header.",
      );
    });

    it("tells a client that sent both kinds of credential to send one of them", async () => {
      const res = await tj.gql(GENERATE_CIBIL_OTP, cibilInput(), {
        "x-api-key": TEST_API_KEY,
        authorization: `Bearer ${await token({ azp: "mobile-app" })}`,
      });
      expect(res.status).toBe(401);
      expect(res.body.errors?.[0]?.message).toBe(
        "Authentication required: send either the x-api-key header or the Authorization header, not both.",
      );
    });

    it("accepts a valid token and takes the client id from the azp claim", async () => {
      const res = await tj.gql(GENERATE_CIBIL_OTP, cibilInput(), {
        authorization: `Bearer ${await token({ azp: "mobile-app", sub: "user-1" })}`,
        "x-request-id": "b2d3f4a5-1c2e-4f3a-9b4c-5d6e7f8a9b0c",
      });
      expect(resultOf(res.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
      expect(
        tj.logs
          .records()
          .some((r) => r.callerRequestId === "b2d3f4a5-1c2e-4f3a-9b4c-5d6e7f8a9b0c" && r.clientId === "mobile-app"),
      ).toBe(true);
    });

    it.each([
      ["signed by another key", () => token({ azp: "mobile-app" }, { key: strangerKey })],
      ["expired", () => token({ azp: "mobile-app" }, { exp: "-1m" })],
      // Without an expiry it was accepted: a leaked token would never stop working (RFC 9068 §2.2 requires `exp`).
      ["without an expiry", () => token({ azp: "mobile-app" }, { exp: null })],
      ["expired 10 s ago (beyond the 5 s tolerance)", () => token({ azp: "mobile-app" }, { exp: "-10s" })],
      ["not valid for another minute (nbf)", () => token({ azp: "mobile-app" }, { nbf: "1m" })],
      ["for another audience", () => token({ azp: "mobile-app" }, { audience: "someone-else" })],
      ["from another issuer", () => token({ azp: "mobile-app" }, { issuer: "https://evil.example/" })],
      ["without the client claim", () => token({ sub: "user-1" })],
      // Its budgets, idempotency records and credit-report consents would be that client's.
      ["naming an API key's client", () => token({ azp: "test-client" })],
      ["naming the anonymous client", () => token({ azp: "anonymous" })],
    ])("rejects a token %s with 401 and no upstream call", async (_what, make) => {
      const res = await tj.gql(GENERATE_CIBIL_OTP, cibilInput(), { authorization: `Bearer ${await make()}` });
      expect(res.status).toBe(401);
      expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED" });
      expect(tj.simulator?.calls()).toBe(0);
    });

    /**
     * RFC 8725 §3.11 (explicit typing) and RFC 9068 §4 (a resource server rejects a token whose `typ` is not
     * `at+jwt`): the identity provider signs other kinds of JWT with the same keys (ID tokens, logout tokens,
     * security events), which can carry the same issuer, audience and `azp`. An audit had each of these accepted.
     */
    it.each([
      ["without a typ", null],
      ["typed JWT (an ID token, or an access token of an IdP without RFC 9068)", "JWT"],
      ["typed logout+jwt (an OIDC back-channel logout token)", "logout+jwt"],
      ["typed application/secevent+jwt (a security event token, RFC 8417)", "application/secevent+jwt"],
      ["typed dpop+jwt", "dpop+jwt"],
      ["typed at+jwt+x", "at+jwt+x"],
    ])("rejects a token %s by default, logging why, with no upstream call", async (_what, typ) => {
      const res = await tj.gql(GENERATE_CIBIL_OTP, cibilInput(), {
        authorization: `Bearer ${await token({ azp: "mobile-app" }, { typ })}`,
      });
      expect(res.status).toBe(401);
      expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED" });
      expect(tj.simulator?.calls()).toBe(0);
      const lines = tj.logs.records().filter((r) => r.requestId === res.headers["x-request-id"]);
      expect(lines).toEqual([
        expect.objectContaining({ status: 401, refused: "token type not accepted (AUTH_JWT_TYPES)" }),
      ]);
    });

    it.each([["at+jwt"], ["application/at+jwt"], ["AT+JWT"], ["Application/At+Jwt"]])(
      "accepts an access token typed %s (RFC 7515 §4.1.9: a media type, case-insensitive, application/ optional)",
      async (typ) => {
        const res = await tj.gql(GENERATE_CIBIL_OTP, cibilInput(), {
          authorization: `Bearer ${await token({ azp: `mobile-app-${typ.length}-${typ.charCodeAt(0)}` }, { typ })}`,
        });
        expect(resultOf(res.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
        expect(tj.simulator?.calls()).toBe(1);
      },
    );

    it("logs a claim's digit run masked on every line of its request", async () => {
      const ids: string[] = [];
      for (const azp of ["mob9812345670", "mob9812345671"]) {
        const res = await tj.gql(GENERATE_CIBIL_OTP, cibilInput(), {
          authorization: `Bearer ${await token({ azp })}`,
        });
        expect(resultOf(res.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
        ids.push(res.headers["x-request-id"] as string);
      }
      for (const id of ids) {
        const lines = tj.logs.records().filter((r) => r.requestId === id);
        expect(lines.length).toBeGreaterThan(0);
        for (const line of lines) expect(line.clientId).toBe("mobXXXXXXXXXX");
      }
      expect(tj.logs.text()).not.toContain("981234567");
    });

    it("serves the API key's client beside tokens, and logs why a token naming it was refused", async () => {
      const res = await tj.gql(GENERATE_CIBIL_OTP, cibilInput(), { "x-api-key": TEST_API_KEY });
      expect(resultOf(res.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
      await tj.gql(GENERATE_CIBIL_OTP, cibilInput(), {
        authorization: `Bearer ${await token({ azp: "test-client" })}`,
        "x-request-id": "c3e4f5a6-2d3f-4a4b-8c5d-6e7f8a9b0c1d",
      });
      const refused = tj.logs.records().filter((r) => r.callerRequestId === "c3e4f5a6-2d3f-4a4b-8c5d-6e7f8a9b0c1d");
      expect(JSON.stringify(refused)).toContain("names a client of API_KEYS");
      expect(refused.some((r) => r.clientId === "test-client")).toBe(false);
    });
  });
});

describe("AUTH_JWT_TYPES=at+jwt,JWT: an identity provider whose access tokens are typed JWT or not typed", () => {
  let jwks: { url: string; server: Server };
  let signingKey: CryptoKey;
  let t: TestStack;
  const token = (typ: string | null) =>
    new SignJWT({ azp: "legacy-app" })
      .setProtectedHeader({ alg: "RS256", kid: "test-key", ...(typ === null ? {} : { typ }) })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("5m")
      .sign(signingKey);

  beforeAll(async () => {
    const pair = await generateKeyPair("RS256");
    signingKey = pair.privateKey;
    jwks = await startJwks(pair.publicKey);
    t = await startTestStack({
      AUTH_REQUIRED: "true",
      AUTH_JWKS_URL: jwks.url,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
      AUTH_JWT_TYPES: "at+jwt, JWT",
    });
  });
  afterAll(async () => {
    await t?.stop();
    jwks?.server.close();
  });

  it("tells a client without a credential to send a bearer token (no API_KEYS here)", async () => {
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput());
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.message).toBe(
      "Authentication required: send a valid bearer token (JWT) in the Authorization header.",
    );
  });

  it.each([
    ["JWT", "JWT"],
    ["jwt", "jwt"],
    ["application/jwt", "application/jwt"],
    ["absent (RFC 7519 §5.1)", null],
    ["at+jwt", "at+jwt"],
  ])("accepts typ %s", async (_what, typ) => {
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(), { authorization: `Bearer ${await token(typ)}` });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
  });

  it.each([["logout+jwt"], ["secevent+jwt"], ["dpop+jwt"]])("still rejects typ %s", async (typ) => {
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(), { authorization: `Bearer ${await token(typ)}` });
    expect(res.status).toBe(401);
  });
});

/**
 * RFC 8725 §3.1: a verifier accepts only the algorithms it expects. A JWKS is public: an `oct` key in it (a
 * misconfigured identity provider) lets anyone who reads it sign HS256 tokens, and an RSA key published without `alg`
 * verifies RS256, RS384, RS512 and the PS family alike.
 */
describe("AUTH_JWT_ALGORITHMS: the JWS algorithms a token may use", () => {
  const secret = new Uint8Array(32).fill(7);
  let jwks: { url: string; server: Server };
  // A KeyObject, not a WebCrypto key (bound to one algorithm): the same RSA key signs RS256 and the PS family.
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });

  const sign = (alg: string, kid: string, key: KeyObject | Uint8Array, azp = "alg-app") =>
    new SignJWT({ azp })
      .setProtectedHeader({ alg, kid, typ: "at+jwt" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("5m")
      .sign(key);
  const settings = (extra: Record<string, string> = {}) => ({
    AUTH_REQUIRED: "true",
    AUTH_JWKS_URL: jwks.url,
    AUTH_JWT_ISSUER: ISSUER,
    AUTH_JWT_AUDIENCE: AUDIENCE,
    ...extra,
  });

  beforeAll(async () => {
    // The RSA key without `alg` (RFC 7517 §4.4 makes it optional), and a symmetric key beside it.
    const keys = [
      { ...rsa.publicKey.export({ format: "jwk" }), kid: "rsa-key", use: "sig" },
      { kty: "oct", k: Buffer.from(secret).toString("base64url"), kid: "hmac-key", alg: "HS256", use: "sig" },
    ];
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    jwks = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`, server };
  });
  afterAll(() => jwks?.server.close());

  describe("by default: the asymmetric algorithms", () => {
    let t: TestStack;
    beforeAll(async () => {
      t = await startTestStack(settings());
    });
    afterAll(() => t?.stop());

    it.each([["HS256"], ["HS384"], ["HS512"]])(
      "rejects a token signed %s with a symmetric key of the JWKS, with no upstream call",
      async (alg) => {
        t.simulator?.resetCalls();
        const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(), {
          authorization: `Bearer ${await sign(alg, "hmac-key", secret)}`,
        });
        expect(res.status).toBe(401);
        expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED" });
        expect(t.simulator?.calls()).toBe(0);
        const lines = t.logs.records().filter((r) => r.requestId === res.headers["x-request-id"]);
        expect(lines).toEqual([
          expect.objectContaining({ status: 401, refused: expect.stringMatching(/^invalid token/) }),
        ]);
      },
    );

    it.each([["RS256"], ["PS256"], ["PS512"]])("accepts %s with the RSA key", async (alg) => {
      const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(), {
        authorization: `Bearer ${await sign(alg, "rsa-key", rsa.privateKey, `alg-app-${alg}`)}`,
      });
      expect(resultOf(res.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    });
  });

  describe("AUTH_JWT_ALGORITHMS=PS256: only that one", () => {
    let t: TestStack;
    beforeAll(async () => {
      t = await startTestStack(settings({ AUTH_JWT_ALGORITHMS: "PS256" }));
    });
    afterAll(() => t?.stop());

    it("accepts PS256 and rejects RS256 and PS512 with the same key", async () => {
      const answer = async (alg: string) =>
        t.gql(GENERATE_CIBIL_OTP, cibilInput(), {
          authorization: `Bearer ${await sign(alg, "rsa-key", rsa.privateKey, `only-${alg}`)}`,
        });
      expect(resultOf((await answer("PS256")).body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
      for (const alg of ["RS256", "PS512"]) {
        const res = await answer(alg);
        expect(res.status).toBe(401);
        const lines = t.logs.records().filter((r) => r.requestId === res.headers["x-request-id"]);
        expect(lines).toEqual([
          expect.objectContaining({ status: 401, refused: "invalid token (ERR_JOSE_ALG_NOT_ALLOWED)" }),
        ]);
      }
      expect(t.simulator?.calls()).toBe(1);
    });
  });
});

describe("client authentication in development (optional; README says so)", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ API_KEYS: PRODUCTION_SECURITY.API_KEYS });
  });
  afterAll(() => t?.stop());

  it("serves anonymous callers, attributed to the client `anonymous`", async () => {
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(), {
      "x-request-id": "c3e4a5b6-2d3f-4a4b-8c5d-6e7f8a9b0c1d",
    });
    expect(resultOf(res.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    expect(
      t.logs
        .records()
        .some((r) => r.callerRequestId === "c3e4a5b6-2d3f-4a4b-8c5d-6e7f8a9b0c1d" && r.clientId === "anonymous"),
    ).toBe(true);
  });

  it("still refuses a wrong credential: a typo must not fall back to anonymous", async () => {
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(), { "x-api-key": "aopk_typo" });
    expect(res.status).toBe(401);
  });

  // The answer was "Invalid credentials: fix them, or send none ...": which header was wrong, and what it should
  // hold, it did not say. Each names the header to send, on both HTTP layers, and echoes nothing sent.
  const KEY_OR_NEITHER =
    "Invalid credentials: send a valid API key in the x-api-key header, or neither an x-api-key nor an Authorization " +
    "header to call anonymously in development.";
  it.each([
    ["a wrong API key (thin route)", { "x-api-key": "aopk_typo" }, KEY_OR_NEITHER],
    [
      "a wrong API key (Fastify: a browser origin)",
      { "x-api-key": "aopk_typo", origin: "http://localhost:5173" },
      KEY_OR_NEITHER,
    ],
    ["an API key sent as a bearer token", { authorization: `Bearer ${TEST_API_KEY}` }, KEY_OR_NEITHER],
    [
      "a good API key and a bearer token",
      { "x-api-key": TEST_API_KEY, authorization: "Bearer abc.def.ghi" },
      "Invalid credentials: send a valid API key in the x-api-key header, and no Authorization header, or neither an " +
        "x-api-key nor an Authorization header to call anonymously in development.",
    ],
  ])("tells a client with %s which header to send", async (_what, headers, message) => {
    t.simulator?.resetCalls();
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(), headers as Record<string, string>);
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.message).toBe(message);
    expect(res.text).not.toContain("aopk_typo");
    expect(t.simulator?.calls()).toBe(0);
  });

  // `npm start` as the README has it: no API_KEYS, no AUTH_JWKS_URL. A newcomer who adds the walkthrough's production
  // `-H 'x-api-key: <your key>'` (a key from `npm run api-key`) cannot make any key right there: the answer says so.
  describe("with no API_KEYS and no AUTH_JWKS_URL (npm start)", () => {
    let open: TestStack;
    beforeAll(async () => {
      open = await startTestStack();
    });
    afterAll(() => open?.stop());

    it.each([
      ["an API key", { "x-api-key": TEST_API_KEY }],
      ["a bearer token", { authorization: "Bearer abc.def.ghi" }],
      ["both", { "x-api-key": TEST_API_KEY, authorization: "Bearer abc.def.ghi" }],
    ])("tells a client with %s that this server takes no credential, and to send none", async (_what, headers) => {
      const res = await open.gql(GENERATE_CIBIL_OTP, cibilInput(), headers);
      expect(res.status).toBe(401);
      expect(res.body.errors?.[0]?.message).toBe(
        "Invalid credentials: this server accepts none (neither API_KEYS nor AUTH_JWKS_URL is set); send neither an " +
          "x-api-key nor an Authorization header to call anonymously in development.",
      );
      const anonymous = await open.gql(GENERATE_CIBIL_OTP, cibilInput());
      expect(resultOf(anonymous.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    });
  });
});

describe("rotating a client's API key (two API_KEYS entries, one client id)", () => {
  const NEW_KEY = "aopk_test_new_0123456789abcdefghijklmnopqrstuvwxyzABCD";
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ API_KEYS: `${TEST_API_KEYS_ENTRY},test-client:${hashApiKey(NEW_KEY)}` });
  });
  afterAll(() => t?.stop());

  it("counts each entry's requests, so that the old entry is removed once its count stopped rising", async () => {
    const idOf = (key: string) => hashApiKey(key).slice(0, 8);
    const counts = async () => {
      const page = await (await request(t.stack.app.metricsUrl as string)).body.text();
      const counts: Record<string, number> = {};
      for (const [, client, key, n] of page.matchAll(
        /^aopay_api_key_requests_total\{client="([^"]+)",key="([0-9a-f]+)"\} (\d+)$/gm,
      ))
        counts[`${client}/${key}`] = Number(n);
      return { counts, page };
    };
    // Both entries exported at 0 before any request: the operator sees the series of a key never used.
    expect((await counts()).counts).toEqual({
      [`test-client/${idOf(TEST_API_KEY)}`]: 0,
      [`test-client/${idOf(NEW_KEY)}`]: 0,
    });
    for (const key of [TEST_API_KEY, TEST_API_KEY, NEW_KEY])
      expect((await t.gql(GENERATE_CIBIL_OTP, cibilInput(), { "x-api-key": key })).status).toBe(200);
    expect((await t.gql(GENERATE_CIBIL_OTP, cibilInput(), { "x-api-key": "aopk_typo" })).status).toBe(401);
    const { counts: after, page } = await counts();
    expect(page).toMatch(/^# TYPE aopay_api_key_requests_total counter$/m);
    expect(after).toEqual({ [`test-client/${idOf(TEST_API_KEY)}`]: 2, [`test-client/${idOf(NEW_KEY)}`]: 1 });
    // Never a key, nor its whole hash.
    for (const key of [TEST_API_KEY, NEW_KEY]) {
      expect(page).not.toContain(key);
      expect(page).not.toContain(hashApiKey(key));
    }
  });
});
