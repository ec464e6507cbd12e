import { canonicalPan, maskPan } from "../../../src/pii/pan";

describe("PAN: ASCII only, either case, canonical in upper case", () => {
  it.each([
    ["ABCPE1234F", "ABCPE1234F"],
    ["abcpe1234f", "ABCPE1234F"],
    ["AbCpE1234f", "ABCPE1234F"],
  ])("%s -> %s", (raw, canonical) => {
    expect(canonicalPan(raw)).toBe(canonical);
  });

  it.each([
    "ABCPE1234\u0131",
    "\u017fBCPE1234F",
    "ＡＢＣＰＥ1234Ｆ",
    "ABCXE1234F",
    "FRS23456",
    " ABCPE1234F",
    "ABCPE1234F ",
    "ABCPE１２３４F",
  ])("refuses %j", (raw) => {
    expect(canonicalPan(raw)).toBeNull();
  });

  it("masks to the last four characters", () => {
    expect(maskPan("ABCPE1234F")).toBe("XXXXXX234F");
  });
});
