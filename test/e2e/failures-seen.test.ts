import { createServer, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { request } from "undici";
import { Authenticator } from "../../src/auth/authenticator";
import { Metrics } from "../../src/observability/metrics";
import { holdingUpstream, until } from "../helpers/holding-upstream";
import { nextAadhaar } from "../helpers/identifiers";
import { aepsInput, RESEND_AEPS_OTP } from "../helpers/operations";
import { stackOnFakeUpstream, startTestStack, type TestStack } from "../helpers/stack";
import { unserialisable } from "../helpers/unserialisable";

/** http_requests_failed_total{status="500"} on the stack's metrics page: on it from the start, at 0. */
async function failed(t: TestStack): Promise<number> {
  const page = await (await request(t.stack.app.metricsUrl!)).body.text();
  const line = /^http_requests_failed_total\{status="500"\} ([0-9]+)$/m.exec(page);
  if (!line) throw new Error('http_requests_failed_total{status="500"} is not on the page');
  return Number(line[1]);
}

/**
 * Every failure is seen by the operator, correctly named: a GraphQL answer of 500 that Apollo gives after an unexpected
 * error (a response that cannot be serialised, a plugin hook throwing) has an error line with the request id, and an
 * access line that says INTERNAL_SERVER_ERROR, not BAD_REQUEST, and is not counted as a request refused before GraphQL
 * (http_requests_refused_total). Both HTTP layers, Apollo's pipeline and the fast path (graphql/fast-path.ts).
 */
describe.each([
  ["the thin route", true],
  ["Fastify's route", false],
])("an unexpected 500 from GraphQL (%s)", (_layer, thinGraphQLRoute) => {
  let t: TestStack;
  const realStringify = JSON.stringify;
  let armed = false;
  let restore = () => {};

  beforeAll(async () => {
    t = await startTestStack({}, { thinGraphQLRoute });
    // A response that cannot be serialised: this query's result only, while armed.
    restore = unserialisable(
      (value) => armed && value.data?.probe === "Query",
      "Do not know how to serialize 9876543210",
    );
  });
  afterAll(async () => {
    restore();
    await t?.stop();
  });

  async function refusedSeries(): Promise<string[]> {
    const page = await (await request(t.stack.app.metricsUrl!)).body.text();
    return page.split("\n").filter((l) => l.startsWith("http_requests_refused_total{") && / [1-9]/.test(l));
  }

  // The first request of a document is Apollo's; once accepted, the same document is the fast path's.
  it.each([
    ["Apollo's pipeline", 0],
    ["the fast path", 1],
  ])("a result that cannot be serialised: %s", async (_path, fast) => {
    t.logs.clear();
    const answeredBefore = t.stack.app.fastPathCounts.answered;
    const failedBefore = await failed(t);
    armed = true;
    let response;
    try {
      response = await t.gql("query Probe { probe: __typename }");
    } finally {
      armed = false;
    }
    expect(response.status).toBe(500);
    expect(t.stack.app.fastPathCounts.answered - answeredBefore).toBe(fast);
    const requestId = response.headers["x-request-id"] as string;
    expect(response.body.errors?.[0].extensions).toMatchObject({ code: "INTERNAL_SERVER_ERROR", requestId });
    const mine = t.logs.records().filter((r) => r.requestId === requestId);
    const access = mine.filter((r) => r.msg === "request completed" || r.msg === "request errored");
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ status: 500, result: "INTERNAL_SERVER_ERROR" });
    expect(access[0].refused).toBeUndefined();
    // Its one field, __typename, resolves no result of ours: nothing the operation did to name.
    expect(access[0].resolved).toBeUndefined();
    // Exactly one error line with the request id; the cause on an error line (with the request id on the fast path,
    // Apollo's serialiser has none to give), scrubbed: the digit run in its message is masked.
    const errors = mine.filter((r) => r.level === "error" && r !== access[0]);
    expect(errors).toHaveLength(1);
    const causes = t.logs.records().filter((r) => r.level === "error" && realStringify(r).includes("serialize"));
    expect(causes).toHaveLength(1);
    expect(t.logs.raw()).not.toContain("9876543210");
    expect(await refusedSeries()).toEqual([]);
    // Counted as what it is: a failure of ours.
    expect((await failed(t)) - failedBefore).toBe(1);
  });
});

