import type { GraphQLRequestContextExecutionDidStart } from "@apollo/server";
import { buildSchema, getOperationAST, parse } from "graphql";
import { AcceptedDocuments } from "../../../src/graphql/accepted-documents";
import { apolloOptions } from "../../../src/graphql/apollo-options";
import { trustedDocumentList } from "../../../src/graphql/trusted-documents";
import { loadConfig } from "../../../src/config";
import { createLogger } from "../../../src/logging/logger";
import { LogCapture } from "../../helpers/log-capture";
import { Scrubber } from "../../../src/pii/scrub";

const schema = buildSchema("type Query { a: Int, b: Int }");
const ID = "f".repeat(64);
const TRUSTED_TEXT = "query T { a }";

/** What Apollo's executionDidStart hook sees for a request it accepted. */
function accepted(
  request: { query?: string; operationName?: string | null; extensions?: Record<string, unknown> },
  source = request.query ?? "",
): GraphQLRequestContextExecutionDidStart<object> {
  const document = parse(source);
  const operation = getOperationAST(document, request.operationName ?? undefined);
  return {
    request,
    source,
    document,
    operation,
    operationName: operation?.name?.value ?? null,
    schema,
  } as unknown as GraphQLRequestContextExecutionDidStart<object>;
}

describe("AcceptedDocuments: documents Apollo accepted, for the fast path", () => {
  const trusted = new Map([[ID, TRUSTED_TEXT]]);

  it("finds a document sent in full by its exact text and operation name", () => {
    const docs = new AcceptedDocuments(trusted);
    docs.remember(accepted({ query: "query A { a }", operationName: "A" }));
    expect(docs.match({ query: "query A { a }", operationName: "A", variables: { x: 1 } })).toMatchObject({
      accepted: { operationName: "A", requestedName: "A" },
      variables: { x: 1 },
    });
    // Another name (or none) is another request to Apollo: it may resolve another operation, or none.
    expect(docs.match({ query: "query A { a }" })).toBeUndefined();
    expect(docs.match({ query: "query A { a }", operationName: "" })).toBeUndefined();
    expect(docs.match({ query: "query A { a } " })).toBeUndefined();
  });

  it("treats a null operationName and variables as absent, as Apollo does", () => {
    const docs = new AcceptedDocuments(trusted);
    docs.remember(accepted({ query: "{ a }" }));
    expect(docs.match({ query: "{ a }", operationName: null, variables: null })).toMatchObject({
      accepted: { operationName: null, requestedName: undefined },
      variables: undefined,
    });
  });

  it("answers only the common shape of a POST body", () => {
    const docs = new AcceptedDocuments(trusted);
    docs.remember(accepted({ query: "{ a }" }));
    for (const body of [
      null,
      "{ a }",
      [{ query: "{ a }" }],
      { query: "{ a }", extra: 1 },
      { query: "{ a }", variables: "{}" },
      { query: "{ a }", variables: [] },
      { query: "{ a }", operationName: 1 },
      { query: "{ a }", extensions: {} },
      { query: "" },
    ]) {
      expect(docs.match(body)).toBeUndefined();
    }
  });

  it("keeps a persisted query only under a trusted id, sent alone", () => {
    const docs = new AcceptedDocuments(trusted);
    const byId = { persistedQuery: { version: 1, sha256Hash: ID } };
    docs.remember(accepted({ extensions: byId, operationName: "T" }, TRUSTED_TEXT));
    expect(docs.match({ extensions: byId, operationName: "T" })).toMatchObject({ accepted: { operationName: "T" } });
    // Not under its text (that request was never made), nor with other extension shapes.
    expect(docs.match({ query: TRUSTED_TEXT, operationName: "T" })).toBeUndefined();
    expect(docs.match({ extensions: { persistedQuery: { version: 2, sha256Hash: ID } }, operationName: "T" })).toBe(
      undefined,
    );
    expect(docs.match({ extensions: { ...byId, clientLibrary: { name: "x" } }, operationName: "T" })).toBeUndefined();
    expect(docs.match({ query: TRUSTED_TEXT, extensions: byId, operationName: "T" })).toBeUndefined();

    // An id registered by APQ (off mode) can leave Apollo's cache: never kept. Nor a registration (text and id).
    const other = "a".repeat(64);
    docs.remember(accepted({ extensions: { persistedQuery: { version: 1, sha256Hash: other } } }, "{ b }"));
    docs.remember(
      accepted({ query: "{ b }", extensions: { persistedQuery: { version: 1, sha256Hash: other } } }, "{ b }"),
    );
    expect(docs.match({ extensions: { persistedQuery: { version: 1, sha256Hash: other } } })).toBeUndefined();
    expect(docs.size).toBe(1);
  });

  it("keeps nothing Apollo did not resolve an operation for", () => {
    const docs = new AcceptedDocuments(trusted);
    docs.remember(accepted({ query: "query A { a }", operationName: "B" }));
    expect(docs.size).toBe(0);
  });

  it("is bounded by count and by characters, oldest first out", () => {
    const docs = new AcceptedDocuments(trusted, { maxEntries: 3, maxChars: 40 });
    for (const q of ["{ a }", "{ b }", "{ a b }", "{ b a }"]) docs.remember(accepted({ query: q }));
    expect(docs.size).toBe(3);
    expect(docs.match({ query: "{ a }" })).toBeUndefined();
    expect(docs.match({ query: "{ b a }" })).toBeDefined();
    const long = `{ a ${" ".repeat(30)}}`;
    docs.remember(accepted({ query: long }));
    expect(docs.match({ query: long })).toBeDefined();
    expect(docs.size).toBeLessThanOrEqual(2);
    // Larger than the whole budget: never kept.
    docs.remember(accepted({ query: `{ a ${" ".repeat(40)}}` }));
    expect(docs.match({ query: long })).toBeDefined();
  });

  // The text is found by its length then `===` (no hash of the fresh request string), falling back to the hash past
  // eight kept texts of one length: the same answers as a plain Map of texts, whatever the lengths and evictions.
  it("finds texts of one length as a Map of texts would, across evictions", () => {
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    // 30 texts of one length (ids 10 to 39), 10 of another, a few never kept; a text fresh on each request.
    const texts = [
      ...Array.from({ length: 30 }, (_, i) => `query Q${i + 10} { a }`),
      ...Array.from({ length: 10 }, (_, i) => `query Q${i + 10} { a b }`),
    ];
    const unknown = ["query Q99 { a }", "query Q10 { b }", "query Q10 { a b a }"];
    for (const maxEntries of [3, 9, 20, 64]) {
      const docs = new AcceptedDocuments(trusted, { maxEntries, maxChars: 1 << 20 });
      const model: string[] = []; // "text\u0000name", oldest first
      for (let step = 0; step < 2000; step++) {
        const text = texts[random(texts.length)]!;
        const name = random(2) === 0 ? undefined : /Q\d+/.exec(text)![0];
        const key = `${text}\u0000${name ?? ""}`;
        if (random(3) === 0) {
          docs.remember(accepted({ query: text, operationName: name }));
          if (!model.includes(key)) {
            if (model.length >= maxEntries) model.shift();
            model.push(key);
          }
        }
        const probe = random(10) === 0 ? unknown[random(unknown.length)]! : text;
        const fresh = [...probe].join(""); // not the kept string object
        const found = docs.match({ query: fresh, operationName: name });
        expect([probe, name, found !== undefined]).toEqual([
          probe,
          name,
          model.includes(`${probe}\u0000${name ?? ""}`),
        ]);
        if (found) expect(found.accepted.requestedName).toBe(name);
      }
      expect(docs.size).toBe(model.length);
    }
  });
});

describe("apolloOptions: the fast path", () => {
  const deps = {
    scrubber: new Scrubber([]),
    metrics: null,
    trustedDocuments: trustedDocumentList(),
    explorerPath: "/graphiql",
    log: createLogger({ level: "fatal", destination: new LogCapture() }),
  };

  it("is on by default", async () => {
    expect((await apolloOptions(loadConfig({ NODE_ENV: "test" }), deps)).fastPath).not.toBeNull();
  });

  it("stays on when traces are exported, beside the tracing plugin (both make spans: test/e2e/telemetry.test.ts)", async () => {
    const config = loadConfig({ NODE_ENV: "test", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" });
    expect(config.telemetry.enabled).toBe(true);
    const off = await apolloOptions(loadConfig({ NODE_ENV: "test" }), deps);
    const on = await apolloOptions(config, deps);
    expect(on.fastPath).not.toBeNull();
    expect(on.options.plugins?.length).toBe((off.options.plugins?.length ?? 0) + 1);
  });
});
