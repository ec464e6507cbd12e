import { type Answer, sendRaw } from "../helpers/raw-http";
import { startTestStack, type TestStack } from "../helpers/stack";
import { seeded } from "../helpers/throttle";
import { documentId, listWith } from "../helpers/trusted-list";

/**
 * Odd spellings of a request target, sent on raw sockets to a real server: a GraphQL GET's parameters are read once,
 * as the router splits them (routed-path.ts routedSearch) and decoded as Apollo decodes them (get-parameters.ts), by
 * the checks before GraphQL and by Apollo alike; and no answer or log line repeats a value from a path or query string
 * (a mobile number), on either listener.
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

/**
 * A listed text with literal `%` escapes in it: a GET sending it as it is (`%41` left raw, a malformed `%zz` after
 * it) was admitted by the checks, which read Fastify's `request.query` (a value with a malformed escape kept whole),
 * while Apollo decoded `%41` and ran `{__typename}#A%zz`, a document on no list.
 */
const PERCENT = "{__typename}#%41%zz";
/** Listed texts a GET can send only with escapes the two readers read otherwise (é, U+FFFD, `%` before `zz`). */
const ACCENT = "{__typename}#é%zz";
const REPLACED = "{__typename}#\uFFFD";
const LISTED = [PERCENT, ACCENT, REPLACED];