/**
 * An OTP sent whose answer could not be serialised (a 500 after the operation ran): its access line says the answer
 * failed (`result` INTERNAL_SERVER_ERROR) and what the operation did (`resolved`: AepsOtpResent), so that an operator
 * tells "the OTP was sent, the answer failed" from "nothing happened". Before, `result` alone said
 * INTERNAL_SERVER_ERROR, and only `upstream` showed the send. Both layers, Apollo's pipeline and the fast path.
 */
describe.each([
  ["the thin route", true],
  ["Fastify's route", false],
])("an OTP sent whose answer failed (%s)", (_layer, thinGraphQLRoute) => {
  const { upstream, t } = stackOnFakeUpstream({ stackOptions: { thinGraphQLRoute } });
  let restore = () => {};

  // After the stack's beforeAll; its afterAll stops the stack, then this one restores.
  beforeAll(() => {
    restore = unserialisable((value) => value.data?.resendAepsOtp !== undefined);
  });
  afterAll(() => restore());

  /** The request's one access line. */
  function accessLine(requestId: string): Record<string, unknown> {
    const lines = t.logs.accessLines(requestId);
    expect(lines).toHaveLength(1);
    return lines[0];
  }
  /** The OTP was sent, the answer failed. */
  const SENT_ANSWER_FAILED = {
    status: 500,
    operation: "ResendAepsOtp",
    result: "INTERNAL_SERVER_ERROR",
    resolved: "AepsOtpResent",
  };

  // The document's first request is Apollo's; once accepted, the same document is the fast path's.
  it.each([
    ["Apollo's pipeline", 0, "9876543001"],
    ["the fast path", 1, "9876543002"],
  ])("%s: result INTERNAL_SERVER_ERROR, resolved AepsOtpResent, its one send", async (_path, fast, mobile) => {
    t.logs.clear();
    const [callsBefore, answeredBefore] = [upstream.calls.length, t.stack.app.fastPathCounts.answered];
    const response = await t.gql(RESEND_AEPS_OTP, aepsInput(mobile, { aadhaar: nextAadhaar() }));
    expect([response.status, upstream.calls.length - callsBefore]).toEqual([500, 1]);
    expect(t.stack.app.fastPathCounts.answered - answeredBefore).toBe(fast);
    const access = accessLine(response.headers["x-request-id"] as string);
    expect(access).toMatchObject(SENT_ANSWER_FAILED);
    expect(access.upstream).toHaveLength(1);
    expect(access.refused).toBeUndefined();
  });

  // Another failure of ours once the operation has run: the fast path's operation metric throwing. The HTTP layer's
  // error handler answers it (exchange.ts errorAnswer), which replaced the summary: operation null, no `resolved`.
  it("an error thrown after the fast path ran the operation: the line keeps the operation and what it did", async () => {
    const metric = jest.spyOn(Metrics.prototype, "graphqlOperation").mockImplementationOnce(() => {
      throw new Error("a metric failed");
    });
    t.logs.clear();
    const callsBefore = upstream.calls.length;
    let response;
    let metricCalls;
    try {
      response = await t.gql(RESEND_AEPS_OTP, aepsInput("9876543003", { aadhaar: nextAadhaar() }));
      metricCalls = metric.mock.calls.length;
    } finally {
      metric.mockRestore();
    }
    expect([response.status, upstream.calls.length - callsBefore, metricCalls]).toEqual([500, 1, 1]);
    expect(accessLine(response.headers["x-request-id"] as string)).toMatchObject(SENT_ANSWER_FAILED);
  });
});

/**
 * A client that hangs up while its answer is being worked out (here: an AEPS resend held by AOPay) never gets a
 * `finish` on its response, and neither layer wrote an access line for it: an OTP sent for a request no line named.
 * Now one access line, when the answer is handed over, with its status, its upstream call and `clientGone`.
 */
