import { randomBytes } from "node:crypto";
import { request } from "undici";
import { type FakeUpstream, json, startFakeUpstream, upstreamEnv } from "../helpers/fake-upstream";
import { fixtureJson } from "../helpers/fixtures";
import { nextAepsRegistration, nextAadhaar, registrationInput } from "../helpers/identifiers";
import {
  cibilInput,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  resultOf,
} from "../helpers/operations";
import { connectRedis, deletePrefixes, describeUnless, dumpKeys, storeBackends } from "../helpers/redis";
import { CYRILLIC, read } from "../helpers/scrub-entry-points";
import { DEFAULT_THROTTLE, stackOnFakeUpstream, startTestStack, type TestStack } from "../helpers/stack";
import { CLIENT, type Receiver, SERVER, startReceiver, forgetTelemetry } from "../helpers/otlp-receiver";

/**
 * The ways text leaves the process, each fed the spellings the scrubber reads (test/unit/pii/written-as-people-write,
 * pan-spelled-apart, confusable-spellings, enclosed-letters list them): a mobile written `+91 (98765) 43210`, an
 * Aadhaar number with dots, a PAN in Cyrillic look-alike letters. Through a real server: the spans exported over
 * OTLP/HTTP to a receiver on loopback, the bodies, headers and log lines of the refusals written before GraphQL runs,
 * and every key and value a server wrote under its own prefix of the real Redis (the budgets checked in memory too).
 * What a person reads of each (test/helpers/scrub-entry-points.ts read: look-alikes as Latin letters, digits of any
 * script, marks dropped) must hold none of the three.
 */
const MOBILE = "9876543210";
const AADHAAR = "234123412346";
const PAN = "ABCPE1234F";
const cyrillic = (text: string) => [...text].map((c) => CYRILLIC[c] ?? c).join("");
const SPELLINGS = {
  mobile: ["+91 (98765) 43210", "+91-98765-43210", "(+91) 98765 43210", "98765.43210"],
  aadhaar: ["2341.2341.2346", "2341 2341 2346", "2341-2341-2346"],
  pan: [cyrillic(PAN), "ABCPE 1234 F", "abcpe.1234.f"],
};
const ALL = Object.values(SPELLINGS).flat();
const READ = [MOBILE, AADHAAR, PAN.toLowerCase()];

/** Which of the three identifiers a person reads in `text` (JSON escapes decoded first). */
function found(text: string): string[] {
  const plain = read(text.replace(/\\u([0-9A-Fa-f]{4})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))));
  return READ.filter((v) => plain.includes(v));
}

it("reads each spelling as the identifier it spells (the checks below can fail)", () => {
  expect(SPELLINGS.mobile.map(found)).toEqual(SPELLINGS.mobile.map(() => [MOBILE]));
  expect(SPELLINGS.aadhaar.map(found)).toEqual(SPELLINGS.aadhaar.map(() => [AADHAAR]));
  expect(SPELLINGS.pan.map(found)).toEqual(SPELLINGS.pan.map(() => [PAN.toLowerCase()]));
  expect(found(JSON.stringify({ m: "\u0039876543210" }))).toEqual([MOBILE]);
});

