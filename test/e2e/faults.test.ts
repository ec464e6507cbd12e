import { SIMULATOR_COMPANY_CODE, SIMULATOR_REGISTRATION_ID } from "../../src/config";
import { createServer, type Server } from "node:net";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import {
  blackHole,
  delayed,
  type FakeHandler,
  json,
  raw,
  resetAfterRequest,
  upstreamEnv,
} from "../helpers/fake-upstream";
import { freePort } from "../helpers/free-port";
import { fixtureJson } from "../helpers/fixtures";
import { registrationInput } from "../helpers/identifiers";
import {
  aepsInput,
  cibilInput,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  SUBMIT_CIBIL_OTP,
  VERIFY_AEPS_OTP,
  resultOf,
  withoutRequestIds,
} from "../helpers/operations";
import { stackOnFakeUpstream, startTestStack } from "../helpers/stack";

const DEADLINE_MS = 500;
/**
 * Time allowed past a deadline for the request around it, on a loaded machine (other Jest workers on two cores): 1.5 s
 * (it was 0.5 s). Still far below what the bound must fail: a call the AOPay deadline did not cut runs to the request
 * deadline (REQUEST_DEADLINE_MS, 10 s by default).
 */
const SLACK_MS = 1500;

/** Headers and the start of a JSON body, then nothing more. */
const slowBody: FakeHandler = (_call, res) => {
  res.writeHead(200, { "content-type": "application/json", "content-length": "5000" });
  res.write('{"status":"SUCCESS","result":{');
};

/**
 * A status and the start of a body, then the connection is cut (`stall`: nothing more is sent, the deadline ends it).
 * Upstream audit: a 302 or a 401 cut off like this read as an unreachable AOPay (retryable, counted by the breaker).
 */
function cutOff(status: number, headers: Record<string, string> = {}, stall = false): FakeHandler {
  return (_call, res) => {
    res.writeHead(status, { "content-type": "application/json", "content-length": "5000", ...headers });
    res.write('{"status":false,"message":"');
    if (!stall) setTimeout(() => res.socket?.destroy(), 20);
  };
}

/** An 8 MiB body, streamed (the server's limit is 1 MiB). */
const hugeBody: FakeHandler = (_call, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  const pump = () => {
    while (sent < 128 && !res.destroyed) {
      sent += 1;
      if (!res.write(chunk)) return void res.once("drain", pump);
    }
    if (!res.destroyed) res.end();
  };
  pump();
};

/**
 * The fault matrix (issue "Resilience and operations"): for each fault, the typed result, the time to answer (within
 * the deadline plus SLACK_MS) and the exact number of upstream calls (never more than one send).
 */