describe.each([
  ["the thin route", true],
  ["Fastify's route", false],
])("a client that hangs up before its answer (%s)", (_layer, thinGraphQLRoute) => {
  const { upstream, t } = stackOnFakeUpstream({ stackOptions: { thinGraphQLRoute } });

  it("has one access line, which says clientGone, with the upstream call it made", async () => {
    const hold = holdingUpstream(upstream);
    t.logs.clear();
    const served = t.stack.app.thinGraphQLServed;
    const aborter = new AbortController();
    const sent = request(t.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: RESEND_AEPS_OTP, variables: aepsInput("9876543210", { aadhaar: nextAadhaar() }) }),
      signal: aborter.signal,
    }).catch((error: Error) => error);
    await until("the upstream call", () => hold.held.length === 1);
    aborter.abort();
    expect(await sent).toHaveProperty("name", "AbortError");
    // The server sees the connection close before AOPay answers.
    await new Promise((r) => setTimeout(r, 100));
    hold.release();
    const access = () => t.logs.records().filter((r) => r.msg === "request completed" || r.msg === "request errored");
    await until("the access line", () => access().length > 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(access()).toHaveLength(1);
    expect(access()[0]).toMatchObject({ path: "/graphql", status: 200, clientGone: true, result: "AepsOtpResent" });
    expect(access()[0].upstream).toHaveLength(1);
    expect(t.stack.app.thinGraphQLServed - served).toBe(thinGraphQLRoute ? 1 : 0);
  });

  it("a delivered answer's access line does not say clientGone", async () => {
    t.logs.clear();
    const response = await t.gql("{ __typename }");
    expect(response.status).toBe(200);
    const access = t.logs.records().filter((r) => r.msg === "request completed");
    expect(access).toHaveLength(1);
    expect(access[0].clientGone).toBeUndefined();
  });
});

/** A client that hangs up halfway through its body: the same one access line on both layers. */
describe.each([
  ["the thin route", true],
  ["Fastify's route", false],
])("a client that hangs up mid-body (%s)", (_layer, thinGraphQLRoute) => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({}, { thinGraphQLRoute });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("has one access line, clientGone", async () => {
    t.logs.clear();
    const { port } = new URL(t.baseUrl);
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    socket.write(
      "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n" +
        '{"query":"{ __typename',
    );
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    const access = () => t.logs.records().filter((r) => r.msg === "request completed" || r.msg === "request errored");
    await until("the access line", () => access().length > 0, 3_000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    expect(access().map((r) => ({ status: r.status, result: r.result, clientGone: r.clientGone }))).toEqual([
      { status: 400, result: "BAD_REQUEST", clientGone: true },
    ]);
    // No error line (the client's doing, not a failure), and counted once, by the parser's line.
    expect(t.logs.records().filter((r) => r.level === "error")).toEqual([]);
    const page = await (await request(t.stack.app.metricsUrl!)).body.text();
    expect(page).toContain('http_requests_refused_total{status="400",code="BAD_REQUEST"} 1\n');
  });
});

/**
 * A failure of ours before GraphQL runs is counted as a failure, not as a client's refusal: an authenticator whose
 * promise rejects is a 500 INTERNAL_SERVER_ERROR, an error line with the request id, an access line without `refused`,
 * and nothing in http_requests_refused_total (before, it was counted there as `refused` "unexpected error"). An identity
 * provider whose JWKS cannot be had (a 503, a body that is no key set) is neither the client's 401 (it was once: a
 * client told its good token was not) nor a 500 (it was next): a 503 AUTH_UNAVAILABLE refusal. A token the JWKS has no
 * key for is still the client's: 401, counted. Both HTTP layers.
 */
