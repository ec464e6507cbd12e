import { connect as netConnect, type Socket } from "node:net";
import { constants } from "node:os";
import { Agent, type Dispatcher } from "undici";
import {
  AopayClientError,
  AopayCredentialsError,
  AopayHttpError,
  createGraphQLClient,
  createSdk,
  fieldProblems,
  isFailure,
  type Sdk,
} from "../../client/src/sdk";
import {
  blackHole,
  delayed,
  type FakeUpstream,
  json,
  raw,
  resetAfterRequest,
  startFakeUpstream,
} from "../helpers/fake-upstream";
import { provablyNeverSent } from "../../client/src/sdk/client";
import { freePort } from "../helpers/free-port";
import { registrationInput } from "../helpers/identifiers";
import { VALID_AADHAAR } from "../helpers/operations";
import { startTestStack, TEST_API_KEY, TEST_API_KEYS_ENTRY, type TestStack } from "../helpers/stack";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const cibil = (cibilId: string) => ({ input: { cibilId, accessToken: "123456542124" } });
const aeps = (mobile: string) => ({
  input: { userKey: "AOP554N3XXXX", mobile, aadhaar: VALID_AADHAAR, primaryKeyId: "TEST", encodeTxnId: "DEMO" },
});

/** Rejects with what the promise threw; fails the test if it resolved. */
async function thrown(promise: Promise<unknown>): Promise<AopayClientError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!("error" in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(AopayClientError);
  return outcome.error as AopayClientError;
}

