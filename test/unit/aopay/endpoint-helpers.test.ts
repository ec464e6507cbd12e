import { unknownKeysOf } from "../../../src/aopay/client";
import { formatDob } from "../../../src/aopay/endpoint";
import { newOrderId } from "../../../src/aopay/order-id";
import { maskEmail } from "../../../src/pii/email";
import { canonicalPan, maskPan } from "../../../src/pii/pan";

describe("endpoint helpers: formatDob, newOrderId, unknownKeysOf, PAN and e-mail masks", () => {
  it("formatDob writes an ISO date in each supported wire format", () => {
    expect(formatDob("2000-01-31", "DD/MM/YYYY")).toBe("31/01/2000");
    expect(formatDob("2000-01-31", "MM/DD/YYYY")).toBe("01/31/2000");
    expect(formatDob("2000-01-31", "YYYY-MM-DD")).toBe("2000-01-31");
  });

  it("newOrderId is 18 digits, unique, below 2^63", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newOrderId()));
    expect(ids.size).toBeGreaterThan(990);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9]{18}$/);
      expect(BigInt(id) < 2n ** 63n).toBe(true);
    }
  });

  it("unknownKeysOf lists undocumented keys by name, one level deep, never values", () => {
    const body = { status: "SUCCESS", result: { cibil_id: "1", score: { value: 700 } }, extra: "9876543210" };
    expect(unknownKeysOf(body, ["status", "result", "result.cibil_id"])).toEqual(["result.score", "extra"]);
  });

  it("PAN rules and masking", () => {
    expect(canonicalPan("abcpe1234f")).toBe("ABCPE1234F");
    expect(canonicalPan("FRS23456")).toBeNull(); // AOPay's own example is not a PAN
    expect(canonicalPan("ABCXE1234F")).toBeNull(); // X is not a holder type
    expect(maskPan("ABCPE1234F")).toBe("XXXXXX234F");
    expect(maskEmail("asha.k@example.co.in")).toBe("a***@example.co.in");
  });
});
