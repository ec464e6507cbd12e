import { createHash } from "node:crypto";
import { isTrusted, TrustedDocumentCache, trustedDocumentList } from "../../../src/graphql/trusted-documents";

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
const QUERY = "query Plain{a}";
const manifest = (body = QUERY, id = sha256(body)) => ({
  format: "apollo-persisted-query-manifest",
  version: 1,
  operations: [{ id, body }],
});
const byId = (id: string) => ({ persistedQuery: { version: 1, sha256Hash: id } });

describe("trusted-document list", () => {
  it("loads the committed list and refuses an entry whose id is not the SHA-256 of its text", () => {
    expect(trustedDocumentList().byId.size).toBeGreaterThanOrEqual(7);
    expect(trustedDocumentList(manifest()).byId.get(sha256(QUERY))).toBe(QUERY);
    expect(() => trustedDocumentList(manifest(QUERY, sha256("other")))).toThrow(/is not the SHA-256 of its text/);
    expect(() => trustedDocumentList({ ...manifest(), version: 2 })).toThrow(/unsupported manifest/);
  });

  it("admits a listed text or id (POST object or GET JSON string) and nothing else", () => {
    const list = trustedDocumentList(manifest());
    expect(isTrusted(list, { query: QUERY, extensions: undefined })).toBe(true);
    expect(isTrusted(list, { query: `${QUERY} `, extensions: undefined })).toBe(false);
    expect(isTrusted(list, { query: undefined, extensions: byId(sha256(QUERY)) })).toBe(true);
    expect(isTrusted(list, { query: undefined, extensions: JSON.stringify(byId(sha256(QUERY))) })).toBe(true);
    expect(isTrusted(list, { query: undefined, extensions: byId(sha256("{ a }")) })).toBe(false);
    // A listed id does not admit another text: the text decides when both are sent.
    expect(isTrusted(list, { query: "{ a }", extensions: byId(sha256(QUERY)) })).toBe(false);
    // Neither text nor id: left to Apollo, which refuses it with its own message.
    expect(isTrusted(list, { query: undefined, extensions: "not json" })).toBe(true);
  });
});

describe("TrustedDocumentCache (Apollo's persisted-query cache)", () => {
  const list = trustedDocumentList(manifest());

  it("answers listed ids under Apollo's apq: prefix in both modes", async () => {
    for (const mode of ["off", "enforce"] as const) {
      expect(await new TrustedDocumentCache(list, mode).get(`apq:${sha256(QUERY)}`)).toBe(QUERY);
    }
  });

  it("with enforce stores nothing; with off keeps other registrations, oldest dropped past 1,000", async () => {
    const enforce = new TrustedDocumentCache(list, "enforce");
    await enforce.set(`apq:${sha256("{ b }")}`, "{ b }");
    expect(await enforce.get(`apq:${sha256("{ b }")}`)).toBeUndefined();

    const off = new TrustedDocumentCache(list, "off");
    for (let i = 0; i <= 1000; i++) await off.set(`apq:${i}`, `{ a${i} }`);
    expect(await off.get("apq:0")).toBeUndefined();
    expect(await off.get("apq:1")).toBe("{ a1 }");
    expect(await off.get("apq:1000")).toBe("{ a1000 }");
    expect(await off.delete("apq:1")).toBe(true);
    expect(await off.get("apq:1")).toBeUndefined();
  });
});