/** The generated SDK (client/src/generated/sdk.ts over client/src/sdk/client.ts) against the real server and simulator. */
describe("typed SDK against the live server", () => {
  let t: TestStack;
  let sdk: Sdk;

  beforeAll(async () => {
    t = await startTestStack();
    sdk = createSdk({ url: t.graphqlUrl });
  });
  afterAll(async () => {
    await t?.stop();
  });
  beforeEach(() => t.simulator?.resetCalls());

  it("returns the typed CIBIL challenge with the request id from x-request-id", async () => {
    const { data, errors, requestId, replayed, status } = await sdk.generateCibilOtp(cibil("102277100"));
    expect(errors).toBeUndefined();
    expect(status).toBe(200);
    expect(replayed).toBe(false);
    expect(requestId).toMatch(UUID);
    const result = data?.generateCibilOtp;
    expect(result?.__typename).toBe("CibilOtpChallenge");
    if (result?.__typename !== "CibilOtpChallenge") return;
    // AOPay's form shows the mobile's first five digits (97100****): every one hidden.
    expect(result.question?.text).toContain("sent to *********.");
    expect(result.question?.text).not.toContain("97100");
    expect(result.question?.resendEligible).toBe(true);
  });

  it("walks the CIBIL flow to the credit report: the challenge's countdown, then the report, typed", async () => {
    const registered = (
      await sdk.registerCibilCustomer({
        input: registrationInput({ firstName: "Meera", mobile: "9123456780" }),
      })
    ).data?.registerCibilCustomer;
    if (registered?.__typename !== "CibilCustomerRegistered")
      throw new Error(`registration failed: ${registered?.__typename}`);
    const ids = { cibilId: registered.cibilId as string, accessToken: registered.accessToken as string };
    const challenge = (await sdk.generateCibilOtp({ input: ids })).data?.generateCibilOtp;
    if (challenge?.__typename !== "CibilOtpChallenge") throw new Error(`no challenge: ${challenge?.__typename}`);
    // The test stack has no cooldown: nothing gates the next send.
    expect(challenge.resendAvailableInSeconds).toBe(0);
    expect(challenge.question?.text).toContain("sent to *********.");
    expect(challenge.question?.text).not.toContain("91234");
    const verified = (
      await sdk.submitCibilOtp({
        input: { ...ids, otp: "123456", questionKey: challenge.question?.key ?? "", answerKey: "USER_TO_INPUT_ANSWER" },
      })
    ).data?.submitCibilOtp;
    if (verified?.__typename !== "CibilOtpVerified") throw new Error(`not verified: ${verified?.__typename}`);
    const history = verified.creditHistory;
    if (history.__typename !== "CibilCreditHistory") throw new Error(`no history: ${history.__typename}`);
    expect(history.report).toMatchObject({
      simulated: true,
      cibil_id: ids.cibilId,
      customer: { first_name: "Meera", mobile: "*********" },
    });
    expect(JSON.stringify(history.report)).not.toContain("91234");
    const again = (await sdk.cibilCreditHistory({ cibilId: ids.cibilId })).data?.cibilCreditHistory;
    expect(again).toMatchObject({
      __typename: "CibilCreditHistory",
      report: { simulated: true, cibil_id: ids.cibilId },
    });
  });

  it("returns masked identifiers for the AEPS resend, and runs a query without variables", async () => {
    const { data } = await sdk.resendAepsOtp(aeps("9876543210"));
    expect(data?.resendAepsOtp).toMatchObject({
      __typename: "AepsOtpResent",
      maskedAadhaar: "XXXX XXXX 2346",
      maskedMobile: "XXXXXX3210",
    });
    const info = await sdk.serviceInfo();
    expect(info.data?.serviceInfo.upstream).toBe("SIMULATOR");
  });

  it("returns failures as typed union members (503 with Retry-After, rejection with AOPay's message)", async () => {
    const unavailable = (await sdk.generateCibilOtp(cibil("102277503"))).data?.generateCibilOtp;
    expect(unavailable).toMatchObject({
      __typename: "UpstreamUnavailable",
      code: "UPSTREAM_UNAVAILABLE",
      retryable: true,
      retryAfterSeconds: 30,
    });
    const rejected = (await sdk.resendAepsOtp(aeps("9876543207"))).data?.resendAepsOtp;
    expect(rejected && isFailure(rejected)).toBe(true);
    expect(rejected).toMatchObject({ __typename: "UpstreamRejected", code: "UPSTREAM_REJECTED" });
  });

  it("sends the Idempotency-Key: a repeated call is replayed, not sent again", async () => {
    const key = "sdk-test-key-0001";
    const first = await sdk.generateCibilOtp(cibil("102277111"), { idempotencyKey: key });
    const second = await sdk.generateCibilOtp(cibil("102277111"), { idempotencyKey: key });
    expect(first.replayed).toBe(false);
    expect(second.replayed).toBe(true);
    expect(second.data).toEqual(first.data);
    expect(second.requestId).not.toBe(first.requestId);
    expect(t.simulator?.calls("cibil.generateOtp")).toBe(1);
  });

  it("returns BAD_USER_INPUT as errors with field problems and the request id, without calling AOPay", async () => {
    const { data, errors, requestId, status } = await sdk.resendAepsOtp(aeps("5876543210"));
    expect(data).toBeNull();
    expect(status).toBe(200);
    expect(errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(fieldProblems(errors)).toEqual({ "input.mobile": expect.stringMatching(/digits/) });
    expect(requestId).toBe(errors?.[0]?.extensions?.requestId);
    expect(t.simulator?.calls()).toBe(0);
  });

  it("sends the caller's request id, which the server logs beside the id it makes (the one read back)", async () => {
    const { requestId } = await sdk.serviceInfo({}, { requestId: "3f2b8c1e-5d7a-4e9b-8c6d-0a1b2c3d4e5f" });
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestId).not.toBe("3f2b8c1e-5d7a-4e9b-8c6d-0a1b2c3d4e5f");
    const lines = t.logs.records().filter((r) => r.requestId === requestId);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.callerRequestId).toBe("3f2b8c1e-5d7a-4e9b-8c6d-0a1b2c3d4e5f");
  });

  it("passes its deadline on: a silent AOPay ends as OutcomeUnknown before the client's own deadline", async () => {
    // An answer at all says it came first: past its own timeout the SDK rejects with TIMEOUT (the case below), and
    // without the deadline passed on the server would wait for AOPay far longer. 5 s, the shortest timeout given the
    // SDK's whole 1 s margin (SERVER_DEADLINE_MARGIN_MS; at 2 s it is a fifth, 0.4 s): the server, in this process,
    // answers at 4 s (x-request-timeout-ms). With 2 s and a wall-clock "< 2 s", a loop held 150 ms in every 250
    // (test/fixtures/preload/stall-loop.cjs) failed 2 runs in 3: the answer missed the 0.4 s.
    const { data } = await sdk.generateCibilOtp(cibil("102277504"), { timeoutMs: 5_000 });
    expect(data?.generateCibilOtp).toMatchObject({ __typename: "OutcomeUnknown", code: "OUTCOME_UNKNOWN" });
  });

  it("aborts on the caller's signal", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    // Its own dispatcher, destroyed afterwards: when an aborted call shares undici's global pool with later calls,
    // the server's graceful stop waits for those kept-alive sockets (4 s to SHUTDOWN_GRACE_MS), slowing the suite.
    const own = new Agent();
    const error = await thrown(
      createSdk({ url: t.graphqlUrl, dispatcher: own }).generateCibilOtp(cibil("102277888"), {
        signal: controller.signal,
      }),
    );
    await own.destroy();
    expect(error.code).toBe("ABORTED");
    expect(error.requestMayHaveBeenSent).toBe(true);
  });

  it("sends through a custom undici dispatcher", async () => {
    let dispatched = 0;
    const counting = new Agent().compose(
      (dispatch) => (opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) => {
        dispatched += 1;
        return dispatch(opts, handler);
      },
    );
    const info = await createSdk({ url: t.graphqlUrl, dispatcher: counting }).serviceInfo();
    expect(info.data?.serviceInfo.upstream).toBe("SIMULATOR");
    expect(dispatched).toBe(1);
    await counting.close();
  });
});

