import { type Answer, sendRaw } from "../helpers/raw-http";
import { startTestStack, type TestStack } from "../helpers/stack";

/**
 * Odd spellings of a request target, sent on raw sockets to a real server: a GraphQL GET's parameters are read once,
 * as the router splits them (routed-path.ts routedSearch), by the checks before GraphQL and by Apollo alike; and no
 * answer or log line repeats a value from a path or query string (a mobile number), on either listener.
 */

/** A mobile number as a caller's query string would carry it: it must appear in no answer and no line. */
const MOBILE = "9876501234";
const UNTRUSTED = encodeURIComponent("{ __typename }");
const LONG = encodeURIComponent(`query Q${"x".repeat(120)} { __typename }`);
const VARIABLES = encodeURIComponent(JSON.stringify({ mobile: MOBILE }));

/** A GET with Apollo's CSRF preflight header (a plain GET is refused before its parameters are read). */
const get = (base: string, target: string) =>
  sendRaw(base, `GET ${target} HTTP/1.1\r\nHost: x\r\napollo-require-preflight: 1`);

describe("a GraphQL GET's parameters: the ones the checks read are the ones Apollo runs", () => {
  let enforced: TestStack;
  let limited: TestStack;
  beforeAll(async () => {
    enforced = await startTestStack({ NODE_ENV: "development", TRUSTED_DOCUMENTS: "enforce" });
    limited = await startTestStack({ NODE_ENV: "development", GRAPHQL_MAX_QUERY_CHARS: "100" });
  });
  afterAll(async () => {
    await enforced?.stop();
    await limited?.stop();
  });

  // `#` ends the router's path, and what follows it is the query string Fastify parses (find-my-way): `#?query=` is a
  // parameter named `?query`, no document. Apollo read from the first `?`, and ran the document no check had seen.
  const spellings = (query: string) => [
    `/graphql?query=${query}&variables=${VARIABLES}`,
    `/graphql#?query=${query}&variables=${VARIABLES}`,
    `/graphql#x?query=${query}&variables=${VARIABLES}`,
    `/graphql#?&query=${query}`,
    `/graphql?query=${query}#fragment`,
    `/graphql?%71uery=${query}`,
    `http://host/graphql?query=${query}`,
    `/graphq%6c?query=${query}`,
  ];

  /** Every spelling's answer: none runs the document (200 with data), each a 400 with an error body. */
  async function expectNoneRuns(t: TestStack, query: string): Promise<Answer[]> {
    const answers = [];
    for (const target of spellings(query)) answers.push({ target, answer: await get(t.baseUrl, target) });
    expect(answers.filter((a) => a.answer.status !== 400 || a.answer.text.includes('"data"'))).toEqual([]);
    // Nor does any answer or line repeat the mobile number of its variables.
    expect(answers.filter((a) => a.answer.text.includes(MOBILE))).toEqual([]);
    expect(t.logs.raw()).not.toContain(MOBILE);
    return answers.map((a) => a.answer);
  }

  it("TRUSTED_DOCUMENTS=enforce: an untrusted document is run by no spelling (before: `#?query=` ran it)", async () => {
    const answers = await expectNoneRuns(enforced, UNTRUSTED);
    expect(answers[0].text).toContain("UNTRUSTED_DOCUMENT");
  });

  it("GRAPHQL_MAX_QUERY_CHARS: a document over it is run by no spelling (before: `#?query=` ran it)", async () => {
    const answers = await expectNoneRuns(limited, LONG);
    expect(answers[0].text).toMatch(/Query is too large/);
  });
});
