import { createLogger, redactKeys } from "../../src/logging/logger";
import { LogCapture } from "../helpers/log-capture";

describe("log redaction", () => {
  it("redacts sensitive keys at the top level and two levels down, copying only what changes", () => {
    const input = { fine: 1, otp: "123456", input: { aadhaar: "234123412346", nested: { accessToken: "t", ok: true } }, list: [{ otp: "x" }] };
    const out = redactKeys(input);
    expect(out).toEqual({ fine: 1, otp: "[REDACTED]", input: { aadhaar: "[REDACTED]", nested: { accessToken: "[REDACTED]", ok: true } }, list: [{ otp: "x" }] });
    expect(input.otp).toBe("123456"); // the caller's object is untouched
    const clean = { a: 1, b: { c: 2 } };
    expect(redactKeys(clean)).toBe(clean);
  });

  it("applies to every log call at any level; child bindings (ids only, by convention) still pass the line scrubber", () => {
    const capture = new LogCapture();
    const log = createLogger({ level: "debug", destination: capture, secrets: ["AOP-554"] });
    log.child({ requestId: "r1", mobile: "9876543210" }).debug({ variables: { input: { otp: "4071" } }, Userkey: "K1", note: "AOP-554 and 9123456789" }, "x");
    const line = capture.records()[0];
    expect(line).toMatchObject({ requestId: "r1", mobile: "XXXXXX3210", variables: "[REDACTED]", Userkey: "[REDACTED]", note: "[REDACTED] and XXXXXX6789" });
    expect(capture.text()).not.toMatch(/4071|9876543210|K1"/);
  });
});
