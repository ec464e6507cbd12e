import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildSchema,
  getVariableValues,
  type GraphQLSchema,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  Kind,
  NoUnusedFragmentsRule,
  type OperationDefinitionNode,
  parse,
  specifiedRules,
  validate,
} from "graphql";
import { FOLLOWED_PAGES, inlineCodeSpans, markdownFiles } from "../../helpers/doc-citations";

const ROOT = join(__dirname, "../../..");
const read = (rel: string) => readFileSync(join(ROOT, rel), "utf8");

/** A GraphQL document a page shows, with the variables it sends it with when it says. */
interface Shown {
  where: string;
  document: string;
  variables?: Record<string, unknown>;
  /** A selection shown alone (`... on Failure { code }`): checked as a fragment on its type. */
  fragment?: boolean;
}

const lineOf = (text: string, index: number) => `${text.slice(0, index).split("\n").length}`;

/** ```graphql blocks, in every Markdown page (docs/api.md's are followed by their `Variables:`). */
function graphqlBlocks(page: string, text: string): Shown[] {
  const found = [...text.matchAll(/```graphql\n([\s\S]*?)```/g)];
  return found.map((m, i) => {
    const after = text.slice(m.index + m[0].length, found[i + 1]?.index ?? text.length);
    const variables = /^\s*Variables: `(\{[^`]*\})`/.exec(after)?.[1];
    return {
      where: `${page}:${lineOf(text, m.index)}`,
      document: m[1],
      variables: variables === undefined ? undefined : (JSON.parse(variables) as Record<string, unknown>),
    };
  });
}

/**
 * Operations and selections written inline in a page a reader follows: `query { cibilCreditHistory(...) { ... } }`,
 * `... on Failure { code message ... on OtpThrottled { retryAfterSeconds } }`. Only in those pages:
 * docs/security.md and the requirements quote refused documents on purpose (`mutation { ...F0 }`).
 */
function inlineDocuments(page: string, text: string): Shown[] {
  const out: Shown[] = [];
  for (const { text: span, index } of inlineCodeSpans(text)) {
    const where = `${page}:${lineOf(text, index)}`;
    if (/^(?:query|mutation)\b[^{]*\{[\s\S]*\}$/.test(span)) out.push({ where, document: span });
    else if (/^\.\.\. on [A-Z]\w*\s*\{[\s\S]*\}$/.test(span)) out.push({ where, document: span, fragment: true });
  }
  return out;
}

/** docs/requests.http: each POST's JSON body, each GET's `query` and `variables` (`{{name}}` read as a string). */
function httpFileDocuments(page: string, text: string): Shown[] {
  const out: Shown[] = [];
  const filled = (s: string) => s.replace(/\{\{\s*[\w-]+\s*\}\}/g, "placeholder");
  const parts = text.split(/^###(.*)$/m);
  for (let i = 1; i < parts.length; i += 2) {
    const block = parts[i + 1];
    const where = `${page}: request "${parts[i].trim().slice(0, 40)}"`;
    const get = /^GET \S+?\?(\S+)$/m.exec(block);
    const body = /^\{[\s\S]*\}\s*$/m.exec(block.slice(block.search(/^\{/m)));
    if (get) {
      const params = new URLSearchParams(filled(get[1]));
      const variables = params.get("variables");
      out.push({
        where,
        document: params.get("query") ?? "",
        variables: variables === null ? undefined : (JSON.parse(variables) as Record<string, unknown>),
      });
    } else if (body && block.search(/^\{/m) >= 0) {
      const json = JSON.parse(filled(body[0])) as { query: string; variables?: Record<string, unknown> };
      out.push({ where, document: json.query, variables: json.variables });
    }
  }
  return out;
}

/**
 * docs/walkthrough.md's curl commands, joined as the shell joins them (`'\` at a line's end, `'` at the next one's
 * start): each `-d` JSON body, each `--data-urlencode` query and variables, each URL's `?query=`.
 */
