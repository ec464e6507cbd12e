import { createHmac, hkdfSync } from "node:crypto";
import { createLogger } from "../../../src/logging/logger";
import { CUSTOMER_REF_KINDS, CustomerRefs, deriveCustomerRefKey } from "../../../src/protection/customer-refs";
import { KeyHasher } from "../../../src/protection/key-hasher";
import { deriveStoreKey } from "../../../src/protection/protection.settings";
import { LogCapture } from "../../helpers/log-capture";

const SECRET = Buffer.from("unit-customer-ref-secret-0123456789abcdef", "utf8");

describe("CustomerRefs", () => {
  const refs = new CustomerRefs(SECRET);

  it("is HMAC-SHA256 under HKDF-SHA256(HMAC_SECRET, 'aopay-gql log customer reference v1') of kind, 0x00, value: 16 hex", () => {
    const key = Buffer.from(hkdfSync("sha256", SECRET, Buffer.alloc(0), "aopay-gql log customer reference v1", 32));
    expect(deriveCustomerRefKey(SECRET)).toEqual(key);
    const expected = createHmac("sha256", key).update("mobile\u00009876543210").digest("hex").slice(0, 16);
    expect(refs.of("mobile", "9876543210")).toBe(`m_${expected}`);
    expect(refs.of("aadhaar", "234123412346")).toMatch(/^a_[0-9a-f]{16}$/);
    expect(refs.of("pan", "ABCPE1234F")).toMatch(/^p_[0-9a-f]{16}$/);
    expect(refs.of("cibil", "102277100")).toMatch(/^c_[0-9a-f]{16}$/);
    expect(refs.of("aeps-user", "AOP554N3XXXX")).toMatch(/^u_[0-9a-f]{16}$/);
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
    // 16 characters glued to `m_` and a quote: longer than any number the scrubber masks (pii/scrub.ts).
    const shaped = ["m_9876543210123456", "a_2341234123461234", "c_0000009876543210"];
    log.info({ refs: shaped }, "request completed");
    expect(logs.records()[0].refs).toEqual(shaped);
  });
});
