import { request } from "undici";
import { startTestStack, type TestStack } from "../helpers/stack";
import { seeded } from "../helpers/throttle";
import { documentId, listWith } from "../helpers/trusted-list";

/**
 * A GraphQL POST's body and headers, each read by more than one parser: Fastify's JSON parser or the thin route's
 * (secure-json-parse, both), the checks before GraphQL (exchange.ts documentRefusal), the fast path
 * (accepted-documents.ts match) and Apollo Server (runHttpQuery.js), the Content-Type by Fastify's content-type
 * parser, representation.ts and Apollo's CSRF prevention (whatwg-mimetype). Every reader after the parser reads the
 * one object it made, so they cannot part on a duplicate key, a `\u0071uery` spelling or a batch; these generated
 * bodies check it on real servers under TRUSTED_DOCUMENTS=enforce: a listed document runs when the body names it as
 * Apollo reads it (JSON.parse: the last of a duplicate key), an unlisted one never runs, and the thin route and
 * Fastify's answer alike.
 */

/** Listed: its answer is `{"a":"Query"}`. Unlisted: `{"b":"Query"}`, which no answer may carry. */
const LISTED = "{a:__typename}";
const UNLISTED = "{b:__typename}";
const LISTED_ID = documentId(LISTED);
const UNLISTED_ID = documentId(UNLISTED);

/** Members of a body, as JSON text: duplicates, escaped names, ids, the keys secure-json-parse refuses. */
const MEMBERS = [
  `"query":${JSON.stringify(LISTED)}`,
  `"query":${JSON.stringify(UNLISTED)}`,
  `"\\u0071uery":${JSON.stringify(UNLISTED)}`,
  `"\\u0071uery":${JSON.stringify(LISTED)}`,
  `"query":"{\\u0061:__typename}"`,
  `"query":""`,
  `"query":null`,
  `"query":["${LISTED}"]`,
  `"extensions":{"persistedQuery":{"version":1,"sha256Hash":"${LISTED_ID}"}}`,
  `"extensions":{"persistedQuery":{"version":1,"sha256Hash":"${UNLISTED_ID}"}}`,
  `"extensions":{"persistedQuery":{"version":1,"sha256Hash":"${UNLISTED_ID}","sha256Hash":"${LISTED_ID}"}}`,
  `"__proto__":{"query":${JSON.stringify(LISTED)}}`,
  `"constructor":{"prototype":{"query":${JSON.stringify(LISTED)}}}`,
  `"operationName":null`,
  `"variables":{}`,
];

/** JSON Content-Type spellings: the thin route takes five exactly, Fastify the others it parses as JSON. */
const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "Application/JSON",
  'application/json; charset="UTF-8"',
  "application/json ; charset=utf8",
  "application/json; charset=utf-8; charset=latin1",
];
/**
 * Content-Types under which no document runs: the types a browser sends without a preflight (Apollo's CSRF
 * prevention refuses them whatever Fastify made of the body), and others Fastify parses no body for (its 415).
 */
const NOT_JSON = [
  "text/plain",
  "text/plain; charset=utf-8",
  "TEXT/PLAIN;application/json",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/jsonx",
  "application/json-seq",
  "application/graphql-response+json",
  "json",
];

/** What Apollo runs for `body`, read as Fastify's parser and Apollo read it: "a", or null (refused or nothing). */
function expected(body: string): "a" | null {
  // secure-json-parse (Fastify's and the thin route's): a leading BOM dropped, `__proto__` and `constructor` refused.
  const json = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  if (/"(__proto__|constructor)"/.test(json)) return null;
  const parsed = JSON.parse(json) as unknown;
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
  const { query, extensions } = parsed as {
    query?: unknown;
    extensions?: { persistedQuery?: { sha256Hash?: unknown } };
  };
  // runHttpQuery.js: a query neither a string nor falsy is refused; fieldIfString reads any other as absent.
  if (query && typeof query !== "string") return null;
  const text = typeof query === "string" ? query : undefined;
  // requestPipeline.js: with a persistedQuery, no text is a lookup by id, a text ("" too) must hash to the id.
  const persisted = extensions?.persistedQuery;
  if (persisted) return persisted.sha256Hash === LISTED_ID && (text === undefined || text === LISTED) ? "a" : null;
  return text === LISTED ? "a" : null;
}

describe("a GraphQL POST's body: every reader reads the one parse, and only a listed document runs", () => {
  let thin: TestStack;
  let fastify: TestStack;
  beforeAll(async () => {
    const env = { NODE_ENV: "development", TRUSTED_DOCUMENTS: "enforce" };
    thin = await startTestStack(env, { trustedDocuments: listWith([LISTED]) });
    fastify = await startTestStack(env, { trustedDocuments: listWith([LISTED]), thinGraphQLRoute: false });
  });
  afterAll(async () => {
    await thin?.stop();
    await fastify?.stop();
  });

  async function post(t: TestStack, contentType: string, body: string) {
    const res = await request(t.graphqlUrl, { method: "POST", headers: { "content-type": contentType }, body });
    const text = await res.body.text();
    return { status: res.statusCode, ran: /"data":\{"a":"Query"\}/.test(text), unlisted: text.includes('"b":') };
  }

  it("generated bodies (duplicate keys, escapes, ids, __proto__, batches, BOM): as Apollo reads them", async () => {
    const random = seeded(5);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
    const wrong = [];
    let ran = 0;
    for (let i = 0; i < 160; i++) {
      const members = Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(MEMBERS));
      let body = `{${members.join(",")}}`;
      if (random() < 0.1) body = `[${body}]`;
      if (random() < 0.1) body = `\uFEFF${body}`;
      const json = random() < 0.8;
      const contentType = json ? pick(CONTENT_TYPES) : pick(NOT_JSON);
      const want = json ? expected(body) : null;
      const [a, b] = [await post(thin, contentType, body), await post(fastify, contentType, body)];
      if (a.ran) ran++;
      if (a.ran !== (want === "a") || a.unlisted || b.unlisted || a.status !== b.status || a.ran !== b.ran)
        wrong.push({ body, contentType, want, thin: a, fastify: b });
    }
    expect(wrong).toEqual([]);
    // Both outcomes are seen: the bodies are no test of one side alone.
    expect(ran).toBeGreaterThan(20);
    expect(ran).toBeLessThan(140);
  });

  it("each Content-Type, a listed document: JSON spellings run it on both routes, no other", async () => {
    const body = JSON.stringify({ query: LISTED });
    const answers = [];
    for (const contentType of [...CONTENT_TYPES, ...NOT_JSON])
      for (const t of [thin, fastify]) answers.push({ contentType, ran: (await post(t, contentType, body)).ran });
    expect(answers).toEqual(
      [...CONTENT_TYPES, ...NOT_JSON].flatMap((c) => Array(2).fill({ contentType: c, ran: CONTENT_TYPES.includes(c) })),
    );
  });
});
