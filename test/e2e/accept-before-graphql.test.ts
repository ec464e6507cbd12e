import { request } from "undici";
import { aepsInput, clientOperation, RESEND_AEPS_OTP } from "../helpers/operations";
import { stackOnFakeUpstream } from "../helpers/stack";
import { unserialisable } from "../helpers/unserialisable";

/**
 * An Accept that takes none of the types a GraphQL result is sent in is refused 406 before GraphQL runs, on both HTTP
 * layers: nothing reaches AOPay. Before, Apollo Server ran the operation and only then found no type to answer in
 * (runHttpQuery.js): `resendAepsOtp` with `Accept: text/html` sent its OTP and was answered 406, its access line
 * `refused: "refused by Apollo (406)"`, operation null, counted in http_requests_refused_total; its client, told
 * "refused", would send it again (a second SMS). The Accept values Apollo serves are served as before, each send
 * reaching the upstream once; a browser's navigation Accept still gets the landing page (development). Real server,
 * scripted upstream, loopback.
 */

/** A browser's Accept when navigating (Chromium's, Firefox's differ only in the types before `*` / `*`). */
const BROWSER_NAVIGATION =
  "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8";

/** Accept values Apollo cannot answer a result in: it ran the operation, then answered 406. */
const REFUSED = [
  "text/html",
  "application/xml",
  "application/json;q=0",
  "*/*;q=0",
  "multipart/mixed",
  "application/json; charset=latin1",
];
/** Accept values Apollo serves (no Accept at all: undefined). */
const SERVED: Array<string | undefined> = [
  undefined,
  "*/*",
  "application/json",
  "application/graphql-response+json",
  "application/graphql-response+json,application/json;q=0.9",
  BROWSER_NAVIGATION,
  // axios's default (in error-body.ts COMMON), and one in no table: negotiated.
  "application/json, text/plain, */*",
  "text/plain;q=0.9, application/json",
  "multipart/mixed, application/json;q=0.5",
  // The callback spec's type, one of Apollo's three candidates.
  "application/json; callbackSpec=1.0",
];

const SERVICE_INFO = clientOperation("ServiceInfo");
const ORIGIN = "http://localhost:5173";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