function curlDocuments(page: string, text: string): Shown[] {
  const out: Shown[] = [];
  for (const m of text.matchAll(/```sh\n(curl [\s\S]*?)```/g)) {
    const where = `${page}:${lineOf(text, m.index)}`;
    const command = m[1].replace(/'\\\n'/g, "").replace(/\\\n/g, " ");
    const data = /-d '([^']*)'/.exec(command)?.[1];
    const query = /--data-urlencode 'query=([^']*)'/.exec(command)?.[1];
    const variables = /--data-urlencode 'variables=([^']*)'/.exec(command)?.[1];
    const url = /'https?:\/\/[^'?]*\?([^']*)'/.exec(command)?.[1];
    if (data !== undefined) {
      const json = JSON.parse(data) as { query: string; variables?: Record<string, unknown> };
      out.push({ where, document: json.query, variables: json.variables });
    } else if (query !== undefined) {
      const vars = variables === undefined ? undefined : (JSON.parse(variables) as Record<string, unknown>);
      out.push({ where, document: query, variables: vars });
    } else if (url !== undefined) out.push({ where, document: new URLSearchParams(url).get("query") ?? "" });
  }
  return out;
}

/** Every GraphQL document a page shows (a block may hold several operations, pasted one by one in Sandbox). */
function shownDocuments(page: string, text: string, followed: boolean): Shown[] {
  const shown = page.endsWith(".http") ? httpFileDocuments(page, text) : graphqlBlocks(page, text);
  if (followed && page.endsWith(".md")) shown.push(...inlineDocuments(page, text), ...curlDocuments(page, text));
  return shown;
}

const RULES = specifiedRules.filter((r) => r !== NoUnusedFragmentsRule);

/** What is wrong with one shown document against the schema: its syntax, its fields and types, its variables. */
function problemsOf(schema: GraphQLSchema, shown: Shown): string[] {
  const source = shown.fragment ? shown.document.replace(/^\.\.\. on /, "fragment Shown on ") : shown.document;
  let document;
  try {
    document = parse(source);
  } catch (e) {
    return [`${shown.where}: does not parse: ${(e as Error).message}`];
  }
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const others = document.definitions.filter((d) => d.kind !== Kind.OPERATION_DEFINITION);
  // Several operations in one block are pasted one at a time (docs/walkthrough.md's AEPS block): each with the
  // fragments.
  const parts =
    operations.length > 1 ? operations.map((o) => ({ ...document, definitions: [o, ...others] })) : [document];
  const problems: string[] = [];
  for (const part of parts) {
    for (const e of validate(schema, part, RULES)) problems.push(`${shown.where}: ${e.message}`);
    const operation = part.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    if (operation && shown.variables !== undefined && problems.length === 0) {
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], shown.variables);
      for (const e of coerced.errors ?? []) problems.push(`${shown.where}: variables: ${e.message}`);
    }
  }
  return problems;
}

