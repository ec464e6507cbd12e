import type { FailureFieldsFragment } from "../../../client/src/generated/graphql";

// Required, not imported: the example resolves "@aopay-graphql/client/react" through its own tsconfig's paths (its
// type-only import is erased here), and `npm run typecheck` checks it there.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { describeFailure } = require("../../../examples/web/src/failure-message") as {
  describeFailure: (failure: FailureFieldsFragment) => string;
};

type Refused = Extract<FailureFieldsFragment, { __typename: "RegistrationRefused" }>;
const refused = (code: Refused["code"], retryAfterSeconds: number | null): Refused => ({
  __typename: "RegistrationRefused",
  code,
  message: "refused",
  retryable: retryAfterSeconds !== null,
  retryAfterSeconds,
});

/**
 * The example app's sentence for each RegistrationRefused code (examples/web/src/failure-message.ts, which
 * docs/clients.md points app authors to): the in-progress refusals say the server's wait (FailureFields selects it);
 * only MOBILE_LIMIT_REACHED, which no wait lifts, sends the user to another mobile. REGISTRATION_IN_PROGRESS, added
 * after the example, was told "too many mobile numbers".
 */
describe("describeFailure: RegistrationRefused", () => {
  it.each([
    ["OTP_SEND_IN_PROGRESS", 2, /send to this customer is under way.*Try again in 2 seconds\./],
    ["REGISTRATION_IN_PROGRESS", 2, /registration of this customer is under way.*Try again in 2 seconds\./],
    // A mark or hold left to expire (its outcome unknown): nothing is running "right now".
    ["OTP_SEND_IN_PROGRESS", 120, /under way or unconfirmed.*Try again in 120 seconds\./],
    ["REGISTRATION_IN_PROGRESS", 120, /under way or unconfirmed.*Try again in 120 seconds\./],
  ] as const)("%s says to wait the server's %i s", (code, wait, sentence) => {
    const text = describeFailure(refused(code, wait));
    expect(text).toMatch(sentence);
    expect(text).not.toMatch(/too many|right now/);
  });

  it("MOBILE_LIMIT_REACHED says to register with a mobile used before, not to wait", () => {
    const text = describeFailure(refused("MOBILE_LIMIT_REACHED", null));
    expect(text).toMatch(/too many different mobile numbers.*used before/);
    expect(text).not.toMatch(/Try again/);
  });
});