describe.each([
  ["the thin route", true],
  ["Fastify's route", false],
])("Accept negotiated before GraphQL: %s", (_layer, thinGraphQLRoute) => {
  const { upstream, t } = stackOnFakeUpstream({ env: { NODE_ENV: "development" }, stackOptions: { thinGraphQLRoute } });
  let mobile = 9876500000;

  async function send(url: string, init: Parameters<typeof request>[1]): Promise<Answer> {
    const res = await request(url, init);
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  }

  /** resendAepsOtp to a fresh mobile: what reached the upstream, which layer served it, and the answer. */
  async function resend(accept: string | undefined, extra: Record<string, string> = {}) {
    const callsBefore = upstream.calls.length;
    const thinBefore = t.stack.app.thinGraphQLServed;
    mobile += 1;
    const headers: Record<string, string> = { "content-type": "application/json", ...extra };
    if (accept !== undefined) headers.accept = accept;
    const answer = await send(t.graphqlUrl, {
      method: "POST",
      headers,
      body: JSON.stringify({ query: RESEND_AEPS_OTP, variables: aepsInput(String(mobile)) }),
    });
    return {
      answer,
      sends: upstream.calls.length - callsBefore,
      thin: t.stack.app.thinGraphQLServed - thinBefore,
    };
  }

  function accessLine(requestId: string): Record<string, unknown> {
    const lines = t.logs.accessLines(requestId);
    expect(lines).toHaveLength(1);
    return lines[0];
  }

  async function metricsPage(): Promise<string> {
    return (await request(t.stack.app.metricsUrl!)).body.text();
  }

  function counted(page: string, prefix: string, ...parts: string[]): number {
    return page
      .split("\n")
      .filter((l) => l.startsWith(prefix) && parts.every((p) => l.includes(p)))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
  }

  const refused406 = (page: string) => counted(page, "http_requests_refused_total{", 'status="406"');

  /** A refusal before GraphQL, as every other: 406, BAD_REQUEST, request id, Vary: Accept, JSON (none acceptable). */
  function expectRefusal(answer: Answer): void {
    const body = JSON.parse(answer.text) as { data?: unknown; errors: Array<{ extensions: Record<string, unknown> }> };
    expect(answer.status).toBe(406);
    expect("data" in body).toBe(false);
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].extensions).toEqual({ code: "BAD_REQUEST", requestId: answer.headers["x-request-id"] });
    expect(answer.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(String(answer.headers.vary).toLowerCase()).toContain("accept");
    const line = accessLine(answer.headers["x-request-id"] as string);
    expect(line).toMatchObject({
      status: 406,
      operation: null,
      result: "BAD_REQUEST",
      refused: "Accept takes no GraphQL response type",
    });
    expect(line.upstream).toBeUndefined();
  }

  it.each(REFUSED)("a mutation with Accept %p: 406 before GraphQL, nothing sent", async (accept) => {
    const before = refused406(await metricsPage());
    const { answer, sends, thin } = await resend(accept);
    expect(sends).toBe(0);
    expectRefusal(answer);
    expect(thin).toBe(thinGraphQLRoute ? 1 : 0);
    expect(refused406(await metricsPage())).toBe(before + 1);
  });

  it.each(SERVED)("a mutation with Accept %p: served, sent once", async (accept) => {
    const { answer, sends, thin } = await resend(accept);
    expect(sends).toBe(1);
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.text) as { data?: { resendAepsOtp?: { __typename?: string } } };
    expect(body.data?.resendAepsOtp?.__typename).toBeDefined();
    expect(thin).toBe(thinGraphQLRoute ? 1 : 0);
    const line = accessLine(answer.headers["x-request-id"] as string);
    expect(line).toMatchObject({ status: 200, operation: "ResendAepsOtp" });
    expect(line.refused).toBeUndefined();
  });

  it("the same mutation accepted by the fast path (its document already accepted): sent once", async () => {
    const fastBefore = t.stack.app.fastPathCounts.answered;
    const { answer, sends } = await resend("application/graphql-response+json");
    expect([answer.status, sends]).toEqual([200, 1]);
    expect(t.stack.app.fastPathCounts.answered - fastBefore).toBe(1);
    // And refused before it with an Accept it cannot answer: the fast path never sees it.
    const refused = await resend("text/html");
    expect([refused.answer.status, refused.sends]).toEqual([406, 0]);
    expect(t.stack.app.fastPathCounts.answered - fastBefore).toBe(1);
  });

  it("to an allowed browser origin: the refusal carries the CORS headers, as every other refusal", async () => {
    const { answer, sends } = await resend("application/xml", { origin: ORIGIN });
    expect(sends).toBe(0);
    expectRefusal(answer);
    expect(answer.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expect(String(answer.headers.vary).toLowerCase()).toContain("origin");
  });

  // The one answer Apollo (or the fast path) still changes after the operation ran: a result that cannot be
  // serialised. It is a failure, not a refusal: the access line names the operation and the send it made.
  it.each([
    ["Apollo's pipeline", "text/plain, application/json"],
    ["the fast path", "application/json"],
  ])("an executed mutation whose result cannot be serialised (%s): 500, not refused", async (_path, accept) => {
    const fastBefore = t.stack.app.fastPathCounts.answered;
    const restore = unserialisable((value) => value.data?.resendAepsOtp !== undefined);
    let sent;
    try {
      const before = (await metricsPage()).split("\n").filter((l) => l.startsWith("http_requests_refused_total{"));
      sent = await resend(accept);
      const after = (await metricsPage()).split("\n").filter((l) => l.startsWith("http_requests_refused_total{"));
      expect(after).toEqual(before);
    } finally {
      restore();
    }
    expect([sent.answer.status, sent.sends]).toEqual([500, 1]);
    expect(t.stack.app.fastPathCounts.answered - fastBefore).toBe(accept === "application/json" ? 1 : 0);
    const line = accessLine(sent.answer.headers["x-request-id"] as string);
    expect(line).toMatchObject({
      status: 500,
      operation: "ResendAepsOtp",
      result: "INTERNAL_SERVER_ERROR",
      resolved: "AepsOtpResent",
    });
    expect(line.refused).toBeUndefined();
    expect(line.upstream).toHaveLength(1);
  });

  describe("GET (Fastify's route on both stacks)", () => {
    const operations = (page: string) =>
      counted(page, "graphql_operation_duration_seconds_count{", 'operation="ServiceInfo"');
    const get = (accept: string | undefined, query: string | null = SERVICE_INFO) =>
      send(query === null ? t.graphqlUrl : `${t.graphqlUrl}?query=${encodeURIComponent(query)}`, {
        headers: { "apollo-require-preflight": "1", ...(accept === undefined ? {} : { accept }) },
      });

    it.each(["application/xml", "application/json;q=0", "multipart/mixed"])(
      "a query with Accept %p: 406 before GraphQL, the operation not run",
      async (accept) => {
        const before = await metricsPage();
        const answer = await get(accept);
        expectRefusal(answer);
        const after = await metricsPage();
        expect(operations(after)).toBe(operations(before));
        expect(refused406(after)).toBe(refused406(before) + 1);
      },
    );

    it.each([undefined, "*/*", "application/json", "application/graphql-response+json"])(
      "a query with Accept %p: served, run once",
      async (accept) => {
        const before = operations(await metricsPage());
        const answer = await get(accept);
        expect(answer.status).toBe(200);
        expect(JSON.parse(answer.text)).toMatchObject({ data: { serviceInfo: {} } });
        expect(operations(await metricsPage())).toBe(before + 1);
      },
    );

    // As before: Apollo answers a GET preferring text/html with its landing page (development), whatever the query.
    it.each([
      ["a browser's navigation, no query", BROWSER_NAVIGATION, null],
      ["text/html, no query", "text/html", null],
      ["text/html, with a query", "text/html", SERVICE_INFO],
    ] as const)("%s: the landing page, nothing run", async (_name, accept, query) => {
      const before = operations(await metricsPage());
      const answer = await get(accept, query);
      expect(answer.status).toBe(200);
      expect(answer.headers["content-type"]).toMatch(/^text\/html/);
      expect(operations(await metricsPage())).toBe(before);
    });
  });
});
