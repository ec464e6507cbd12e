import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { request } from "undici";
import { AUTH_UNAVAILABLE_LINES_PER_INTERVAL } from "../../src/http/exchange";
import { startTestStack, TEST_API_KEY, TEST_API_KEYS_ENTRY, type TestStack } from "../helpers/stack";

/**
 * The identity provider's JWKS in operation (docs/security.md "Authentication"): a real key set served by a scripted
 * node:http server on loopback, which counts its fetches and can be made to fail, and the real server
 * (startTestStack) verifying tokens signed with jose against it. No mocks: only the clock of this process is moved
 * forward where a test needs the key set to have aged (jose reads Date.now), and put back after.
 */

const ISSUER = "https://issuer.example/";
const AUDIENCE = "aopay-graphql";
const QUERY = "{ __typename }";

type Mode = "ok" | "500" | "garbage" | "slow" | "headers-then-nothing" | "reset";

/** A JWKS endpoint: `keys` served while `mode` is "ok"; `fetches` counts every request it got. */
class ScriptedJwks {
  keys: JWK[] = [];
  mode: Mode = "ok";
  fetches = 0;
  readonly #server: Server = createServer((req, res) => {
    this.fetches++;
    if (this.mode === "500") return res.writeHead(500).end("identity provider down");
    if (this.mode === "garbage") return res.writeHead(200, { "content-type": "text/html" }).end("<html>");
    // Answers after 10 s: past the server's 3 s.
    if (this.mode === "slow") {
      const timer = setTimeout(() => res.writeHead(200).end(JSON.stringify({ keys: this.keys })), 10_000);
      res.on("close", () => clearTimeout(timer));
      return;
    }
    if (this.mode === "headers-then-nothing") return res.writeHead(200, { "content-type": "application/json" });
    // The connection dropped unanswered: undici's own `TypeError: fetch failed`, which jose does not wrap.
    if (this.mode === "reset") return void req.socket.destroy();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: this.keys }));
  });

  async start(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(r));
  }
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
/** A token that looks well-formed (its header names `header`'s algorithm and kid) but whose signature is no one's. */
const forged = (header: Record<string, unknown>) =>
  `${b64({ typ: "at+jwt", ...header })}.${b64({ azp: "attacker", iss: ISSUER, aud: AUDIENCE, exp: 4e9 })}.c2ln`;

function sign(key: CryptoKey, header: Record<string, unknown>, claims: Record<string, unknown> = {}): Promise<string> {
  return (
    new SignJWT({ azp: "jwt-client", ...claims })
      .setProtectedHeader({ alg: "RS256", typ: "at+jwt", ...header })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      // Long enough for the tests that move this process's clock a day forward.
      .setExpirationTime("3d")
      .sign(key)
  );
}

async function metric(t: TestStack, name: string): Promise<number> {
  const page = await (await request(t.stack.app.metricsUrl!)).body.text();
  return page
    .split("\n")
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
}

async function startWith(jwks: ScriptedJwks, env: Record<string, string> = {}): Promise<TestStack> {
  return startTestStack({
    AUTH_REQUIRED: "true",
    API_KEYS: TEST_API_KEYS_ENTRY,
    AUTH_JWKS_URL: await jwks.start(),
    AUTH_JWT_ISSUER: ISSUER,
    AUTH_JWT_AUDIENCE: AUDIENCE,
    ...env,
  });
}

const bearer = (t: TestStack, token: string) => t.gql(QUERY, undefined, { authorization: `Bearer ${token}` });

/** The error and warning lines written since `from` (an index into t.logs.lines). */
function lines(t: TestStack, level: "error" | "warn", from = 0): Array<Record<string, unknown>> {
  const wanted = level === "error" ? 50 : 40;
  return t.logs
    .records()
    .slice(from)
    .filter((r) => r.level === wanted || r.level === level);
}

