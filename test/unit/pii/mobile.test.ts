import { isValidMobile, maskMobile } from "../../../src/pii/mobile";

describe("Indian mobile rules (docs/security-requirements.md C2)", () => {
  it.each(["9876543210", "6000000000", "7012345678", "8123456789"])("accepts %s", (v) => {
    expect(isValidMobile(v)).toBe(true);
  });

  it.each(["5876543210", "987654321", "98765432100", "98765 4321x", "९८७६५४३२१०", "+919876543210", "09876543210", ""])(
    "rejects %s",
    (v) => {
      expect(isValidMobile(v)).toBe(false);
    },
  );

  it("masks to the last four digits", () => {
    expect(maskMobile("9876543210")).toBe("XXXXXX3210");
  });
});
