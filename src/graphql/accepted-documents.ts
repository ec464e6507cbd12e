import type { GraphQLRequestContextExecutionDidStart } from "@apollo/server";
import type { DocumentNode, GraphQLSchema, OperationDefinitionNode } from "graphql";
import { keepCollectedFields } from "./collected-fields";

/**
 * A document Apollo Server accepted for one operation name: parsed within the token limit, valid against the schema,
 * every validation rule (limits.ts, introspection off in production), and its operation resolved. All of these are
 * properties of the text and the name alone (graphql-js validation sees only the schema and the document), so a later
 * request with the same text (or trusted id) and name is accepted too, without doing them again.
 */
export interface AcceptedDocument {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  /** The operation's own name, or null (Apollo's `operationName`: metrics, access line). */
  readonly operationName: string | null;
  /** The `operationName` the request sent, handed to graphql-js `execute` as Apollo does. */
  readonly requestedName: string | undefined;
}

/** A POST body the fast path can answer: the accepted document it names, and its variables as sent. */
export interface FastRequest {
  readonly accepted: AcceptedDocument;
  readonly variables: Record<string, unknown> | undefined;
}

/** Bounds: entries, and characters of document text kept (a document is at most GRAPHQL_MAX_QUERY_CHARS). */
export interface AcceptedDocumentLimits {
  readonly maxEntries: number;
  readonly maxChars: number;
}

/**
 * Kept texts of one length compared one by one before falling back to the hash (documents differing only in, say,
 * spacing can share a length): bounds a request's compares at 8 × its length where the hash reads it once.
 */
const SAME_LENGTH_SCAN = 8;

export const DEFAULT_ACCEPTED_DOCUMENT_LIMITS: AcceptedDocumentLimits = { maxEntries: 256, maxChars: 1 << 20 };

interface Entry extends AcceptedDocument {
  readonly table: Map<string, Map<string | undefined, Entry>>;
  readonly key: string;
  readonly chars: number;
}

/**
 * The documents Apollo Server has accepted, filled only from its own pipeline (request.plugin.ts, executionDidStart:
 * after parsing, validation, operation resolution and every plugin's didResolveOperation). A document Apollo refused
 * never gets here. Two tables: by exact text (a document sent in full), and by trusted-document id (a persisted query
 * sent by id alone, resolved by Apollo to a text on the trusted list, which never changes while the process runs; an
 * id only registered by APQ in `off` mode can be evicted from Apollo's cache, so it is not kept here).
 * Bounded by count and characters, oldest first out; a request that misses simply goes through Apollo.
 */
export class AcceptedDocuments {
  private readonly byText = new Map<string, Map<string | undefined, Entry>>();
  /**
   * byText's keys by length. A request's text is a fresh string (JSON.parse), so `byText.get` would hash all of it
   * (~700 characters for the CIBIL document: 1.2 µs natively, 7.3k instructions under callgrind,
   * docs/performance-runs.md round 7ec644d); a length lookup and `===` against the few kept texts of that length
   * (already hashed: unequal hashes answer at once, else the compare stops at the first differing character) took 0.1
   * to 0.4 µs. Past SAME_LENGTH_SCAN texts of one length, the hash.
   */
  private readonly textsByLength = new Map<number, string[]>();
  private readonly byId = new Map<string, Map<string | undefined, Entry>>();
  /** Insertion order, for eviction. */
  private readonly order = new Set<Entry>();
  private chars = 0;

  constructor(
    /** The trusted documents' texts by id (trusted-documents.ts). */
    private readonly trusted: ReadonlyMap<string, string>,
    private readonly limits: AcceptedDocumentLimits = DEFAULT_ACCEPTED_DOCUMENT_LIMITS,
  ) {}

  get size(): number {
    return this.order.size;
  }

