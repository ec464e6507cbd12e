import "reflect-metadata";
import { type AepsResendOtpAnswer, aepsResendOtp } from "../../../src/aopay/endpoints/aeps-resend-otp";
import { AEPS_RESEND_INPUT, answer200 } from "../../helpers/endpoint-wire";
import { AepsOtpResent } from "../../../src/graphql/aeps/aeps-otp-resent.type";
import { Scrubber } from "../../../src/pii/scrub";
import { fixtureJson, fixtureVariant } from "../../helpers/fixtures";

/**
 * AepsOtpResent.from writes each field on the new instance (src/graphql/aeps/aeps-otp-resent.type.ts); it was
 * `Object.assign(new AepsOtpResent(), resent, { resendAvailableAt })`, kept here as the reference. For every answer
 * fromWire can map (the documented example and unusual ones: no message, codes of other types, references as numbers
 * or absent, no nested data, a message AOPay echoes a mobile in), the result has the same prototype, the same own keys
 * in the same order, the same values, and serialises (as GraphQL, the idempotency record and the access line read it)
 * to the same JSON, its getter (resendAvailableInSeconds) answering the same.
 */

function frozenFrom(resent: AepsResendOtpAnswer, resendAvailableAt: number): AepsOtpResent {
  return Object.assign(new AepsOtpResent(), resent, { resendAvailableAt });
}

const documented = fixtureJson("aeps/resend-otp.success") as {
  data: { data: Record<string, unknown> } & Record<string, unknown>;
} & Record<string, unknown>;

/** The documented example with `change` applied to a deep copy of it. */
const variant = (change: (body: typeof documented) => void) => fixtureVariant(documented, change);

const ANSWERS: Array<[string, Record<string, unknown>]> = [
  ["the documented example", documented],
  ["no message in data", variant((b) => delete b.data.message)],
  ["no message at all", variant((b) => (delete b.data.message, delete b.msg))],
  ["codes as strings", variant((b) => Object.assign(b.data, { response_code: "1", error_code: "E12" }))],
  ["a fractional response code", variant((b) => Object.assign(b.data, { response_code: 1.5, error_code: null }))],
  ["references as numbers", variant((b) => Object.assign(b.data.data, { primaryKeyId: 4471, encodeTxnId: 99 }))],
  ["no references", variant((b) => (delete b.data.data.primaryKeyId, delete b.data.data.encodeTxnId))],
  ["no nested data", variant((b) => delete (b.data as Record<string, unknown>).data)],
  ["no data", variant((b) => delete (b as Record<string, unknown>).data)],
  ["a message echoing the mobile", variant((b) => Object.assign(b.data, { message: "OTP sent to 9876543210" }))],
  ["an undocumented field", variant((b) => Object.assign(b.data.data, { extra: "x", upstreamMessage: "y" }))],
];

describe("AepsOtpResent.from: the same result as Object.assign did", () => {
  const input = AEPS_RESEND_INPUT;
  const scrubber = new Scrubber(["AOP-554", "CMP1045"]);

  it.each(ANSWERS)("%s", (_name, body) => {
    const text = scrubber.forRequest(aepsResendOtp.sensitive(input, {} as never));
    const envelope = answer200(aepsResendOtp, Buffer.from(JSON.stringify(body)), text);
    const resent = aepsResendOtp.fromWire(envelope, input, text);
    for (const at of [0, Date.now() + 42_000, 1_733_300_000_123]) {
      const now = AepsOtpResent.from(resent, at);
      const before = frozenFrom(resent, at);
      expect(Object.getPrototypeOf(now)).toBe(AepsOtpResent.prototype);
      expect(Reflect.ownKeys(now)).toEqual(Reflect.ownKeys(before));
      for (const key of Reflect.ownKeys(before)) expect(now[key as keyof AepsOtpResent]).toBe(before[key as never]);
      expect(now.resendAvailableInSeconds).toBe(before.resendAvailableInSeconds);
      expect(JSON.stringify(now)).toBe(JSON.stringify(before));
      expect({ ...now }).toEqual({ ...before });
    }
  });
});