describe("typed SDK with client authentication", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ API_KEYS: TEST_API_KEYS_ENTRY, AUTH_REQUIRED: "true" });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("sends apiKey as x-api-key; without it the 401 comes back as an UNAUTHENTICATED error", async () => {
    const anonymous = await createSdk({ url: t.graphqlUrl }).serviceInfo();
    expect(anonymous.status).toBe(401);
    expect(anonymous.data).toBeNull();
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(anonymous.requestId).toMatch(UUID);
    const keyed = await createSdk({ url: t.graphqlUrl, apiKey: TEST_API_KEY }).serviceInfo();
    expect(keyed.status).toBe(200);
    expect(keyed.data?.serviceInfo.upstream).toBe("SIMULATOR");
  });
});

/** Transport edges, against a scripted loopback server (no mocks). */
describe("typed SDK transport", () => {
  let fake: FakeUpstream;
  let url: string;
  beforeAll(async () => {
    fake = await startFakeUpstream();
    url = `${fake.url}/graphql`;
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    fake.calls.length = 0;
  });

  it("sends the operation, its headers, credentials and a shorter server deadline", async () => {
    fake.respond(
      json(
        200,
        { data: { serviceInfo: { __typename: "ServiceInfo", upstream: "LIVE" } } },
        { "x-request-id": "rid-1" },
      ),
    );
    let tokens = 0;
    const client = createGraphQLClient({
      url,
      bearerToken: () => `tok-${++tokens}`,
      headers: { "X-Team": "growth" },
      timeoutMs: 3_000,
    });
    const sdk = createSdk(client);
    const result = await sdk.generateCibilOtp(cibil("102277100"), {
      idempotencyKey: "key-1",
      headers: { "x-call": "1" },
    });
    await sdk.serviceInfo();
    expect(result.requestId).toBe("rid-1");
    const [first, second] = fake.calls;
    expect(first.method).toBe("POST");
    expect(first.headers).toMatchObject({
      "content-type": "application/json",
      authorization: "Bearer tok-1",
      "x-team": "growth",
      "x-call": "1",
      "idempotency-key": "key-1",
      "x-request-timeout-ms": "2400",
    });
    expect(second.headers.authorization).toBe("Bearer tok-2");
    expect(second.headers["idempotency-key"]).toBeUndefined();
    const body = JSON.parse(first.body) as { query: string; operationName: string; variables: unknown };
    expect(body.operationName).toBe("GenerateCibilOtp");
    expect(body.query).toMatch(/^mutation GenerateCibilOtp\(\$input:GenerateCibilOtpInput!\)\{generateCibilOtp/);
    expect(body.query).toContain("fragment FailureFields on Failure");
    expect(body.variables).toEqual(cibil("102277100"));
  });

  it("never retries: a connection reset after the request was sent is one call and an error that says it may have been sent", async () => {
    fake.respond(resetAfterRequest);
    const error = await thrown(createSdk({ url }).generateCibilOtp(cibil("102277100"), { idempotencyKey: "k" }));
    expect(error.code).toBe("NETWORK_ERROR");
    expect(error.requestMayHaveBeenSent).toBe(true);
    expect(fake.calls).toHaveLength(1);
  });

  it("says a refused connection was never sent", async () => {
    const port = await freePort();
    const error = await thrown(createSdk({ url: `http://127.0.0.1:${port}/graphql` }).serviceInfo());
    expect(error.code).toBe("NETWORK_ERROR");
    expect(error.requestMayHaveBeenSent).toBe(false);
  });

  /** An errno error as libuv reports it (`read EHOSTUNREACH`): code, errno and the syscall that failed. */
  const errnoError = (code: "EHOSTUNREACH" | "ENETUNREACH", syscall: string) =>
    Object.assign(new Error(`${syscall} ${code}`), { code, errno: -constants.errno[code], syscall });

  // Linux reports EHOSTUNREACH/ENETUNREACH on an open connection when an ICMP unreachable ends the retransmissions of
  // data already written: the request reached the server here, and the SDK called it "never sent".
  it.each(["EHOSTUNREACH", "ENETUNREACH"] as const)(
    "says %s on an open connection, after the request was written, may have been sent",
    async (code) => {
      fake.respond(blackHole);
      let socket: Socket | undefined;
      const agent = new Agent({
        connect: (opts, callback) => {
          const s = netConnect(Number(opts.port), opts.hostname);
          s.once("connect", () => callback(null, s));
          s.once("error", (error) => callback(error, null));
          socket = s;
        },
      });
      const pending = thrown(
        createSdk({ url, dispatcher: agent }).generateCibilOtp(cibil("102277100"), { idempotencyKey: "k" }),
      );
      while (fake.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      socket?.destroy(errnoError(code, "read"));
      const error = await pending;
      expect(error.cause).toMatchObject({ code, syscall: "read" });
      expect(error).toMatchObject({ code: "NETWORK_ERROR", requestMayHaveBeenSent: true });
      expect(fake.calls).toHaveLength(1);
      await agent.close();
    },
  );

  it("says EHOSTUNREACH/ENETUNREACH from connect was never sent", async () => {
    for (const code of ["EHOSTUNREACH", "ENETUNREACH"] as const) {
      const agent = new Agent({ connect: (_opts, callback) => callback(errnoError(code, "connect"), null) });
      const error = await thrown(createSdk({ url, dispatcher: agent }).serviceInfo());
      expect(error).toMatchObject({ code: "NETWORK_ERROR", requestMayHaveBeenSent: false });
      await agent.close();
    }
    expect(fake.calls).toHaveLength(0);
  });

  it("classifies by the failing syscall: a real refused connect, and the same code from read, may have been sent", async () => {
    const port = await freePort();
    const refused = await new Promise<NodeJS.ErrnoException>((resolve) =>
      netConnect(port, "127.0.0.1").once("error", resolve),
    );
    expect(refused).toMatchObject({ code: "ECONNREFUSED", syscall: "connect" });
    expect(provablyNeverSent(refused)).toBe(true);
    expect(provablyNeverSent(new Error("wrapped", { cause: refused }))).toBe(true);
    for (const code of ["EHOSTUNREACH", "ENETUNREACH"] as const) {
      expect(provablyNeverSent(Object.assign(Object.create(refused) as object, { code }))).toBe(true);
      expect(provablyNeverSent(errnoError(code, "read"))).toBe(false);
      expect(provablyNeverSent(errnoError(code, "write"))).toBe(false);
      expect(provablyNeverSent(Object.assign(new Error(code), { code }))).toBe(false); // no syscall: unknown
    }
    expect(provablyNeverSent(Object.assign(new Error("x"), { code: "ENOTFOUND", syscall: "getaddrinfo" }))).toBe(true);
    expect(provablyNeverSent(Object.assign(new Error("x"), { code: "ECONNRESET", syscall: "read" }))).toBe(false);
  });

  // A bearerToken function that threw or rejected escaped as the raw error, not the AopayClientError the docs promise.
  it("a bearerToken function that fails rejects with AopayCredentialsError, never sent, its error as cause", async () => {
    fake.respond(json(200, { data: { serviceInfo: { __typename: "ServiceInfo", upstream: "LIVE" } } }));
    const down = new Error("token service down");
    const cases: Array<() => string | Promise<string>> = [
      () => Promise.reject(down),
      () => {
        throw down;
      },
      () => "" as string,
      () => undefined as unknown as string,
    ];
    for (const bearerToken of cases) {
      const error = await thrown(createSdk({ url, bearerToken }).generateCibilOtp(cibil("102277100")));
      expect(error).toBeInstanceOf(AopayCredentialsError);
      expect(error).toMatchObject({ code: "CREDENTIALS_ERROR", requestMayHaveBeenSent: false, requestId: null });
    }
    const rejected = await thrown(createSdk({ url, bearerToken: () => Promise.reject(down) }).serviceInfo());
    expect(rejected.cause).toBe(down);
    expect(rejected.message).toBe("bearerToken failed (Error); what it threw is this error's cause.");
    expect(fake.calls).toHaveLength(0);
  });

  // The message quoted the token function's own text, which an app's token service may fill with the token itself,
  // into the message every log and crash reporter keeps.
  it("an AopayCredentialsError's message never quotes what the bearerToken function threw (its cause keeps it)", async () => {
    const secret = "eyJhbGciOiJSUzI1NiJ9.tok3n-canary-0123456789";
    for (const bearerToken of [
      () => Promise.reject(new Error(`refresh failed for ${secret}`)),
      () => Promise.reject(`refresh failed for ${secret}`),
    ]) {
      const error = await thrown(createSdk({ url, bearerToken }).serviceInfo());
      expect(error).toBeInstanceOf(AopayCredentialsError);
      expect(error.message).not.toContain("tok3n-canary");
      expect(String(error.stack)).not.toContain("tok3n-canary");
    }
    expect(fake.calls).toHaveLength(0);
  });

  // The token function was awaited before the deadline started: one that never settled hung the call for ever.
  it("a bearerToken function that hangs: TIMEOUT at timeoutMs, or ABORTED on the caller's signal, never sent", async () => {
    fake.respond(json(200, { data: { serviceInfo: { __typename: "ServiceInfo", upstream: "LIVE" } } }));
    const hanging = () => new Promise<string>(() => {});
    const started = Date.now();
    const timedOut = await thrown(createSdk({ url, bearerToken: hanging, timeoutMs: 300 }).serviceInfo());
    expect(timedOut).toMatchObject({ code: "TIMEOUT", requestMayHaveBeenSent: false });
    expect(Date.now() - started).toBeLessThan(2_000);
    const caller = new AbortController();
    setTimeout(() => caller.abort(new Error("user left")), 100);
    const aborted = await thrown(createSdk({ url, bearerToken: hanging }).serviceInfo({}, { signal: caller.signal }));
    expect(aborted).toMatchObject({ code: "ABORTED", requestMayHaveBeenSent: false });
    // A token that comes in time is used as before.
    const slow = () => new Promise<string>((resolve) => setTimeout(() => resolve("tok-slow"), 50));
    await createSdk({ url, bearerToken: slow, timeoutMs: 2_000 }).serviceInfo();
    expect(fake.calls.map((c) => c.headers.authorization)).toEqual(["Bearer tok-slow"]);
  });

  it("times out at timeoutMs when no answer comes", async () => {
    fake.respond(blackHole);
    const started = Date.now();
    const error = await thrown(createSdk({ url, timeoutMs: 300 }).serviceInfo());
    expect(error.code).toBe("TIMEOUT");
    expect(error.requestMayHaveBeenSent).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("throws AopayHttpError for an HTTP error without a GraphQL body (a proxy's 502 page)", async () => {
    fake.respond(raw(502, "text/html", "<html>Bad gateway</html>", { "x-request-id": "rid-502" }));
    const error = await thrown(createSdk({ url }).serviceInfo());
    expect(error).toMatchObject({
      code: "HTTP_ERROR",
      status: 502,
      body: "<html>Bad gateway</html>",
      requestId: "rid-502",
    });
  });

  // A WAF or proxy page that echoes the request: AopayHttpError.body kept 2,048 characters of it as they came, the
  // customer's Aadhaar, mobile and the bearer token with them, into the app's error logs and crash reports.
  it("an error page echoing the request: AopayHttpError keeps its status, type and length, and a short masked start", async () => {
    const token = "tok-canary-0123456789abcdef0123456789";
    const mobile = "9812345671";
    fake.respond((call, res) => {
      const { variables } = JSON.parse(call.body) as { variables: { input: Record<string, string> } };
      const { aadhaar, mobile: echoed, userKey } = variables.input;
      const page =
        `<html><head><title>403 Forbidden</title></head><body>Blocked: aadhaar=${aadhaar} ` +
        `(${aadhaar.replace(/(\d{4})(?=\d)/g, "$1 ")}) [${aadhaar.replace(/(\d{3})(?=\d)/g, "$1 - ")}] ` +
        `mobile=+91-${echoed} key=${userKey} ` +
        `pan=ABCPE1234F mail=asha@example.com auth=${String(call.headers.authorization)}<pre>${call.body}</pre>`;
      res.writeHead(403, { "content-type": "text/html; charset=utf-8", "x-request-id": "rid-403" });
      res.end(page);
    });
    const error = await thrown(createSdk({ url, bearerToken: () => token }).resendAepsOtp(aeps(mobile)));
    expect(error).toBeInstanceOf(AopayHttpError);
    const http = error as AopayHttpError;
    expect(http).toMatchObject({ code: "HTTP_ERROR", status: 403, contentType: "text/html; charset=utf-8" });
    expect(http.bodyLength).toBeGreaterThan(fake.calls[0].body.length);
    expect(http.body.length).toBeLessThanOrEqual(256);
    expect(http.body).toMatch(/^<html><head><title>403 Forbidden<\/title><\/head><body>Blocked: aadhaar=X{12} /);
    // Digit groups parted by more than one character (" - "), too.
    expect(http.body).toContain("(XXXX XXXX XXXX) [XXX - XXX - XXX - XXX] mobile=+XX-XXXXXXXXXX");
    expect(http.body).toContain("key=[hidden] pan=[hidden] mail=***@example.com auth=Bearer [hidden]");
    for (const text of [http.body, http.message, JSON.stringify(http), String(http.stack)])
      for (const canary of [VALID_AADHAAR, mobile, token, "ABCPE1234F", "asha@", "AOP554N3"])
        expect({ canary, found: text.includes(canary) }).toEqual({ canary, found: false });
  });

  it("returns a GraphQL error body whatever the HTTP status", async () => {
    fake.respond(
      json(422, {
        errors: [{ message: "reused", extensions: { code: "IDEMPOTENCY_KEY_REUSED", requestId: "rid-422" } }],
      }),
    );
    const result = await createSdk({ url }).serviceInfo();
    expect(result).toMatchObject({ status: 422, data: null, requestId: "rid-422" });
    expect(result.errors?.[0]?.extensions?.code).toBe("IDEMPOTENCY_KEY_REUSED");
  });

  it("throws AopayClientBadResponseError for a 2xx that is not a GraphQL response, or too large", async () => {
    fake.respond(raw(200, "text/plain", "ok"));
    expect((await thrown(createSdk({ url }).serviceInfo())).code).toBe("BAD_RESPONSE");
    fake.respond(json(200, { data: { serviceInfo: { upstream: "x".repeat(5_000) } } }));
    const tooLarge = await thrown(createSdk({ url, maxResponseBytes: 1_024 }).serviceInfo());
    expect(tooLarge.code).toBe("BAD_RESPONSE");
    expect(tooLarge.message).toMatch(/larger than 1024 bytes/);
  });

  it("refuses bad options before sending anything", async () => {
    fake.respond(delayed(0, json(200, { data: null })));
    expect(() => createSdk({ url, apiKey: "a", bearerToken: "b" })).toThrow(/not both/);
    expect(() => createSdk({ url: "ftp://example.test/graphql" })).toThrow(/http\(s\) URL/);
    expect(() => createSdk({ url, retries: 3 } as unknown as { url: string })).toThrow(/unknown option\(s\) retries/);
    await expect(createSdk({ url }).generateCibilOtp(cibil("1"), { idempotencyKey: "has space" })).rejects.toThrow(
      /idempotencyKey/,
    );
    await expect(createSdk({ url }).serviceInfo({}, { timeoutMs: 0 })).rejects.toThrow(/timeoutMs/);
    // A TypeError, as docs/clients.md says: a mistake in the calling code, not an AopayClientError (no call was made).
    expect(() => createSdk({ url, retries: 3 } as unknown as { url: string })).toThrow(TypeError);
    await expect(createSdk({ url }).serviceInfo({}, { retries: 3 } as object)).rejects.toThrow(TypeError);
    await expect(createSdk({ url }).serviceInfo({}, { idempotencyKey: "has space" })).rejects.toThrow(TypeError);
    expect(fake.calls).toHaveLength(0);
  });
});