  /** Apollo accepted this request's document: keep it under its text, or its trusted id. */
  remember(rc: GraphQLRequestContextExecutionDidStart<object>): void {
    const { request, document, operation, source } = rc;
    if (!operation || !document || typeof source !== "string") return;
    const persisted = request.extensions?.persistedQuery;
    let table: Map<string, Map<string | undefined, Entry>>;
    let key: string;
    if (persisted) {
      // Sent by id alone, found on the trusted list. Text and id together (an APQ registration) is not kept.
      const id = persisted.sha256Hash;
      if (request.query !== undefined || typeof id !== "string" || this.trusted.get(id) !== source) return;
      table = this.byId;
      key = id;
    } else {
      if (request.query !== source) return;
      table = this.byText;
      key = source;
    }
    const requestedName = request.operationName ?? undefined;
    if (table.get(key)?.has(requestedName) || source.length > this.limits.maxChars) return;
    while (this.order.size >= this.limits.maxEntries || this.chars + source.length > this.limits.maxChars) {
      this.evictOldest();
    }
    const entry: Entry = {
      schema: rc.schema,
      document,
      operation,
      operationName: rc.operationName,
      requestedName,
      table,
      key,
      chars: source.length,
    };
    let names = table.get(key);
    if (!names) {
      table.set(key, (names = new Map()));
      if (table === this.byText) this.addText(key);
    }
    names.set(requestedName, entry);
    this.order.add(entry);
    // Its selection sets' collected fields, made once for every request that executes it (collected-fields.ts).
    keepCollectedFields(document, rc.schema);
    this.chars += entry.chars;
  }

  /**
   * The accepted document a POST body names, when the body is exactly the common case (runHttpQuery.js's rules for a
   * POST body, narrowed): an object with `query` (a non-empty string) or `extensions` carrying only
   * `persistedQuery: { version: 1, sha256Hash }`, never both; `operationName` a string, null or absent; `variables` an
   * object, null or absent; no other key. Anything else, or a document not yet accepted: undefined (Apollo answers).
   */
  match(body: unknown): FastRequest | undefined {
    if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
    const { query, operationName, variables, extensions } = body as Record<string, unknown>;
    for (const key in body) {
      if (key !== "query" && key !== "operationName" && key !== "variables" && key !== "extensions") return undefined;
    }
    if (operationName != null && typeof operationName !== "string") return undefined;
    if (variables != null && (typeof variables !== "object" || Array.isArray(variables))) return undefined;
    let names: Map<string | undefined, Entry> | undefined;
    if (typeof query === "string") {
      if (query === "" || extensions != null) return undefined;
      names = this.findText(query);
    } else {
      const id = query === undefined ? persistedQueryId(extensions) : undefined;
      if (id === undefined) return undefined;
      names = this.byId.get(id);
    }
    const accepted = names?.get(operationName ?? undefined);
    if (!accepted) return undefined;
    return { accepted, variables: (variables ?? undefined) as Record<string, unknown> | undefined };
  }

  private evictOldest(): void {
    const oldest = this.order.values().next().value;
    if (!oldest) return;
    this.order.delete(oldest);
    this.chars -= oldest.chars;
    const names = oldest.table.get(oldest.key);
    names?.delete(oldest.requestedName);
    if (names?.size === 0) {
      oldest.table.delete(oldest.key);
      if (oldest.table === this.byText) this.removeText(oldest.key);
    }
  }

  /** byText's entry for a request's text, found without hashing it where few kept texts share its length. */
  private findText(query: string): Map<string | undefined, Entry> | undefined {
    const texts = this.textsByLength.get(query.length);
    if (texts === undefined) return undefined;
    if (texts.length > SAME_LENGTH_SCAN) return this.byText.get(query);
    for (const text of texts) if (text === query) return this.byText.get(text);
    return undefined;
  }

  private addText(text: string): void {
    const texts = this.textsByLength.get(text.length);
    if (texts) texts.push(text);
    else this.textsByLength.set(text.length, [text]);
  }

  private removeText(text: string): void {
    const texts = this.textsByLength.get(text.length);
    if (!texts) return;
    const i = texts.indexOf(text);
    if (i >= 0) texts.splice(i, 1);
    if (texts.length === 0) this.textsByLength.delete(text.length);
  }
}

/** `{ persistedQuery: { version: 1, sha256Hash: "…" } }` and nothing else: its id; else undefined. */
function persistedQueryId(extensions: unknown): string | undefined {
  if (typeof extensions !== "object" || extensions === null) return undefined;
  const { persistedQuery } = extensions as { persistedQuery?: unknown };
  if (typeof persistedQuery !== "object" || persistedQuery === null || onlyKeys(extensions) !== 1) return undefined;
  const { version, sha256Hash } = persistedQuery as { version?: unknown; sha256Hash?: unknown };
  if (version !== 1 || typeof sha256Hash !== "string" || onlyKeys(persistedQuery) !== 2) return undefined;
  return sha256Hash;
}

function onlyKeys(o: object): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
}