describe.each([
  ["the thin route", true],
  ["Fastify's route", false],
])("a failure before GraphQL is no refusal (%s)", (_layer, thinGraphQLRoute) => {
  let t: TestStack;
  let jwks: Server;
  /** What the identity provider's JWKS answers: status and body. */
  let jwksAnswer: [number, string] = [503, "down"];
  const realAuthenticate = Authenticator.prototype.authenticate;
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  // Well-formed enough for jose to ask the JWKS for its key (the signature is never checked against one).
  const token = `${b64({ alg: "RS256", typ: "at+jwt", kid: "k1" })}.${b64({ azp: "c", exp: 4e9 })}.c2ln`;

  beforeAll(async () => {
    jwks = createServer((_req, res) =>
      res.writeHead(jwksAnswer[0], { "content-type": "application/json" }).end(jwksAnswer[1]),
    );
    await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
    t = await startTestStack(
      {
        AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
        AUTH_JWT_ISSUER: "https://issuer.example",
        AUTH_JWT_AUDIENCE: "aopay-graphql",
      },
      { thinGraphQLRoute },
    );
    Authenticator.prototype.authenticate = function (this: Authenticator, headers) {
      if (headers["x-test-reject-auth"] !== undefined) return Promise.reject(new Error("authenticator crashed"));
      return realAuthenticate.call(this, headers);
    };
  });
  afterAll(async () => {
    Authenticator.prototype.authenticate = realAuthenticate;
    await t?.stop();
    await new Promise((r) => jwks?.close(r));
  });

  async function refusedSeries(): Promise<string[]> {
    const page = await (await request(t.stack.app.metricsUrl!)).body.text();
    return page.split("\n").filter((l) => l.startsWith("http_requests_refused_total{") && / [1-9]/.test(l));
  }

  async function seen(headers: Record<string, string>) {
    t.logs.clear();
    const failedBefore = await failed(t);
    const response = await t.gql("{ __typename }", undefined, { authorization: `Bearer ${token}`, ...headers });
    const requestId = response.headers["x-request-id"] as string;
    const mine = t.logs.records().filter((r) => r.requestId === requestId);
    const access = mine.filter((r) => r.msg === "request completed" || r.msg === "request errored");
    return {
      status: response.status,
      code: response.body.errors?.[0].extensions?.code,
      retryAfter: response.headers["retry-after"],
      access: access.map((r) => ({ status: r.status, result: r.result, refused: r.refused })),
      errorLines: mine.filter((r) => r.level === "error" && !access.includes(r)).length,
      refusedSeries: await refusedSeries(),
      failed: (await failed(t)) - failedBefore,
    };
  }

  it("an authenticator that rejects: 500, an error line, not counted as refused", async () => {
    jwksAnswer = [503, "down"];
    expect(await seen({ "x-test-reject-auth": "1" })).toEqual({
      status: 500,
      code: "INTERNAL_SERVER_ERROR",
      retryAfter: undefined,
      access: [{ status: 500, result: "INTERNAL_SERVER_ERROR", refused: undefined }],
      errorLines: 1,
      refusedSeries: [],
      failed: 1,
    });
  });

  // Nothing ran (authentication comes before the body is read), and it is a dependency's outage, not a bug of ours:
  // a 503 AUTH_UNAVAILABLE refusal, counted as such, no error line. Before: a 500 with an error line, which told the
  // client its mutation's OTP may have been sent (docs/api.md) and paged the operator (RequestsFailed).
  it.each([
    ["a JWKS that answers 503", [503, "down"], "ERR_JOSE_GENERIC"],
    ["a JWKS that is no key set", [200, '{"nope":1}'], "ERR_JWKS_INVALID"],
  ] as const)("%s: 503 AUTH_UNAVAILABLE, counted as refused, no error line", async (_name, answer, joseCode) => {
    jwksAnswer = [...answer];
    const refused = `identity provider's key set unavailable (${joseCode})`;
    const before = (await refusedSeries()).find((l) => l.includes("AUTH_UNAVAILABLE"));
    const n = before === undefined ? 0 : Number(before.split(" ").pop());
    expect(await seen({})).toEqual({
      status: 503,
      code: "AUTH_UNAVAILABLE",
      retryAfter: "5",
      access: [{ status: 503, result: "AUTH_UNAVAILABLE", refused }],
      errorLines: 0,
      refusedSeries: [`http_requests_refused_total{status="503",code="AUTH_UNAVAILABLE"} ${n + 1}`],
      failed: 0,
    });
  });

  it("a token the JWKS has no key for is the client's: 401, counted as refused", async () => {
    jwksAnswer = [200, '{"keys":[]}'];
    const seenNow = await seen({});
    // The AUTH_UNAVAILABLE refusals of the cases above are on the page too.
    seenNow.refusedSeries = seenNow.refusedSeries.filter((l) => !l.includes("AUTH_UNAVAILABLE"));
    expect(seenNow).toEqual({
      status: 401,
      code: "UNAUTHENTICATED",
      retryAfter: undefined,
      access: [{ status: 401, result: "UNAUTHENTICATED", refused: "invalid token (ERR_JWKS_NO_MATCHING_KEY)" }],
      errorLines: 0,
      refusedSeries: ['http_requests_refused_total{status="401",code="UNAUTHENTICATED"} 1'],
      failed: 0,
    });
  });
});