/** `Type.field` as a page names it in code (`OtpThrottled.retryAfterSeconds`): the type's field must exist. */
function fieldReferenceProblems(schema: GraphQLSchema, page: string, text: string): string[] {
  const problems: string[] = [];
  for (const { text: span, index } of inlineCodeSpans(text)) {
    for (const m of span.matchAll(/\b([A-Z][A-Za-z]+)\.([a-z][A-Za-z]*)\b(?![.(/-])/g)) {
      const type = schema.getType(m[1]);
      if (!type || !(isObjectType(type) || isInterfaceType(type) || isInputObjectType(type))) continue;
      // A file named after a type (`CibilNextStep.tsx`) is not a field.
      if (/^(?:tsx?|jsx?|graphql|md)$/.test(m[2])) continue;
      if (!(m[2] in type.getFields()))
        problems.push(`${page}:${lineOf(text, index)}: ${m[0]}: ${m[1]} has no such field`);
    }
  }
  return problems;
}

const schema = buildSchema(read("schema/schema.graphql"));
const PAGES = [...markdownFiles(ROOT), "docs/requests.http"];

/**
 * Every GraphQL document the pages show a reader, checked against schema/schema.graphql without a server: it parses,
 * selects only fields and types that exist, and its variables, where the page gives them, fit the operation's. The
 * e2e tests run docs/api.md's, docs/walkthrough.md's and docs/requests.http's against a server, in a minute; this
 * names a renamed field or input in a second, on every page, inline operations and fragments too.
 */
describe("the GraphQL the pages show is valid against schema/schema.graphql", () => {
  const shown = PAGES.flatMap((page) => shownDocuments(page, read(page), FOLLOWED_PAGES.includes(page)));

  it("finds the documents (not vacuous)", () => {
    const count = (page: string) => shown.filter((s) => s.where.startsWith(page)).length;
    expect(count("docs/walkthrough.md")).toBeGreaterThanOrEqual(13);
    expect(count("docs/requests.http")).toBe(7);
    expect(shown.filter((s) => s.fragment).length).toBeGreaterThanOrEqual(1);
    expect(shown.filter((s) => s.variables !== undefined).length).toBeGreaterThanOrEqual(14);
  });

  it.each(PAGES)("%s", (page) => {
    const problems = shownDocuments(page, read(page), FOLLOWED_PAGES.includes(page)).flatMap((s) =>
      problemsOf(schema, s),
    );
    if (FOLLOWED_PAGES.includes(page)) problems.push(...fieldReferenceProblems(schema, page, read(page)));
    expect(problems).toEqual([]);
  });
});

/** The check on planted drift: each kind must be reported, with its place (a scratch text under README.md's name). */
describe("the GraphQL check itself", () => {
  const problems = (page: string, text: string) => [
    ...shownDocuments(page, text, true).flatMap((s) => problemsOf(schema, s)),
    ...fieldReferenceProblems(schema, page, text),
  ];

  it("accepts what the schema has", () => {
    const page =
      "Read it: `query { serviceInfo { upstream } }`, select `... on Failure { code message }`, and\n" +
      "`OtpThrottled.retryAfterSeconds`, `CibilNextStep.tsx`.\n";
    expect(problems("README.md", page)).toEqual([]);
  });

  it("names a misspelt field in a block, a wrong type in an inline fragment, a field a type lacks", () => {
    const page =
      '```graphql\nmutation { generateCibilOtp(input: { cibilId: "1", accessToken: "t" }) { __typename\n' +
      "  ... on CibilOtpChallenge { resendAvailableInSecond } } }\n```\n\n" +
      "Select `... on Failure { code retryAfterSeconds }` and read `OtpThrottled.retryAfter`.\n";
    const found = problems("README.md", page);
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/^README\.md:1: Cannot query field "resendAvailableInSecond" on type "CibilOtpChallenge"/);
    expect(found[1]).toMatch(/^README\.md:6: Cannot query field "retryAfterSeconds" on type "Failure"/);
    expect(found[2]).toBe("README.md:6: OtpThrottled.retryAfter: OtpThrottled has no such field");
  });

  it("names variables that do not fit: docs/api.md's `Variables:`, a curl body, a requests.http body", () => {
    const op = "mutation R($input: ResendAepsOtpInput!) { resendAepsOtp(input: $input) { __typename } }";
    const md =
      "```graphql\n" +
      op +
      '\n```\n\nVariables: `{ "input": { "userKey": "K", "mobile": "9876543220", "aadhar": "1" } }`. Result:\n\n' +
      "```sh\ncurl -s http://localhost:4000/graphql -H 'content-type: application/json' -d '{\n" +
      `  "query": "mutation G($input: GenerateCibilOtpInput!) {'\\\n'` +
      `    generateCibilOtp(input: $input) { __typename } }",\n` +
      '  "variables": { "input": { "cibilId": "<cibilId>" } }\n}\'\n```\n';
    const found = problems("README.md", md);
    expect(found.join("\n")).toMatch(/README\.md:1: variables: .*"aadhar" is not defined by type "ResendAepsOtpInput"/);
    expect(found.join("\n")).toMatch(
      /README\.md:7: variables: .*"accessToken" of required type "String!" was not provided/,
    );
    const http =
      "@host = http://localhost:4000\n\n### 1. send\nPOST {{host}}/graphql\nContent-Type: application/json\n\n" +
      JSON.stringify({
        query: op,
        variables: { input: { userKey: "{{k}}", mobil: "1", aadhaar: "2", primaryKeyId: "p", encodeTxnId: "e" } },
      }) +
      "\n\n### 2. read\nGET {{host}}/graphql?query=%7B%20serviceInf%20%7D\n";
    const fromHttp = shownDocuments("x.http", http, true).flatMap((s) => problemsOf(schema, s));
    expect(fromHttp.join("\n")).toMatch(/^x\.http: request "1\. send": variables: .*"mobil" is not defined/m);
    expect(fromHttp.join("\n")).toMatch(
      /^x\.http: request "2\. read": Cannot query field "serviceInf" on type "Query"/m,
    );
  });
});
