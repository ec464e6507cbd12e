import { createHmac, hkdfSync, randomBytes } from "node:crypto";
import { logAccess } from "../../../src/logging/access-log";
import { createLogger } from "../../../src/logging/logger";
import {
  CUSTOMER_REF_ALPHABET,
  CUSTOMER_REF_KINDS,
  CustomerRefs,
  deriveCustomerRefKey,
  refLetters,
} from "../../../src/protection/customer-refs";
import { KeyHasher } from "../../../src/protection/key-hasher";
import { deriveStoreKey } from "../../../src/protection/protection.settings";
import { LogCapture } from "../../helpers/log-capture";

const SECRET = Buffer.from("unit-customer-ref-secret-0123456789abcdef", "utf8");

describe("CustomerRefs", () => {
  const refs = new CustomerRefs(SECRET);

  it("is HMAC-SHA256 under HKDF-SHA256(HMAC_SECRET, 'aopay-gql log customer reference v1') of kind, 0x00, value: 16 letters", () => {
    const key = Buffer.from(hkdfSync("sha256", SECRET, Buffer.alloc(0), "aopay-gql log customer reference v1", 32));
    expect(deriveCustomerRefKey(SECRET)).toEqual(key);
    const expected = createHmac("sha256", key).update("mobile\u00009876543210").digest("hex").slice(0, 16);
    // The hex digits 0-f written as the letters b-v (CUSTOMER_REF_ALPHABET), one for one.
    const letters = [...expected].map((c) => "bcdfghjkmnpqrstv"[parseInt(c, 16)]).join("");
    expect(refs.of("mobile", "9876543210")).toBe(`m_${letters}`);
    expect(refs.legacyOf("mobile", "9876543210")).toBe(`m_${expected}`);
    expect(refs.of("aadhaar", "234123412346")).toMatch(/^a_[bcdfghjkmnpqrstv]{16}$/);
    expect(refs.of("pan", "ABCPE1234F")).toMatch(/^p_[bcdfghjkmnpqrstv]{16}$/);
    expect(refs.of("cibil", "102277100")).toMatch(/^c_[bcdfghjkmnpqrstv]{16}$/);
    expect(refs.of("aeps-user", "AOP554N3XXXX")).toMatch(/^u_[bcdfghjkmnpqrstv]{16}$/);
    expect(refLetters("0123456789abcdef")).toBe(CUSTOMER_REF_ALPHABET);
  });

  it("the same digits as two kinds are two unrelated references", () => {
    const hex = new Set(CUSTOMER_REF_KINDS.map((kind) => refs.of(kind, "9876543210").slice(2)));
    expect(hex.size).toBe(CUSTOMER_REF_KINDS.length);
  });

  it("is not the store's key of the value, nor derived from the store-sealing key, nor the same under another secret", () => {
    const store = new KeyHasher(SECRET);
    const ref = refs.of("mobile", "9876543210").slice(2);
    for (const dimension of ["mobile", "destination:mobile", ""])
      expect(store.hash(dimension, "9876543210", "hex")).not.toContain(ref);
    expect(deriveCustomerRefKey(SECRET)).not.toEqual(deriveStoreKey(SECRET).key);
    const other = new CustomerRefs(Buffer.from("another-secret-0123456789abcdefghijkl", "utf8"));
    expect(other.of("mobile", "9876543210")).not.toBe(refs.of("mobile", "9876543210"));
  });

  it("note() keeps each reference once", () => {
    const list: string[] = [];
    refs.note(list, "mobile", "9876543210");
    refs.note(list, "aadhaar", "234123412346");
    refs.note(list, "mobile", "9876543210");
    expect(list).toHaveLength(2);
  });

  it("passes the log's scrubber unchanged, even when all its characters are digits (a mobile- or Aadhaar-shaped run)", () => {
    const logs = new LogCapture();
    const log = createLogger({ level: "info", destination: logs });
    // Hex digits all 0-9: written as letters, nothing a mask reads.
    const shaped = ["9876543210123456", "2341234123461234", "0000009876543210"].map((hex) => `m_${refLetters(hex)}`);
    log.info({ refs: shaped }, "request completed");
    expect(logs.records()[0].refs).toEqual(shaped);
  });

  /**
   * 10^4 references of random values, each written through the production logger at every level, in every place a
   * line can quote it (the access line's `refs`, the message, a field, a nested object as the OpenTelemetry SDK's
   * debug lines print a span's `aopay.customer_refs`, an error's message and stack), each line with a mobile and a
   * `\` in it too (the scrubber's whole read, readLine, runs on every string): every reference is found unchanged,
   * as support's grep looks for it. In hex, about one in a thousand was masked outside `refs` (12 digits from 2-9 then
   * a letter read as an Aadhaar number; 10 from 6-9, a mobile).
   */
  it("10^4 random references pass the log's scrubber unchanged, in every place and at every level", () => {
    const levels = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
    const lines: string[] = [];
    const log = createLogger({
      level: "trace",
      secrets: ["sk_live_9f8e7d6c5b4a39281706"],
      destination: { write: (l: string) => void lines.push(l) },
    });
    const missing: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const kind = CUSTOMER_REF_KINDS[i % CUSTOMER_REF_KINDS.length];
      const ref = refs.of(kind, randomBytes(9).toString("base64"));
      const level = levels[i % levels.length];
      lines.length = 0;
      const child = log.child({ requestId: "68f74483-ff9b-4582-bb53-6281738160bf" });
      child[level]({ refs: [ref], note: `for ${ref}\tcall 9876543210` }, `items to be sent ${ref}`);
      child[level]({ span: { attributes: { "aopay.customer_refs": [ref] } } }, "items to be sent");
      child[level]({ err: new Error(`failed for ${ref}`) }, "call failed");
      logAccess(child, undefined, "POST", "/graphql", 200, { operation: "O", result: "OK", refs: [ref] }, [], 1);
      const found = lines.reduce((n, line) => n + line.split(ref).length - 1, 0);
      // refs, note and msg; the span's attribute; the error's message and stack; the access line's refs.
      if (found < 6 || lines.some((line) => line.includes("9876543210"))) missing.push(`${ref}: ${lines.join("")}`);
    }
    expect(missing.slice(0, 3)).toEqual([]);
  });
});