/** Characters spelled as they are in a generated target (the rest percent-encoded): none the query string splits on. */
const KEPT = /^[A-Za-z0-9_{}#;:.,!*'()~$@/?-]$/;
/** Pieces appended to a document (after its `#`, a comment): malformed escapes, `+`, `;`, unicode, `%` itself. */
const TAILS = ["%zz", "%E0%A4", "%41", "%2541", "%", "%2", "+", ";", "%C3%A9", "%F0%9F%98%80", "%EF%BB%BF", "%25", "x"];
/** Parameters beside `query`: repeated or odd names, none of them one Apollo reads unless it is `query` again. */
const EXTRAS = ["__proto__=x", "=x", "%EF%BB%BFquery=x", ";query=x", "a=1;query=x", "query%20=x", "variables=%7B%7D"];

/** A random spelling of `text` as a query-string value: each character kept, percent-encoded, `%` raw or `%25`. */
function spell(text: string, random: () => number): string {
  let out = "";
  for (const c of text) {
    if (c === "%") out += random() < 0.5 ? "%" : "%25";
    else if (KEPT.test(c) && random() < 0.6) out += c;
    else out += encodeURIComponent(c).replace(/[!'()*~]/g, (x) => `%${x.charCodeAt(0).toString(16).toUpperCase()}`);
  }
  return out;
}

/** A GET target: `query` (its name spelled oddly at times), a document's spelling, tails, and odd parameters. */
function target(document: string, random: () => number, tails: number): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  let value = spell(document, random);
  for (let i = 0; i < tails; i++) value += pick(TAILS);
  const parameters = [`${pick(["query", "query", "qu%65ry", "%71uery"])}=${value}`];
  if (random() < 0.4) parameters.push(pick(EXTRAS));
  if (random() < 0.1) parameters.push(`query=${spell(document, random)}`);
  if (random() < 0.3) parameters.reverse();
  return `/graphql?${parameters.join("&")}`;
}

/** The document Apollo runs for `target`: its parameters read by URLSearchParams (runHttpQuery.js), null if refused. */
function runs(target: string): string | null {
  const parameters = new URLSearchParams(target.slice(target.indexOf("?")));
  const [queries, extensions] = [parameters.getAll("query"), parameters.getAll("extensions")];
  if (queries.length > 1 || extensions.length > 1) return null;
  const text = queries.at(0);
  if (extensions.length === 0) return text ?? null;
  // requestPipeline.js: an id without a text is looked up (on the list alone, under enforce); with one, it must be
  // the text's SHA-256.
  let id: unknown;
  try {
    id = (JSON.parse(extensions[0]) as { persistedQuery?: { sha256Hash?: unknown } }).persistedQuery?.sha256Hash;
  } catch {
    return null;
  }
  if (text === undefined) return LISTED.find((listed) => documentId(listed) === id) ?? null;
  return documentId(text) === id ? text : null;
}

describe("a GraphQL GET's parameters: generated targets, the checks decide on the document Apollo runs", () => {
  let enforced: TestStack;
  let limited: TestStack;
  const LIMIT = 100;
  beforeAll(async () => {
    enforced = await startTestStack(
      { NODE_ENV: "development", TRUSTED_DOCUMENTS: "enforce" },
      { trustedDocuments: listWith(LISTED) },
    );
    limited = await startTestStack({ NODE_ENV: "development", GRAPHQL_MAX_QUERY_CHARS: String(LIMIT) });
  });
  afterAll(async () => {
    await enforced?.stop();
    await limited?.stop();
  });

  /** Each target's answer against what Apollo would run: the targets whose answer is not the expected one. */
  async function mismatches(t: TestStack, targets: string[], expected: (document: string) => "runs" | RegExp) {
    const wrong = [];
    for (const target of targets) {
      const answer = await get(t.baseUrl, target);
      const document = runs(target);
      // Apollo refuses it (a repeated `query`, an id not the text's), or a check first (an array is no listed text).
      const want = document === null ? /./ : expected(document);
      const ran = answer.status === 200 && answer.text.includes('"__typename":"Query"');
      const ok = want === "runs" ? ran : !ran && answer.status === 400 && want.test(answer.text);
      if (!ok) wrong.push({ target, document, status: answer.status, text: answer.text.slice(0, 200) });
    }
    return wrong;
  }

  /** Under enforce: the listed texts Apollo would run run, and nothing else does; both are among `targets`. */
  async function expectOnlyListedRun(targets: string[]): Promise<void> {
    const listed = new Set(LISTED);
    const wrong = await mismatches(enforced, targets, (d) => (listed.has(d) ? "runs" : /UNTRUSTED_DOCUMENT/));
    expect(wrong).toEqual([]);
    // Both answers are seen: the generated targets are no test of one side alone.
    expect(targets.filter((t) => listed.has(runs(t) ?? "")).length).toBeGreaterThan(20);
    expect(targets.filter((t) => !listed.has(runs(t) ?? "")).length).toBeGreaterThan(20);
  }

  it("TRUSTED_DOCUMENTS=enforce: a listed text runs however spelled, no other does (before: `%41` ran)", async () => {
    const random = seeded(7);
    const targets = [`/graphql?query=${PERCENT}`, `/graphql?query=${PERCENT.replace("%41", "%2541")}`];
    for (let i = 0; i < 150; i++) {
      const document = i % 4 === 0 ? "{__typename}#" : LISTED[i % 3];
      targets.push(target(document, random, i % 4 === 0 ? 1 + (i % 3) : i % 2));
    }
    await expectOnlyListedRun(targets);
  });

  it("TRUSTED_DOCUMENTS=enforce: an id in `extensions`, oddly spelled, with or without a text", async () => {
    const random = seeded(13);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
    const targets = [];
    for (let i = 0; i < 100; i++) {
      const id = documentId(pick([...LISTED, "{__typename}#"]));
      // A member beside persistedQuery whose `%41`, `%zz` each reader decodes its own way (they once did).
      const extensions = `{"persistedQuery":{"version":1,"sha256Hash":"${id}"},"x":"%41%zz"}`;
      const parameters = [`extensions=${spell(extensions, random)}`];
      if (random() < 0.4) parameters.push(`query=${spell(pick([...LISTED, "{__typename}#"]), random)}`);
      if (random() < 0.3) parameters.push(pick(EXTRAS));
      if (random() < 0.1) parameters.push(parameters[0]);
      targets.push(`/graphql?${parameters.join("&")}`);
    }
    await expectOnlyListedRun(targets);
  });

  it("GRAPHQL_MAX_QUERY_CHARS: refused when the text Apollo runs is over it (before: escapes counted)", async () => {
    const random = seeded(11);
    const targets = [];
    for (let i = 0; i < 150; i++) targets.push(target(`{__typename}#${"x".repeat(40 + (i % 50))}`, random, i % 12));
    const wrong = await mismatches(limited, targets, (d) => (d.length > LIMIT ? /Query is too large/ : "runs"));
    expect(wrong).toEqual([]);
    expect(targets.filter((t) => (runs(t) ?? "").length > LIMIT).length).toBeGreaterThan(20);
    expect(targets.filter((t) => (runs(t) ?? "x".repeat(LIMIT + 1)).length <= LIMIT).length).toBeGreaterThan(20);
  });
});
