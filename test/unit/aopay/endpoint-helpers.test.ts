import { unknownKeysOf } from "../../../src/aopay/client";
import { formatDob } from "../../../src/aopay/endpoint";
import { newOrderId, OrderIds } from "../../../src/aopay/order-id";
import { maskEmail } from "../../../src/pii/email";
import { canonicalPan, maskPan } from "../../../src/pii/pan";

describe("endpoint helpers: formatDob, newOrderId, unknownKeysOf, PAN and e-mail masks", () => {
  it("formatDob writes an ISO date in each supported wire format", () => {
    expect(formatDob("2000-01-31", "DD/MM/YYYY")).toBe("31/01/2000");
    expect(formatDob("2000-01-31", "MM/DD/YYYY")).toBe("01/31/2000");
    expect(formatDob("2000-01-31", "YYYY-MM-DD")).toBe("2000-01-31");
  });

  it("newOrderId is 18 digits, below 2^63, and never repeats in a process, however many share a millisecond", () => {
    // A tight loop makes hundreds of ids per millisecond: with a random suffix per id, 1,000 of them held 990 to 998
    // distinct values (the birthday bound over 100,000 suffixes).
    const ids = Array.from({ length: 200_000 }, () => newOrderId());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9]{18}$/);
    expect(ids.every((id) => BigInt(id) < 2n ** 63n)).toBe(true);
    // Its first 13 digits are the time it was made.
    const ms = Number(ids[ids.length - 1].slice(0, 13));
    expect(Math.abs(ms - Date.now())).toBeLessThan(60_000);
  });

  it("OrderIds: one millisecond gives 100,000 distinct ids, then borrows the next; a clock that steps back reuses none", () => {
    const ids = new OrderIds();
    const sameMs = Array.from({ length: 100_001 }, () => ids.next(1_796_000_000_000));
    expect(new Set(sameMs).size).toBe(100_001);
    expect(sameMs.slice(0, 100_000).every((id) => id.startsWith("1796000000000"))).toBe(true);
    expect(sameMs[100_000].startsWith("1796000000001")).toBe(true);
    // The clock steps back 5 s, then forward again past where it was.
    const back = [
      ...Array.from({ length: 50 }, () => ids.next(1_795_999_995_000)),
      ...Array.from({ length: 50 }, () => ids.next(1_796_000_000_002)),
    ];
    const all = new Set([...sameMs, ...back]);
    expect(all.size).toBe(sameMs.length + back.length);
    expect(back.slice(0, 50).every((id) => id.startsWith("1796000000001"))).toBe(true);
    expect(back.slice(50).every((id) => id.startsWith("1796000000002"))).toBe(true);
  });

  it("OrderIds: separate sequences (two processes) start their suffix runs at random points", () => {
    const firsts = new Set(Array.from({ length: 50 }, () => new OrderIds().next(1_796_000_000_000)));
    // 50 draws from 100,000: all equal only if the start were fixed.
    expect(firsts.size).toBeGreaterThan(40);
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
