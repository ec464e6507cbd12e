import { randomBytes } from "node:crypto";
import { request } from "undici";
import { aepsInput, RESEND_AEPS_OTP } from "../helpers/operations";
import { startTestStack, type TestStack } from "../helpers/stack";

/**
 * No label value on /metrics is client text (src/observability/metrics.ts: every label is a closed list owned by the
 * code; an operation name not of the generated clients' is `other`). Each round sends, in every place a client
 * controls, a mobile- and Aadhaar-shaped value and a string unique to that request: the operation's name (in the
 * document and as `operationName`, by POST and by GET), an alias, a variable, the path and query string, and the
 * headers read before GraphQL (x-request-id, traceparent, Origin, User-Agent, X-Forwarded-For, Idempotency-Key, a
 * refused x-api-key and Authorization, Content-Type, Accept). The page then holds none of them, and a second round of
 * new values adds no series: the page's size does not grow with what clients send.
 */
describe("client text in every place a client controls never reaches a metric label", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack();
  });
  afterAll(async () => {
    await t?.stop();
  });

  const MOBILE = "9988776655";
  const AADHAAR = "499118665246";
  const scrape = async () => (await request(t.stack.app.metricsUrl as string)).body.text();
  /**
   * The page's series but the runtime's own (prom-client's default metrics, `nodejs_` and `process_`: their label sets
   * follow the process's handles, `nodejs_active_resources{type="ShutdownWrap"}` once a socket has shut down).
   */
  const seriesCount = (page: string) =>
    page.split("\n").filter((l) => l !== "" && !l.startsWith("#") && !/^(?:nodejs|process)_/.test(l)).length;

  /** One request per place, each carrying the PII-shaped values and `unique`; the unique strings sent. */
  async function round(requests: number): Promise<string[]> {
    const sent: string[] = [];
    for (let i = 0; i < requests; i++) {
      const unique = `u${randomBytes(6).toString("hex")}`;
      sent.push(unique);
      const name = `Op_${MOBILE}_${AADHAAR}_${unique}`;
      const shaped = `${MOBILE} ${AADHAAR} ${unique}`;
      await t.gql(`query ${name} { a${MOBILE}${unique}: __typename }`, undefined, {
        "x-request-id": `${MOBILE}-${unique}`,
        traceparent: `00-${AADHAAR}${AADHAAR}00000000-${MOBILE}000000-01`,
        origin: `https://${MOBILE}.${unique}.example`,
        "user-agent": shaped,
        "x-forwarded-for": `${MOBILE}, 10.0.0.${i % 250}`,
      });
      await request(t.graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: `query ${name} { __typename }`, operationName: name }),
      }).then((r) => r.body.text());
      const get = `?query=${encodeURIComponent(`query ${name} { __typename }`)}&operationName=${name}`;
      await request(`${t.graphqlUrl}${get}`, { headers: { "apollo-require-preflight": "1" } }).then((r) =>
        r.body.text(),
      );
      // A variable (refused as input, nothing sent), with an Idempotency-Key of the client's choosing.
      await t.gql(RESEND_AEPS_OTP, aepsInput(`${MOBILE}1`), { "idempotency-key": `${MOBILE}-${unique}` });
      for (const headers of [
        { "x-api-key": `${MOBILE}${unique}` },
        { authorization: `Bearer ${MOBILE}.${unique}.x` },
        { "content-type": `application/${MOBILE}${unique}` },
        { accept: `application/${MOBILE}${unique}` },
      ])
        await request(t.graphqlUrl, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ query: "{ __typename }" }),
        }).then((r) => r.body.text());
      await request(`${t.baseUrl}/graphql/${MOBILE}/${unique}?${AADHAAR}=${unique}`).then((r) => r.body.text());
    }
    return sent;
  }

  it("the page holds none of the values, and a second round of new values adds no series", async () => {
    const first = await round(5);
    const afterFirst = await scrape();
    const second = await round(5);
    const afterSecond = await scrape();
    for (const page of [afterFirst, afterSecond]) {
      expect(page).not.toContain(MOBILE);
      expect(page).not.toContain(AADHAAR);
      expect([...first, ...second].filter((unique) => page.includes(unique))).toEqual([]);
    }
    expect(seriesCount(afterSecond)).toBe(seriesCount(afterFirst));
    // The requests were served and refused as meant: the check is not vacuous.
    expect(afterSecond).toMatch(/^graphql_operation_duration_seconds_count\{operation="other",[^}]*\} [1-9]/m);
    expect(afterSecond).toMatch(/^http_requests_refused_total\{status="401",code="UNAUTHENTICATED"\} [1-9]/m);
    expect(afterSecond).toMatch(/^http_requests_refused_total\{status="404",code="NOT_FOUND"\} [1-9]/m);
  });
});