describe("spans exported over OTLP/HTTP: no attribute, event, name or status holds an identifier in any spelling", () => {
  // As test/e2e/operation-span.test.ts: the SDK reads the OTEL_* variables from process.env, the server's config from
  // the stack's env; one SDK per file, its globals disabled after.
  const OTEL_ENV = (url: string) => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: url,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
  });
  const saved = { ...process.env };
  let receiver: Receiver;
  let upstream: FakeUpstream;
  let t: TestStack | undefined;
  let id = 0;
  /** Per case: the trace id its requests were sent in. */
  const traces = new Map<string, string>();
  const traced = (what: string) => {
    const traceId = randomBytes(16).toString("hex").replace(/[0-9]/g, "a");
    traces.set(what, traceId);
    return { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` };
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    upstream = await startFakeUpstream();
    Object.assign(process.env, OTEL_ENV(receiver.url));
    t = await startTestStack({ ...OTEL_ENV(receiver.url), ...upstreamEnv(upstream) });
    for (const spelling of ALL) {
      // A client's: an operation named with it, its variables' values and names carrying it, headers too.
      const name = `Op_${spelling.replace(/[^A-Za-z0-9_]/g, "_")}`;
      const refused = await t.gql(
        `mutation ${name}($input: ResendAepsOtpInput!) { resendAepsOtp(input: $input) { __typename } }`,
        { input: { ...nextAepsRegistration(), mobile: spelling, aadhaar: spelling } },
        { ...traced(`client ${spelling}`), "user-agent": encodeURIComponent(spelling) },
      );
      expect([refused.text, refused.body.errors?.[0]?.extensions?.code]).toEqual([refused.text, "BAD_USER_INPUT"]);
      // AOPay's: a success whose reference carries it, a rejection whose code and message do, a 502 whose body does.
      const answers = traced(`upstream ${spelling}`);
      upstream.respond(
        json(200, {
          ...fixtureJson("cibil/generate-otp.success"),
          // Glued to letters where the scrubber reads the number so (a PAN spelled apart and glued after letters,
          // `MTABCPE 1234 F`, is read by no rule of pii/scrub.ts, the log line's included: left to its rules' owner).
          merchant_trans_id: SPELLINGS.pan.slice(1).includes(spelling) ? `MT ${spelling}` : `MT${spelling}`,
        }),
      );
      await t.gql(GENERATE_CIBIL_OTP, cibilInput(String(180000000 + ++id)), answers);
      upstream.respond(json(200, { code: `E${spelling}`, description: `declined ${spelling}`, status: "False" }));
      await t.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput() }, answers);
      upstream.respond(json(502, { message: `upstream down for ${spelling}` }));
      await t.gql(GENERATE_CIBIL_OTP, cibilInput(String(180000000 + ++id)), answers);
    }
    // The SDK's shutdown exports what is buffered.
    await t.stop();
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await upstream?.close();
    await receiver?.close();
    forgetTelemetry(saved, Object.keys(OTEL_ENV("")));
  });

  const spansOf = (what: string) => receiver.spans().filter((x) => x.traceId === traces.get(what));

  it.each(ALL)("a client's request carrying %j: its spans hold none", (spelling) => {
    const spans = spansOf(`client ${spelling}`);
    expect(spans.filter((x) => x.kind === SERVER)).toHaveLength(1);
    expect(found(JSON.stringify(spans))).toEqual([]);
  });

  it.each(ALL)("AOPay's answers carrying %j: the operations' and the calls' spans hold none", (spelling) => {
    const spans = spansOf(`upstream ${spelling}`);
    expect(spans.filter((x) => x.kind === SERVER)).toHaveLength(3);
    expect(spans.filter((x) => x.kind === CLIENT)).toHaveLength(3);
    expect(found(JSON.stringify(spans))).toEqual([]);
  });

  it("nothing the receiver was sent holds any (resources, scopes, every span)", () => {
    expect(receiver.exports.length).toBeGreaterThan(0);
    expect(found(receiver.exports.map((e) => e.text).join("\n"))).toEqual([]);
  });
});

describe("refusals written before GraphQL runs: body, headers and log lines", () => {
  const s = stackOnFakeUpstream({ env: { LOG_LEVEL: "debug" } });
  const send = async (path: string, init: Parameters<typeof request>[1]) => {
    const before = s.t.logs.text().length;
    const res = await request(`${s.t.baseUrl}${path}`, init);
    const body = await res.body.text();
    return { status: res.statusCode, out: `${JSON.stringify(res.headers)}\n${body}\n${s.t.logs.text().slice(before)}` };
  };
  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    send("/graphql", { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

  it.each(ALL)("%j: malformed JSON, too large, bad content-type, GET operations, the query string", async (x) => {
    const q = encodeURIComponent(x);
    const answers = [
      await post(`{"query":"mutation { a }","variables":{"mobile":"${x}"`),
      await post(`{"query": "${x}"}`),
      await post(`${JSON.stringify({ query: `{ __typename }`, variables: { m: x } })}${x}`),
      await post(Buffer.from(`{"query":"{ __typename }","pad":"${x.repeat(200_000)}"}`)),
      await post(`{"query":"{ __typename }"}`, { "content-type": `text/plain; name="${q}"` }),
      await post(`{"query":"{ __typename }"}`, { "content-type": `application/json; charset=${q}` }),
      await post(`{"query":"{ __typename }"}`, { "content-encoding": q }),
      await send(
        `/graphql?query=${encodeURIComponent(`query ${q.replace(/%/g, "_")} { __typename }`)}&operationName=${q}`,
        {
          headers: { "apollo-require-preflight": "1" },
        },
      ),
      await send(`/graphql?query=%7B__typename%7D&variables=${encodeURIComponent(`{"m":"${x}"`)}`, {
        headers: { "apollo-require-preflight": "1" },
      }),
      await send(`/graphql?extensions=${q}&mobile=${q}`, { headers: { "apollo-require-preflight": "1" } }),
      // An operation the document does not hold (Apollo's `Unknown operation named "…"` quotes the name it was sent).
      await send(`/graphql?query=%7B__typename%7D&operationName=${q}`, {
        headers: { "apollo-require-preflight": "1" },
      }),
      await post(JSON.stringify({ query: "{ __typename }", operationName: x })),
      await post(JSON.stringify({ query: "query A { __typename } query B { __typename }", operationName: x })),
      // A mutation over GET, named with it.
      await send(`/graphql?query=${encodeURIComponent("mutation { __typename }")}&operationName=${q}`, {
        headers: { "apollo-require-preflight": "1" },
      }),
      await send(`/graphql/${q}?m=${q}`, {}),
      await send(`/${q}`, { method: "DELETE", headers: { origin: `https://${q}.example` } }),
    ];
    for (const a of answers) expect({ status: a.status, found: found(a.out) }).toEqual({ status: a.status, found: [] });
    expect(answers.every((a) => a.status >= 400)).toBe(true);
  });
});

