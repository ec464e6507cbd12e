import { request } from "undici";
import type { FastPathCounts } from "../../src/graphql/fast-path";
import { TRUSTED_DOCUMENTS } from "../../src/generated/trusted-documents";
import { FAST_ACCEPT } from "../../src/http/graphql-route";
import {
  aepsInput,
  cibilInput,
  clientOperation,
  GENERATE_CIBIL_OTP,
  RESEND_AEPS_OTP,
  withoutRequestIds,
} from "../helpers/operations";
import { startProductionStack, startTestStack, TEST_API_KEY, type TestStack } from "../helpers/stack";

/**
 * The fast path (src/graphql/fast-path.ts) answers a document Apollo Server has accepted before without Apollo's
 * pipeline. Each case here sends the same request twice: first with a document no request has sent yet (Apollo
 * answers: the cache is cold), then again (the fast path answers), and expects the same status, headers and body
 * (request ids aside), and that the counters say which path answered. A document is made "new" by trailing spaces,
 * which graphql-js ignores.
 */
const SERVICE_INFO = clientOperation("ServiceInfo");
const idOf = (name: string) => TRUSTED_DOCUMENTS.operations.find((o) => o.name === name)!.id;
let variant = 0;
const fresh = (document: string) => document + " ".repeat(++variant);

interface Seen {
  status: number;
  headers: Record<string, unknown>;
  body: string;
  /** Every line the request logged, less what differs by nature: times and ids. */
  logged: unknown[];
  /** The operations it counted in graphql_operation_duration_seconds, by labels. */
  observed: string[];
}

/**
 * Log fields that differ by nature between two requests: times, durations (`ms`, `upstreamMs`, `durationMs`), the
 * request id, and a logged error's stack (its frames are those of the path that called the resolver).
 */
function timelessReplacer(key: string, value: unknown): unknown {
  if (key === "time" || key === "requestId" || key === "stack") return undefined;
  if (/^ms$|Ms$/.test(key)) return "<ms>";
  return value;
}

/** Headers that differ between any two responses. */
const VARYING = new Set(["date", "x-request-id", "keep-alive"]);

const modes = [
  ["development", () => startTestStack(), {}],
  ["production", () => startProductionStack(), { "x-api-key": TEST_API_KEY }],
] as const;

