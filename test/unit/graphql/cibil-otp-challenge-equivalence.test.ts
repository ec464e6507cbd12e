import "reflect-metadata";
import { type CibilGenerateOtpAnswer, cibilGenerateOtp } from "../../../src/aopay/endpoints/cibil-generate-otp";
import { answer200 } from "../../helpers/endpoint-wire";
import { CibilNextStep, CibilOtpChallenge, CibilStatus } from "../../../src/graphql/cibil/cibil-otp-challenge.type";
import { Scrubber } from "../../../src/pii/scrub";
import { fixtureJson, fixtureVariant } from "../../helpers/fixtures";

/**
 * CibilOtpChallenge.from writes each field on the new instance (src/graphql/cibil/cibil-otp-challenge.type.ts); it was
 * `Object.assign(new CibilOtpChallenge(), challenge, { status, nextStep, resendAvailableAt })`, kept here as the
 * reference. For every answer fromWire can map (the documented example and unusual ones: real booleans, the string
 * "true" in another case, no question, several or no answer choices, an undocumented status and step, a renumbered or
 * absent id, no reference), the result has the same prototype, the same own keys in the same order, the same values,
 * and serialises (as GraphQL, the idempotency record and the access line read it) to the same JSON.
 */

function frozenFrom(challenge: CibilGenerateOtpAnswer, resendAvailableAt: number): CibilOtpChallenge {
  return Object.assign(new CibilOtpChallenge(), challenge, {
    status: CibilStatus[challenge.status],
    nextStep: challenge.nextStep === null ? null : CibilNextStep[challenge.nextStep],
    resendAvailableAt,
  });
}

const documented = fixtureJson("cibil/generate-otp.success") as {
  result: { questions: Record<string, unknown> } & Record<string, unknown>;
} & Record<string, unknown>;

/** The documented example with `change` applied to a deep copy of it. */
const variant = (change: (body: typeof documented) => void) => fixtureVariant(documented, change);

const ANSWERS: Array<[string, Record<string, unknown>]> = [
  ["the documented example", documented],
  [
    "real booleans",
    variant((b) => Object.assign(b.result.questions, { LastChanceQuestion: true, skipEligible: false })),
  ],
  ['"TRUE " as a string', variant((b) => Object.assign(b.result.questions, { resendEligible: "TRUE " }))],
  ["no question", variant((b) => delete (b.result as Record<string, unknown>).questions)],
  [
    "two answer choices and one without a key",
    variant((b) => {
      const one = b.result.questions.AnswerChoice as Record<string, unknown>;
      b.result.questions.AnswerChoice = [one, { ...one, AnswerChoiceId: "77" }, { AnswerChoiceText: "x" }];
    }),
  ],
  ["no answer choice", variant((b) => delete b.result.questions.AnswerChoice)],
  [
    "an undocumented status and step",
    variant((b) => Object.assign(b.result, { cibil_status: "Hold", next_api_call: "x" })),
  ],
  ["no status or step", variant((b) => (delete b.result.cibil_status, delete b.result.next_api_call))],
  ['"Success" as the status', variant((b) => Object.assign(b.result, { cibil_status: " Success" }))],
  ["the request's own id", variant((b) => Object.assign(b.result, { cibil_id: 102277100 }))],
  ["no id", variant((b) => delete b.result.cibil_id)],
  ["no reference", variant((b) => delete b.merchant_trans_id)],
  ["no result", variant((b) => delete (b as Record<string, unknown>).result)],
];

describe("CibilOtpChallenge.from: the same result as Object.assign did", () => {
  const input = { cibilId: "102277100", accessToken: "123456542124" };
  const scrubber = new Scrubber(["AOP-554", "CMP1045"]);

  it.each(ANSWERS)("%s", (_name, body) => {
    const text = scrubber.forRequest(cibilGenerateOtp.sensitive(input, {} as never));
    const envelope = answer200(cibilGenerateOtp, Buffer.from(JSON.stringify(body)), text);
    const challenge = cibilGenerateOtp.fromWire(envelope, input, text);
    for (const at of [0, 1_733_300_000_123]) {
      const now = CibilOtpChallenge.from(challenge, at);
      const before = frozenFrom(challenge, at);
      expect(Object.getPrototypeOf(now)).toBe(CibilOtpChallenge.prototype);
      expect(Reflect.ownKeys(now)).toEqual(Reflect.ownKeys(before));
      for (const key of Reflect.ownKeys(before)) expect(now[key as keyof CibilOtpChallenge]).toBe(before[key as never]);
      expect(JSON.stringify(now)).toBe(JSON.stringify(before));
      expect({ ...now }).toEqual({ ...before });
    }
  });
});