for (const [store, skip, storeEnv] of storeBackends("exits-in-spellings-hmac-secret-0123456789")) {
  describeUnless(skip, `the stores ${store}: the new spellings as inputs, one budget, no identifier at rest`, () => {
    const env = storeEnv();
    let t: TestStack;
    beforeAll(async () => {
      t = await startTestStack({ ...env, ...DEFAULT_THROTTLE });
    });
    afterAll(async () => {
      await t?.stop();
      if (env.REDIS_KEY_PREFIX) await deletePrefixes([env.REDIS_KEY_PREFIX]);
    });

    it("spellings as inputs, Idempotency-Keys carrying them too: one send, nothing readable under the prefix", async () => {
      const sent = () => t.simulator!.calls();
      const aadhaar = nextAadhaar();
      // The accepted spelling first, then the others of one mobile: one send, the rest refused before any budget.
      // An Idempotency-Key is visible ASCII (guarded-send.ts IDEMPOTENCY_KEY): spaces as `_`, look-alikes as read.
      const key = (x: string) => ({ "idempotency-key": /^[\x20-\x7e]+$/.test(x) ? x.replace(/ /g, "_") : read(x) });
      const resend = (mobile: string, a: string, k: string) =>
        t.gql(RESEND_AEPS_OTP, { input: { ...nextAepsRegistration(), mobile, aadhaar: a } }, key(k));
      expect(resultOf((await resend(MOBILE, aadhaar, `first ${MOBILE}`)).body, "resendAepsOtp").__typename).toBe(
        "AepsOtpResent",
      );
      const before = sent();
      for (const m of SPELLINGS.mobile) {
        const res = await resend(m, aadhaar, `again ${m}`);
        expect(res.body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      }
      // The Aadhaar's other spellings: the spaced one is accepted (one number, canonical digits), and meets the
      // cooldown of the mobile just sent to; the others are refused. No send either way.
      for (const a of SPELLINGS.aadhaar) {
        const res = await resend(MOBILE, a, `again ${a}`);
        if (a === "2341 2341 2346")
          expect(resultOf(res.body, "resendAepsOtp")).toMatchObject({
            __typename: "OtpThrottled",
            code: "OTP_COOLDOWN",
          });
        else expect(res.body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      }
      for (const pan of SPELLINGS.pan) {
        const res = await t.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput({ pan }) }, key(`r ${pan}`));
        expect(res.body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      }
      expect(sent()).toBe(before);
      // A registration under the PAN as written, for its keys (regpan) and the registered mobile's.
      const registered = await t.gql(
        REGISTER_CIBIL_CUSTOMER,
        { input: registrationInput({ pan: PAN }) },
        key(`r ${PAN}`),
      );
      expect(resultOf(registered.body, "registerCibilCustomer").__typename).toBe("CibilCustomerRegistered");
      if (!env.REDIS_KEY_PREFIX) return;
      const redis = await connectRedis();
      try {
        const entries = await dumpKeys(redis, env.REDIS_KEY_PREFIX);
        expect(entries.length).toBeGreaterThan(0);
        for (const e of entries)
          expect({ key: e.key, found: found(`${e.key}\n${e.value}`) }).toEqual({ key: e.key, found: [] });
      } finally {
        await redis.quit();
      }
    });
  });
}

describe("development mode: GraphQL's own errors, the probes, the explorer, headers and the metrics page", () => {
  // NODE_ENV=development, where Apollo's messages are the most detailed (stack traces stay off there too:
  // graphql/apollo-options.ts). Headers carry each spelling as a client's bytes (UTF-8, as Node hands them over).
  const s = stackOnFakeUpstream({ env: { LOG_LEVEL: "debug", NODE_ENV: "development" } });
  const send = async (url: string, init: Parameters<typeof request>[1] = {}) => {
    const before = s.t.logs.text().length;
    const res = await request(url, init);
    const body = await res.body.text();
    return { status: res.statusCode, out: `${JSON.stringify(res.headers)}\n${body}\n${s.t.logs.text().slice(before)}` };
  };
  const gql = (body: unknown, headers: Record<string, string> = {}) =>
    send(`${s.t.baseUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const RESEND = "mutation R($input: ResendAepsOtpInput!) { resendAepsOtp(input: $input) { __typename } }";

  it.each(ALL)("%j: in headers, GraphQL's errors, AOPay's codes; no answer or line holds it", async (x) => {
    const bytes = Buffer.from(x, "utf8").toString("latin1");
    const q = encodeURIComponent(x);
    const j = JSON.stringify(x);
    const name = x.replace(/[^A-Za-z0-9_]/g, "_");
    const headers = {
      "x-request-id": bytes,
      traceparent: `00-${bytes}-01`,
      baggage: `m=${q},n=${bytes}`,
      tracestate: `a=${bytes}`,
      "user-agent": bytes,
      referer: `https://app.example/${bytes}`,
      "x-forwarded-for": bytes,
      forwarded: `for="${bytes}"`,
    };
    const answers = [
      await gql({ query: "{ __typename }" }, headers),
      ...(await Promise.all(
        ["/healthz", "/readyz", "/graphiql", `/graphiql/${q}`, `/${q}`].map((p) =>
          send(`${s.t.baseUrl}${p}?m=${q}`, { headers }),
        ),
      )),
      // Variables: of the wrong type, a field named with it, the input itself.
      await gql({ query: RESEND, variables: { input: { aadhaar: 5, mobile: x, encodeTxnId: x, userKey: x } } }),
      await gql({ query: RESEND, variables: { input: { [x]: x, aadhaar: x } } }),
      await gql({ query: RESEND, variables: { input: x } }),
      // The document: literals, names and tokens carrying it.
      await gql({
        query: `mutation { resendAepsOtp(input: { aadhaar: ${j}, mobile: ${j}, n: ${j} }) { __typename } }`,
      }),
      await gql({ query: `{ f_${name} }` }),
      await gql({ query: `{ __typename @skip(if: ${j}) }` }),
      await gql({ query: `{ __typename } ${x}` }),
      await gql({ query: `query Q($v: T_${name}) { __typename }` }),
      await gql({ query: `query Q($v: Int) { __typename }`, variables: { v: x } }),
      await gql({ query: "{ __typename }", variables: { [x]: x }, extensions: { persistedQuery: { sha256Hash: x } } }),
    ];
    // AOPay's codes and messages glued after a word and a mark, and a 429's Retry-After carrying it.
    for (const glue of ["ref-", "txn_", "E/"]) {
      s.upstream.respond(json(200, { code: `${glue}${x}`, description: `${glue}${x}`, status: "False" }));
      answers.push(await gql({ query: REGISTER_CIBIL_CUSTOMER, variables: { input: registrationInput() } }));
    }
    s.upstream.respond(json(429, { message: x }, { "retry-after": bytes }));
    answers.push(await gql({ query: REGISTER_CIBIL_CUSTOMER, variables: { input: registrationInput() } }));
    for (const a of answers) expect({ status: a.status, found: found(a.out) }).toEqual({ status: a.status, found: [] });
    // The refusals are refusals, and AOPay's rejections reached their answers (the checks above read real text).
    expect(answers.slice(6, 16).every((a) => a.status === 400)).toBe(true);
    expect(answers.slice(16, 19).every((a) => a.out.includes('"__typename":"UpstreamRejected"'))).toBe(true);
  });

  it("the metrics page after them, asked with each spelling as a bearer token: no label value holds one", async () => {
    const url = s.t.stack.app.metricsUrl as string;
    for (const x of ALL) {
      const a = await send(`${url}?m=${encodeURIComponent(x)}`, {
        headers: { authorization: `Bearer ${Buffer.from(x, "utf8").toString("latin1")}` },
      });
      expect({ status: a.status, found: found(a.out) }).toEqual({ status: 200, found: [] });
    }
    const page = await send(url);
    expect(page.out).toMatch(/aopay_upstream_requests_total\{[^}]*outcome="UPSTREAM_REJECTED"[^}]*\} [1-9]/);
    expect(found(page.out)).toEqual([]);
  });
});