describe.each(modes)("GraphQL fast path (%s): the same answers as Apollo Server", (_mode, start, auth) => {
  let t: TestStack;
  let counts: FastPathCounts;
  beforeAll(async () => {
    t = await start();
    counts = t.stack.app.fastPathCounts;
  });
  afterAll(() => t?.stop());

  const operationCounts = async () =>
    new Map(
      (await t.stack.app.metrics!.registry.getSingleMetricAsString("graphql_operation_duration_seconds"))
        .split("\n")
        .filter((line) => line.startsWith("graphql_operation_duration_seconds_count"))
        .map((line) => [line.slice(0, line.lastIndexOf(" ")), Number(line.slice(line.lastIndexOf(" ") + 1))]),
    );

  const exchange = async (body: unknown, headers: Record<string, string> = {}): Promise<Seen> => {
    const before = await operationCounts();
    const res = await request(t.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth, ...headers },
      body: JSON.stringify(body),
    });
    const id = String(res.headers["x-request-id"]);
    // Request ids are made so that the log scrubber leaves them as they are (src/http/request-id.ts).
    const ours = (r: Record<string, unknown>) => r.requestId === id;
    const text = await res.body.text();
    const kept = Object.entries(res.headers).filter(([name]) => !VARYING.has(name));
    // Seconds to wait are read off a clock: two requests a few milliseconds apart may round differently.
    const normal = withoutRequestIds(text).replace(/"retryAfterSeconds":\d+/g, '"retryAfterSeconds":"<s>"');
    // The access line is written when the response has finished, which may be just after the client read it.
    for (let i = 0; i < 100 && !t.logs.records().some((r) => ours(r) && r.msg === "request completed"); i++)
      await new Promise((r) => setTimeout(r, 10));
    const logged = t.logs
      .records()
      .filter(ours)
      .map((r) => JSON.parse(JSON.stringify(r, timelessReplacer)) as unknown);
    const observed = [...(await operationCounts())].flatMap(([labels, n]) =>
      Array<string>(n - (before.get(labels) ?? 0)).fill(labels),
    );
    return { status: res.statusCode, headers: Object.fromEntries(kept), body: normal, logged, observed };
  };

  /** Sends `body` twice: Apollo answers the first, the fast path the second; both answers must be the same. */
  const twice = async (body: unknown, headers: Record<string, string> = {}): Promise<Seen> => {
    const { answered, handedBack } = counts;
    const viaApollo = await exchange(body, headers);
    expect(counts).toEqual({ answered, handedBack });
    const viaFastPath = await exchange(body, headers);
    expect(counts).toEqual({ answered: answered + 1, handedBack });
    expect(viaFastPath).toEqual(viaApollo);
    return viaFastPath;
  };

  it("is on when traces are not exported", () => {
    expect(counts).toBeDefined();
  });

  it("a success", async () => {
    const seen = await twice({ query: fresh(RESEND_AEPS_OTP), variables: aepsInput("9876543210") });
    expect(seen.status).toBe(200);
    expect(seen.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(seen.body).toContain('"__typename":"AepsOtpResent"');
  });

  it("an upstream failure (a union member)", async () => {
    const seen = await twice({ query: fresh(RESEND_AEPS_OTP), variables: aepsInput("9876543207") });
    expect(seen.body).toContain('"__typename":"UpstreamRejected"');
  });

  it("an argument refused by input validation, with its operation name", async () => {
    const seen = await twice({
      query: fresh(RESEND_AEPS_OTP),
      operationName: "ResendAepsOtp",
      variables: aepsInput("9876543210", { aadhaar: "234123412345" }),
    });
    expect(seen.body).toContain('"code":"BAD_USER_INPUT"');
    expect(seen.body).not.toContain("234123412345");
  });

  it("an idempotency replay, with its Idempotent-Replayed header", async () => {
    const key = `fast-path-${variant}-${Date.now()}`;
    await exchange({ query: RESEND_AEPS_OTP, variables: aepsInput("9876543210") }, { "idempotency-key": key });
    const seen = await twice(
      { query: fresh(RESEND_AEPS_OTP), variables: aepsInput("9876543210") },
      { "idempotency-key": key },
    );
    expect(seen.headers["idempotent-replayed"]).toBe("true");
  });

  it("an Idempotency-Key reused with other input: 422", async () => {
    const key = `fast-path-reused-${variant}-${Date.now()}`;
    await exchange({ query: RESEND_AEPS_OTP, variables: aepsInput("9876543210") }, { "idempotency-key": key });
    const seen = await twice(
      { query: fresh(RESEND_AEPS_OTP), variables: aepsInput("9876543211") },
      { "idempotency-key": key },
    );
    expect(seen.status).toBe(422);
    expect(seen.body).toContain('"code":"IDEMPOTENCY_KEY_REUSED"');
  });

  it("a resolver crash: masked the same way, and logged the same way", async () => {
    const original = t.stack.app.aopay.cibil.generateOtp;
    t.stack.app.aopay.cibil.generateOtp = async () => {
      throw new Error("boom at 10.1.2.3:443");
    };
    try {
      const body = { query: fresh(GENERATE_CIBIL_OTP), variables: cibilInput() };
      const seen = await twice(body);
      expect(seen.body).toContain('"message":"Unexpected error."');
      expect(seen.body).not.toMatch(/boom|10\.1\.2\.3/);
      const line = seen.logged.find((r) => (r as { msg?: string }).msg === "unexpected error (masked for the client)");
      expect(line).toMatchObject({ operation: "GenerateCibilOtp", err: { message: "boom at 10.1.2.3:443" } });
    } finally {
      t.stack.app.aopay.cibil.generateOtp = original;
    }
  });

  it("variables that do not coerce: handed back to Apollo, which answers as always", async () => {
    const body = { query: fresh(RESEND_AEPS_OTP), variables: { input: { mobile: 9876543210 } } };
    const { answered, handedBack } = counts;
    const first = await exchange(body);
    expect(counts).toEqual({ answered, handedBack });
    const second = await exchange(body);
    expect(counts).toEqual({ answered, handedBack: handedBack + 1 });
    expect(second).toEqual(first);
    expect(first.status).toBe(400);
    expect(first.body).not.toContain("9876543210");
  });

  it("a persisted query sent by its trusted id", async () => {
    const seen = await twice({
      operationName: "ResendAepsOtp",
      variables: aepsInput("9876543210"),
      extensions: { persistedQuery: { version: 1, sha256Hash: idOf("ResendAepsOtp") } },
    });
    expect(seen.body).toContain('"__typename":"AepsOtpResent"');
  });

  it.each([...FAST_ACCEPT.keys()])("Accept %p: the content type Apollo negotiates", async (accept) => {
    const seen = await twice({ query: fresh(SERVICE_INFO) }, accept === undefined ? {} : { accept });
    expect(seen.headers["content-type"]).toBe(FAST_ACCEPT.get(accept));
  });

  it.each([
    ["fails validation", { query: "query Nope { nope }" }],
    [
      "sends a guarded mutation twice",
      {
        query: `mutation Twice($input: ResendAepsOtpInput!) { a: resendAepsOtp(input: $input) { __typename } b: resendAepsOtp(input: $input) { __typename } }`,
        variables: aepsInput(),
      },
    ],
    ["names an operation it does not have", { query: RESEND_AEPS_OTP, operationName: "Nope", variables: aepsInput() }],
    ["does not parse", { query: "mutation {" }],
    [
      "sends an unknown persisted query id",
      { extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } },
    ],
  ])("a document that %s is never kept: Apollo answers it every time", async (_what, body) => {
    const { answered, handedBack } = counts;
    const first = await exchange(body);
    const second = await exchange(body);
    expect(counts).toEqual({ answered, handedBack });
    expect(second).toEqual(first);
    expect(first.body).toContain('"errors"');
  });

  it("a mutation refused over GET is not kept either: its first POST goes to Apollo", async () => {
    const query = fresh(RESEND_AEPS_OTP);
    const url = `${t.graphqlUrl}?query=${encodeURIComponent(query)}`;
    const res = await request(url, { headers: { ...auth, "apollo-require-preflight": "true" } });
    await res.body.text();
    expect(res.statusCode).toBe(405);
    await twice({ query, variables: aepsInput("9876543210") });
  });

  it.each([
    ["a GET", null],
    ["an unusual Accept", { accept: "application/json;q=0.5, text/plain" }],
    ["a content type other than JSON's usual spellings", { "content-type": "application/JSON" }],
    ["an extra key in the body", { extra: true }],
  ])("%s goes to Apollo", async (_what, variation) => {
    const query = SERVICE_INFO;
    await exchange({ query }); // the document is accepted
    const { answered } = counts;
    if (variation === null) {
      const res = await request(`${t.graphqlUrl}?query=${encodeURIComponent(query)}`, {
        headers: { ...auth, "apollo-require-preflight": "true" },
      });
      expect(res.statusCode).toBe(200);
      await res.body.text();
    } else if ("extra" in variation) {
      expect((await exchange({ query, extra: true })).status).toBe(200);
    } else {
      await exchange({ query }, variation as Record<string, string>);
    }
    expect(counts.answered).toBe(answered);
  });
});

describe("GraphQL fast path with throttling on", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ OTP_COOLDOWN_SECONDS: "60" });
  });
  afterAll(() => t?.stop());

  it("a throttled send: the same OtpThrottled answer", async () => {
    const counts = t.stack.app.fastPathCounts;
    const variables = aepsInput("9876543210");
    expect((await t.gql(RESEND_AEPS_OTP, variables)).text).toContain('"__typename":"AepsOtpResent"');
    const query = fresh(RESEND_AEPS_OTP);
    const first = await t.gql(query, variables);
    const { answered } = counts;
    const second = await t.gql(query, variables);
    expect(counts.answered).toBe(answered + 1);
    const normal = (text: string) => withoutRequestIds(text).replace(/"retryAfterSeconds":\d+/g, "<s>");
    expect(normal(second.text)).toBe(normal(first.text));
    expect(second.status).toBe(first.status);
    expect(second.headers["content-type"]).toBe(first.headers["content-type"]);
    expect(first.text).toContain('"__typename":"OtpThrottled"');
  });
});