describe("upstream faults end as typed results, with exactly one upstream call and within the deadline", () => {
  const { upstream, t } = stackOnFakeUpstream({ env: { AOPAY_DEADLINE_MS: String(DEADLINE_MS) }, callsPerTest: true });

  beforeAll(async () => {
    // One answered request per mutation before the timed cases: a fresh server's first request of a document pays for
    // loading and compiling its path (Apollo accepting the document, lazy modules), which took the first case to
    // 1,129-1,155 ms against its 1,000 ms bound on a busy machine. The bound is about the deadline, not the warm-up.
    upstream.respond(json(200, fixtureJson("cibil/generate-otp.success")));
    expect(resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput())).body, "generateCibilOtp")).toMatchObject({
      __typename: "CibilOtpChallenge",
    });
    upstream.respond(json(200, fixtureJson("aeps/resend-otp.success")));
    expect(resultOf((await t.gql(RESEND_AEPS_OTP, aepsInput())).body, "resendAepsOtp")).toMatchObject({
      __typename: "AepsOtpResent",
    });
  });

  const cases: Array<[string, FakeHandler, Record<string, unknown>]> = [
    [
      "latency beyond the deadline (answers after 2x)",
      delayed(2 * DEADLINE_MS, json(200, fixtureJson("cibil/generate-otp.success"))),
      { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" },
    ],
    ["black hole (never answers)", blackHole, { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" }],
    [
      "connection reset after the request",
      resetAfterRequest,
      { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" },
    ],
    // A 5xx that does not say the request was not carried out (outcome.ts NOT_HANDLED_5XX): a gateway's 502 or 504
    // passed it on, a 500 may come after the SMS left. Retryable, they told the app to send again: a second SMS.
    [
      "502 HTML page from a gateway",
      raw(502, "text/html", "<html><body>Bad Gateway from 10.0.0.7</body></html>"),
      { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN", retryable: false },
    ],
    [
      "504 from a gateway",
      raw(504, "text/html", "<html><body>Gateway Timeout</body></html>"),
      { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN", retryable: false },
    ],
    [
      "500 with a failure envelope",
      json(500, { status: false, response_code: 0, message: "Internal error" }),
      { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN", retryable: false },
    ],
    ["502 whose body is cut off", cutOff(502), { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" }],
    // The 5xx statuses that say the request was not carried out stay retryable.
    [
      "501 not implemented",
      raw(501, "text/plain", "not implemented"),
      { __typename: "UpstreamUnavailable", code: "UPSTREAM_UNAVAILABLE", retryable: true },
    ],
    [
      "429 too many requests",
      raw(429, "text/plain", "slow down", { "retry-after": "3" }),
      { __typename: "UpstreamUnavailable", code: "UPSTREAM_UNAVAILABLE", retryable: true, retryAfterSeconds: 3 },
    ],
    [
      "truncated JSON in a 200",
      raw(200, "application/json", '{"status":"SUCCESS","result":{"cibil_'),
      { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" },
    ],
    [
      "401 with the AEPS error body",
      json(401, fixtureJson("aeps/resend-otp.error")),
      { __typename: "UpstreamUnauthorized", upstreamMessage: "Invalid signature encoding" },
    ],
    [
      "business error inside HTTP 200",
      json(200, fixtureJson("cibil/generic-error")),
      { __typename: "UpstreamRejected", upstreamCode: "207" },
    ],
    [
      "503 with Retry-After",
      raw(503, "text/plain", "busy", { "retry-after": "7" }),
      { __typename: "UpstreamUnavailable", retryAfterSeconds: 7 },
    ],
    // Never "call again at once": a 0, a date already past, or a header that is no wait at all.
    [
      "503 with Retry-After: 0",
      raw(503, "text/plain", "busy", { "retry-after": "0" }),
      { __typename: "UpstreamUnavailable", retryable: true, retryAfterSeconds: 1 },
    ],
    [
      "429 with Retry-After: -3",
      raw(429, "text/plain", "slow down", { "retry-after": "-3" }),
      { __typename: "UpstreamUnavailable", retryable: true, retryAfterSeconds: null },
    ],
    // A redirect is never followed, and to a send it says nothing of whether the OTP went (a 303, or a 302 used as
    // one, answers a POST that was carried out): OUTCOME_UNKNOWN, never a definite failure.
    [
      "redirect to another host",
      raw(308, "text/plain", "", { location: "http://203.0.113.9/steal" }),
      { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN", retryable: false },
    ],
    [
      "302 found",
      raw(302, "text/html", "<a href='/done'>moved</a>", { location: "/done" }),
      { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN", retryable: false },
    ],
    [
      "307 temporary redirect",
      raw(307, "text/plain", "", { location: "http://203.0.113.9/api" }),
      { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN", retryable: false },
    ],
    ["slow body (stalls mid-body)", slowBody, { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" }],
    ["huge body (8 MiB)", hugeBody, { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" }],
    // A status whose body never completes means what the status says, as with a complete unreadable body.
    ["401 whose body is cut off", cutOff(401), { __typename: "UpstreamUnauthorized", code: "UPSTREAM_UNAUTHORIZED" }],
    [
      "redirect whose body is cut off",
      cutOff(302, { location: "http://203.0.113.9/steal" }),
      { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN", retryable: false },
    ],
    [
      "404 whose body stalls past the deadline",
      cutOff(404, {}, true),
      { __typename: "UpstreamUnavailable", code: "UPSTREAM_BAD_RESPONSE", retryable: false },
    ],
    [
      "503 with Retry-After whose body is cut off",
      cutOff(503, { "retry-after": "7" }),
      { __typename: "UpstreamUnavailable", code: "UPSTREAM_UNAVAILABLE", retryAfterSeconds: 7 },
    ],
  ];

  describe.each([
    ["generateCibilOtp", GENERATE_CIBIL_OTP, cibilInput()],
    ["resendAepsOtp", RESEND_AEPS_OTP, aepsInput()],
  ])("%s", (field, document, variables) => {
    it.each(cases)("%s", async (_name, handler, expected) => {
      upstream.respond(handler);
      const started = Date.now();
      const res = await t.gql(document, variables);
      const elapsed = Date.now() - started;
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      expect(resultOf(res.body, field)).toMatchObject(expected);
      expect(elapsed).toBeLessThan(DEADLINE_MS + SLACK_MS);
      // Let any (wrong) retry arrive before counting.
      await new Promise((r) => setTimeout(r, 50));
      expect(upstream.calls).toHaveLength(1);
      expect(withoutRequestIds(res.text)).not.toContain(upstream.url.split(":").pop() as string);
      expect(res.text).not.toMatch(/10\.0\.0\.7|203\.0\.113\.9|<html/);
    });
  });

  it("a huge body keeps memory flat: twenty 8 MiB answers grow RSS by far less than one of them buffered", async () => {
    upstream.respond(hugeBody);
    global.gc?.();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 20; i++) {
      const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput());
      expect(resultOf(res.body, "generateCibilOtp")).toMatchObject({ code: "OUTCOME_UNKNOWN" });
    }
    const grownMiB = (process.memoryUsage().rss - before) / (1024 * 1024);
    expect(grownMiB).toBeLessThan(64);
  });

  it("sends the configured partner credentials, whatever a client might try", async () => {
    upstream.respond(json(200, fixtureJson("cibil/generate-otp.success")));
    const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(), { RegistrationID: "EVIL-1", "x-company-code": "EVIL" });
    expect(resultOf(res.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    const sent = JSON.parse(upstream.calls[0].body) as Record<string, unknown>;
    expect(sent).toMatchObject({ RegistrationID: SIMULATOR_REGISTRATION_ID, CompanyCode: SIMULATOR_COMPANY_CODE });
    expect(upstream.calls[0].headers.registrationid).toBeUndefined();
  });

  it("a reset before the request is written (TLS handshake) is retried inside the deadline; nothing is ever sent", async () => {
    let connections = 0;
    const resetter: Server = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((r) => resetter.listen(0, "127.0.0.1", r));
    const port = (resetter.address() as { port: number }).port;
    const t2 = await startTestStack({
      ...upstreamEnv(`https://127.0.0.1:${port}`),
      REQUEST_DEADLINE_MS: String(DEADLINE_MS * 4),
      AOPAY_RETRY_MAX: "2",
    });
    try {
      const started = Date.now();
      const res = await t2.gql(GENERATE_CIBIL_OTP, cibilInput());
      expect(resultOf(res.body, "generateCibilOtp")).toMatchObject({
        __typename: "UpstreamUnavailable",
        code: "UPSTREAM_UNAVAILABLE",
        retryable: true,
      });
      expect(Date.now() - started).toBeLessThan(DEADLINE_MS * 4 + SLACK_MS);
      // One attempt and two retries, each a fresh connection; no HTTP request was ever written.
      expect(connections).toBe(3);
    } finally {
      await t2.stop();
      await new Promise<void>((r) => resetter.close(() => r()));
    }
  });

  it("an upstream that refuses connections is UPSTREAM_UNAVAILABLE and nothing was sent", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const t2 = await startTestStack({
      ...upstreamEnv(url),
    });
    try {
      const res = await t2.gql(GENERATE_CIBIL_OTP, cibilInput());
      expect(resultOf(res.body, "generateCibilOtp")).toMatchObject({
        __typename: "UpstreamUnavailable",
        code: "UPSTREAM_UNAVAILABLE",
        retryable: true,
      });
      expect(res.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
    } finally {
      await t2.stop();
    }
  });
});

const REGISTRATION = { input: registrationInput() };
const SUBMISSION = {
  input: { cibilId: "102277100", accessToken: "123456542124", otp: "123456", questionKey: "q1", answerKey: "a1" },
};

/** Answers `body` with a Content-Encoding, whatever the request accepted. */
function encoded(coding: string, body: Buffer): FakeHandler {
  return (_call, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-encoding": coding });
    res.end(body);
  };
}

/**
 * Upstream audit: answers the docs say nothing about, and how each reads. A documented success stays a success however
 * it is framed (after a UTF-8 BOM, compressed although we ask for `identity`): each was OUTCOME_UNKNOWN, an OTP
 * delivered and reported as unknown. And what the docs do not show is not guessed at: a status word they never use
 * (`FAILED` read as a rejection), two `status` keys that disagree (the last one won), a compressed answer beyond the
 * response cap once decoded: OUTCOME_UNKNOWN on a send. One upstream call each, never a second.
 */
describe.each([
  ["generateCibilOtp", GENERATE_CIBIL_OTP, cibilInput(), "cibil/generate-otp.success", "CibilOtpChallenge"],
  ["resendAepsOtp", RESEND_AEPS_OTP, aepsInput(), "aeps/resend-otp.success", "AepsOtpResent"],
  // The other sends, in their family's documented envelope (registeration has none of its own: SubmitOTP's).
  [
    "registerCibilCustomer",
    REGISTER_CIBIL_CUSTOMER,
    REGISTRATION,
    "cibil/submit-otp.success",
    "CibilCustomerRegistered",
  ],
  ["submitCibilOtp", SUBMIT_CIBIL_OTP, SUBMISSION, "cibil/submit-otp.success", "CibilOtpVerified"],
  [
    "verifyAepsOtp",
    VERIFY_AEPS_OTP,
    aepsInput("9876543210", { otp: "123456" }),
    "aeps/resend-otp.success",
    "AepsRegistrationVerified",
  ],
])(
  "%s: a documented success however it is framed, and no guess where the docs are silent",
  (field, doc, vars, fixture, success) => {
    const { upstream, t } = stackOnFakeUpstream({
      env: { AOPAY_DEADLINE_MS: String(DEADLINE_MS) },
      callsPerTest: true,
    });
    const body = JSON.stringify(fixtureJson(fixture));
    const unknown = { __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" };

    it.each([
      ["after a UTF-8 byte order mark", raw(200, "application/json", `\uFEFF${body}`), { __typename: success }],
      ["gzip-compressed", encoded("gzip", gzipSync(body)), { __typename: success }],
      ["deflate-compressed (zlib)", encoded("deflate", deflateSync(body)), { __typename: success }],
      ["deflate-compressed (raw)", encoded("deflate", deflateRawSync(body)), { __typename: success }],
      ["brotli-compressed", encoded("br", brotliCompressSync(body)), { __typename: success }],
      [
        "compressed twice (deflate, then gzip)",
        encoded("deflate, gzip", gzipSync(deflateSync(body))),
        { __typename: success },
      ],
      [
        "a gzip bomb: 4 MiB once decoded, over the 1 MiB cap",
        encoded("gzip", gzipSync(Buffer.alloc(4 << 20, 0x20))),
        unknown,
      ],
      ["compressed in a coding we do not know", encoded("zstd", gzipSync(body)), unknown],
      [
        "status in a word the docs never use (FAILED)",
        raw(200, "application/json", body.replace(/"status":\s*(true|"SUCCESS")/, '"status":"FAILED"')),
        unknown,
      ],
      ["two status keys that disagree", raw(200, "application/json", `{"status":false,${body.slice(1)}`), unknown],
    ])("%s", async (_name, handler, expected) => {
      upstream.respond(handler);
      // A customer of its own per case: a first registration whose outcome is unknown holds its PAN for a while
      // (src/protection/registered-mobiles.ts FIRST_REGISTRATION_HOLD_MS), and the next case's would be refused.
      const res = await t.gql(doc, field === "registerCibilCustomer" ? { input: registrationInput() } : vars);
      expect(res.body.errors).toBeUndefined();
      expect(resultOf(res.body, field)).toMatchObject(expected);
      await new Promise((r) => setTimeout(r, 50));
      // The send itself once (SubmitOTP's answer is followed by its credit history, a read, when verified).
      expect(upstream.calls.filter((c) => !c.path.endsWith("/GetCreditHistory"))).toHaveLength(1);
      expect(upstream.calls.every((c) => c.headers["accept-encoding"] === "identity")).toBe(true);
    });
  },
);