/**
 * What a bearer request the key set could not be had for is answered (exchange.ts authRefusal): 503 AUTH_UNAVAILABLE
 * with Retry-After 5 (and the same seconds in the error), counted as a refusal with its code, not as a failure of ours
 * (http_requests_failed_total: RequestsFailed); a warning line at most (none once AUTH_UNAVAILABLE_LINES_PER_INTERVAL
 * were written in the last 10 s: test/e2e/refusal-log-flood.test.ts), no error line, and the token in no line. It was
 * a 500 INTERNAL_SERVER_ERROR, which tells a client its mutation's OTP may have been sent (docs/api.md), with an
 * error line.
 */
async function expectUnavailable(
  t: TestStack,
  send: () => Promise<Awaited<ReturnType<typeof bearer>>>,
  token: string,
): Promise<void> {
  const from = t.logs.lines.length;
  const refused = await metric(t, 'http_requests_refused_total{status="503",code="AUTH_UNAVAILABLE"}');
  const failed = await metric(t, "http_requests_failed_total");
  const res = await send();
  const requestId = res.headers["x-request-id"] as string;
  expect({
    status: res.status,
    retryAfter: res.headers["retry-after"],
    error: res.body.errors?.[0]?.extensions,
    access: t.logs.accessLines(requestId).map((l) => [l.result, l.refused]),
    // Its own warning, with the code; none once the interval's were written (the summary counts it then).
    warnings: lines(t, "warn", from)
      .filter((l) => l.requestId === requestId)
      .map((l) => l.code)
      .filter((code, i) => i > 0 || code !== "AUTH_UNAVAILABLE"),
    errors: lines(t, "error", from),
    refused: (await metric(t, 'http_requests_refused_total{status="503",code="AUTH_UNAVAILABLE"}')) - refused,
    failed: (await metric(t, "http_requests_failed_total")) - failed,
  }).toEqual({
    status: 503,
    retryAfter: "5",
    error: { code: "AUTH_UNAVAILABLE", requestId, retryAfterSeconds: 5 },
    access: [["AUTH_UNAVAILABLE", expect.stringMatching(/^identity provider's key set unavailable \(/)]],
    warnings: [],
    errors: [],
    refused: 1,
    failed: 0,
  });
  expect(t.logs.lines.slice(from).join("\n")).not.toContain(token.split(".")[2]);
}

let pair1: { publicKey: CryptoKey; privateKey: CryptoKey };
let pair2: { publicKey: CryptoKey; privateKey: CryptoKey };
let jwk1: JWK;
let jwk2: JWK;

beforeAll(async () => {
  pair1 = await generateKeyPair("RS256");
  pair2 = await generateKeyPair("RS256");
  jwk1 = { ...(await exportJWK(pair1.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  jwk2 = { ...(await exportJWK(pair2.publicKey)), kid: "k2", alg: "RS256", use: "sig" };
});

/**
 * A token without `kid` (RFC 7515 §4.1.4: optional) against a key set of two keys of its type, as an identity provider
 * publishes during a rotation (some always): jose throws ERR_JWKS_MULTIPLE_MATCHING_KEYS, which the server took for a
 * JWKS it could not use: a 500 and an error line for every such token, a forged one included (anyone could page the
 * operator: RequestsFailed), and a genuine one never accepted. Now each key is tried: the genuine token is served, the
 * forged one is the client's 401.
 */
describe("a token without kid, two keys in the JWKS", () => {
  const jwks = new ScriptedJwks();
  let t: TestStack;
  beforeAll(async () => {
    jwks.keys = [jwk1, jwk2];
    t = await startWith(jwks);
  });
  afterAll(async () => {
    await t?.stop();
    await jwks.stop();
  });

  it("a genuine one, signed by the second key, is served", async () => {
    const res = await bearer(t, await sign(pair2.privateKey, {}));
    expect([res.status, res.body.data]).toEqual([200, { __typename: "Query" }]);
  });

  it("a forged one is refused 401 as the client's, with no error line and nothing counted as our failure", async () => {
    const from = t.logs.lines.length;
    const failedBefore = await metric(t, "http_requests_failed_total");
    const res = await bearer(t, forged({ alg: "RS256" }));
    const requestId = res.headers["x-request-id"] as string;
    expect([res.status, res.body.errors?.[0]?.extensions?.code]).toEqual([401, "UNAUTHENTICATED"]);
    expect(t.logs.accessLines(requestId).map((l) => l.refused)).toEqual([
      "invalid token (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)",
    ]);
    expect(lines(t, "error", from)).toEqual([]);
    expect((await metric(t, "http_requests_failed_total")) - failedBefore).toBe(0);
  });
});

/**
 * What refusals cost: a flood of tokens naming kids the set lacks makes jose fetch the set again at most once per
 * cooldown (30 s), not once per token; tokens refused on their header alone (`alg` none or HS256, too long, malformed)
 * fetch nothing. Counted on the JWKS server, not timed.
 */
describe("the cost of refused tokens, in JWKS fetches", () => {
  const jwks = new ScriptedJwks();
  let t: TestStack;
  beforeAll(async () => {
    jwks.keys = [jwk1];
    t = await startWith(jwks);
    expect((await bearer(t, await sign(pair1.privateKey, { kid: "k1" }))).status).toBe(200);
  });
  afterAll(async () => {
    await t?.stop();
    await jwks.stop();
  });

  it("200 tokens naming unknown kids: all 401, at most one fetch", async () => {
    const before = jwks.fetches;
    const statuses = new Set<number>();
    for (let i = 0; i < 200; i++) statuses.add((await bearer(t, forged({ alg: "RS256", kid: `unknown-${i}` }))).status);
    expect([...statuses]).toEqual([401]);
    expect(jwks.fetches - before).toBeLessThanOrEqual(1);
  });

  it.each([
    ["alg none", forged({ alg: "none", kid: "k1" }).replace(/c2ln$/, "")],
    ["alg HS256 against the RSA key", forged({ alg: "HS256", kid: "k1" })],
    ["a token over 8192 characters", forged({ alg: "RS256", kid: "k1", pad: "x".repeat(9000) })],
    ["a header that is not JSON", `${Buffer.from("{nope").toString("base64url")}.e30.c2ln`],
  ])("%s: 401, no fetch", async (_what, token) => {
    const before = jwks.fetches;
    const res = await bearer(t, token);
    expect(res.status).toBe(401);
    expect(jwks.fetches - before).toBe(0);
  });
});

/**
 * The identity provider down, slow or answering garbage before any key set was fetched: a bearer request waits at most
 * the 3 s of the fetch's timeout (not the 10 s the JWKS takes, nor for ever), and is answered 503 AUTH_UNAVAILABLE
 * (expectUnavailable: not the client's fault, never a 401; nothing ran, never a 500), while an API-key client is served
 * meanwhile. A dropped connection (undici's TypeError, not a jose error) is answered the same.
 */
describe.each([
  ["answers after 10 s", "slow"],
  ["sends its headers, then nothing", "headers-then-nothing"],
  ["answers 500", "500"],
  ["answers HTML", "garbage"],
  ["drops the connection", "reset"],
] as const)("a JWKS that %s, no key set held yet", (_what, mode) => {
  const jwks = new ScriptedJwks();
  let t: TestStack;
  beforeAll(async () => {
    jwks.keys = [jwk1];
    jwks.mode = mode;
    t = await startWith(jwks);
  });
  afterAll(async () => {
    await t?.stop();
    await jwks.stop();
  });

  it("a valid token: 503 within the fetch's timeout; an API key is served meanwhile", async () => {
    const started = Date.now();
    const token = bearer(t, await sign(pair1.privateKey, { kid: "k1" }));
    const order: string[] = [];
    const apiKey = t.gql(QUERY, undefined, { "x-api-key": TEST_API_KEY }).then((r) => {
      order.push("api key");
      return r;
    });
    const res = await token.then((r) => {
      order.push("bearer");
      return r;
    });
    const elapsed = Date.now() - started;
    expect((await apiKey).status).toBe(200);
    if (mode === "slow" || mode === "headers-then-nothing") expect(order).toEqual(["api key", "bearer"]);
    expect([res.status, res.body.errors?.[0]?.extensions?.code]).toEqual([503, "AUTH_UNAVAILABLE"]);
    expect(elapsed).toBeLessThan(6_000);
  });

  it("is a refusal: Retry-After, counted as refused, a warning line without the token, no error line", async () => {
    const token = await sign(pair1.privateKey, { kid: "k1" });
    await expectUnavailable(t, () => bearer(t, token), token);
  });
});

/**
 * A stack on `jwks` (holding jwk1 at first) for a describe block that moves this process's clock forward: Date.now,
 * which jose's cache age and cooldown and the refresher read. `move(ms)` moves it further; restored after the block.
 */
function stackWithMovedClock(jwks: ScriptedJwks): { readonly t: TestStack; move(ms: number): void } {
  const realNow = Date.now;
  let offset = 0;
  const s = {
    t: undefined as unknown as TestStack,
    move(ms: number): void {
      offset += ms;
    },
  };
  beforeAll(async () => {
    jwks.keys = [jwk1];
    s.t = await startWith(jwks);
    Date.now = () => realNow() + offset;
  });
  afterAll(async () => {
    Date.now = realNow;
    await s.t?.stop();
    await jwks.stop();
  });
  return s;
}

/**
 * The identity provider down once a key set is held. jose refreshed the set on the first token after its cache age
 * (10 minutes), made that request wait, and answered 500 to it and to every bearer request after it while the fetch
 * failed: a blip at the wrong moment, or an hour's outage, failed every JWT client though the set held was as good
 * as before. Now the set is refreshed in the background (AUTH_JWKS_REFRESH_SECONDS, 10 minutes), a failed refresh keeps
 * it (one warning line, tried again 30 s later, never once per request) for up to AUTH_JWKS_MAX_STALE_SECONDS (a day)
 * since it was fetched, and then requests wait for a fetch again (503 AUTH_UNAVAILABLE while it fails). The clock of this process is
 * moved forward to age the set.
 */
describe("the JWKS down once a key set is held", () => {
  const jwks = new ScriptedJwks();
  const s = stackWithMovedClock(jwks);
  let token: string;
  beforeAll(async () => {
    token = await sign(pair1.privateKey, { kid: "k1" });
  });

  it("is served from the held set past the refresh period, with one warning, not a fetch per request", async () => {
    expect((await bearer(s.t, token)).status).toBe(200);
    expect(await metric(s.t, "auth_jwks_refresh_failures_total")).toBe(0);
    jwks.mode = "500";
    s.move(11 * 60_000);
    const from = s.t.logs.lines.length;
    const fetches = jwks.fetches;
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await bearer(s.t, token)).status);
    // The background refresh has settled (its warning written) before the next request is answered.
    await new Promise((r) => setTimeout(r, 100));
    expect(statuses).toEqual(Array(20).fill(200));
    expect(jwks.fetches - fetches).toBe(1);
    expect(lines(s.t, "error", from)).toEqual([]);
    // What it says is what the code does: no timer tries again, the first bearer token 30 s later does (it said
    // "tried again in 30 s"), and the set held serves only up to AUTH_JWKS_MAX_STALE_SECONDS.
    expect(lines(s.t, "warn", from).map((l) => l.msg)).toEqual([
      expect.stringMatching(
        /^identity provider's key set \(AUTH_JWKS_URL\) could not be refreshed: .*up to AUTH_JWKS_MAX_STALE_SECONDS .*tried again with the first bearer token 30 s or more from now$/,
      ),
    ]);
    expect(await metric(s.t, "auth_jwks_refresh_failures_total")).toBe(1);
  });

  it("tokens naming kids the held set lacks, while it cannot be refreshed: 503, and no fetch each", async () => {
    // Past jose's 30 s cooldown, which counts from the last fetch that succeeded: a failed one does not restart it.
    s.move(5_000);
    const fetches = jwks.fetches;
    const statuses = new Set<number>();
    const from = s.t.logs.lines.length;
    for (let i = 0; i < 20; i++)
      statuses.add((await bearer(s.t, forged({ alg: "RS256", kid: `unknown-${i}` }))).status);
    expect([...statuses]).toEqual([503]);
    // A warning each for the first few of 10 s only (a forged token costs nothing): the rest go to a summary.
    expect(lines(s.t, "warn", from).filter((l) => l.code === "AUTH_UNAVAILABLE")).toHaveLength(
      AUTH_UNAVAILABLE_LINES_PER_INTERVAL,
    );
    const unknown = forged({ alg: "RS256", kid: "unknown-last" });
    await expectUnavailable(s.t, () => bearer(s.t, unknown), unknown);
    expect(jwks.fetches - fetches).toBe(0);
    expect((await bearer(s.t, token)).status).toBe(200);
  });

  it("tries again after 30 s, and logs once that the set is fetched again", async () => {
    s.move(31_000);
    const fetches = jwks.fetches;
    expect((await bearer(s.t, token)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(jwks.fetches - fetches).toBe(1);
    jwks.mode = "ok";
    s.move(31_000);
    const from = s.t.logs.lines.length;
    expect((await bearer(s.t, token)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(jwks.fetches - fetches).toBe(2);
    expect(
      s.t.logs
        .records()
        .slice(from)
        .map((l) => l.msg),
    ).toContain("identity provider's key set (AUTH_JWKS_URL) fetched again");
  });

  it("past AUTH_JWKS_MAX_STALE_SECONDS, a set that cannot be fetched is no longer used: 503", async () => {
    jwks.mode = "500";
    s.move(25 * 3_600_000);
    await expectUnavailable(s.t, () => bearer(s.t, token), token);
    jwks.mode = "ok";
    expect((await bearer(s.t, token)).status).toBe(200);
  });
});

/**
 * The identity provider rotating its keys. A token signed with a key the set held lacks makes the server fetch the set
 * again, waiting for it, unless it was fetched in the last 30 s (jose's cooldown: what bounds the fetches a flood of
 * unknown kids costs): then it is refused 401 `ERR_JWKS_NO_MATCHING_KEY` until the cooldown has passed, so a provider
 * must publish a key before it signs with it (as RFC 7517 §5 rotation is done). A key the provider withdraws is refused
 * once the background refresh (AUTH_JWKS_REFRESH_SECONDS) has fetched the set without it.
 */
describe("the JWKS rotating its keys", () => {
  const jwks = new ScriptedJwks();
  const s = stackWithMovedClock(jwks);

  it("a new key used within 30 s of the last fetch: 401 until the cooldown has passed, then fetched and served", async () => {
    expect((await bearer(s.t, await sign(pair1.privateKey, { kid: "k1" }))).status).toBe(200);
    jwks.keys = [jwk1, jwk2];
    const newKey = await sign(pair2.privateKey, { kid: "k2" });
    const early = await bearer(s.t, newKey);
    expect(early.status).toBe(401);
    expect(s.t.logs.accessLines(early.headers["x-request-id"] as string)[0].refused).toBe(
      "invalid token (ERR_JWKS_NO_MATCHING_KEY)",
    );
    s.move(31_000);
    const fetches = jwks.fetches;
    expect((await bearer(s.t, newKey)).status).toBe(200);
    expect(jwks.fetches - fetches).toBe(1);
  });

  it("a withdrawn key is refused once the background refresh has fetched the set without it", async () => {
    const oldKey = await sign(pair1.privateKey, { kid: "k1" });
    expect((await bearer(s.t, oldKey)).status).toBe(200);
    jwks.keys = [jwk2];
    s.move(11 * 60_000);
    // This request starts the refresh (and is verified with the set held meanwhile).
    await bearer(s.t, oldKey);
    await new Promise((r) => setTimeout(r, 100));
    const res = await bearer(s.t, oldKey);
    expect(res.status).toBe(401);
    expect(s.t.logs.accessLines(res.headers["x-request-id"] as string)[0].refused).toBe(
      "invalid token (ERR_JWKS_NO_MATCHING_KEY)",
    );
  });
});
