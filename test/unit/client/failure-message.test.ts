import type { FailureFieldsFragment } from "../../../client/src/generated/graphql";
import { THROTTLE_REFUSALS, type ThrottlePurpose } from "../../../src/protection/otp-throttle";

// Required, not imported: the example resolves "@aopay-graphql/client/react" through its own tsconfig's paths (its
// type-only import is erased here), and `npm run typecheck` checks it there.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { describeFailure, waitedRefusal } = require("../../../examples/web/src/failure-message") as {
  describeFailure: (failure: FailureFieldsFragment) => string;
  waitedRefusal: (code: string | null, seconds: number) => string;
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

/** Words that make a budget's window (minutes to a day) something momentary, or a wait of seconds. */
const MOMENTARY = /\b(right now|just now|for now|moments? ago|a moment|shortly)\b/i;

/**
 * Every (code, scope) pair the server's budgets answer (THROTTLE_REFUSALS: a send and a verification as OtpThrottled,
 * a read and a read attempt as ReadThrottled), with a day's wait and with none: the page's sentence says the server's
 * wait and calls nothing momentary. It said "An OTP was sent to this customer moments ago" (the cooldown runs up to a
 * day, and follows a send AOPay declined), "Too many OTP requests right now", "read too often just now", told a
 * network's read attempts (scope IP) "This customer's credit report was read too often", and with no wait "Try again
 * later. with a new OTP.".
 */
describe("describeFailure: the budgets' refusals", () => {
  const answers = (["send", "verify", "read", "read-attempt"] as ThrottlePurpose[]).flatMap((purpose) =>
    THROTTLE_REFUSALS[purpose].flatMap(({ code, scope }) =>
      [86_400, null].map(
        (retryAfterSeconds) =>
          ({
            __typename: code === "READ_THROTTLED" ? "ReadThrottled" : "OtpThrottled",
            code,
            scope,
            message: "refused",
            retryable: true,
            retryAfterSeconds,
          }) as FailureFieldsFragment & { retryAfterSeconds: number | null; scope: string },
      ),
    ),
  );

  it.each(answers.map((a) => [a.code, a.scope, a.retryAfterSeconds, a] as const))(
    "%s %s (wait %p): the server's wait, nothing momentary, whole sentences",
    (_code, scope, wait, answer) => {
      const text = describeFailure(answer);
      expect(text).not.toMatch(MOMENTARY);
      expect(text).toMatch(wait === null ? /\blater\./ : /\bin 86400 seconds\./);
      // Every sentence starts with a capital letter: no "later. with ...".
      expect(text).not.toMatch(/\.\s+[a-z]/);
      // Only the customer's own budget is about this customer's report.
      if (answer.__typename === "ReadThrottled" && scope !== "DESTINATION") expect(text).not.toMatch(/customer/i);
    },
  );
});

/**
 * The page's sentence for a refusal with Retry-After that did nothing (Outcome.tsx ErrorNotice): it said "The server
 * is busy" to each, a draining server's, an identity provider's outage and a body that came too slowly too.
 */
describe("waitedRefusal: each refusal with Retry-After says what it is", () => {
  it.each([
    ["OVERLOADED", /busy/],
    ["SERVICE_UNAVAILABLE", /shutting down/],
    ["AUTH_UNAVAILABLE", /credentials could not be checked/],
    ["REQUEST_TIMEOUT", /did not reach the server in time/],
    [null, /refused the request before doing anything\./],
  ] as const)("%s", (code, says) => {
    const text = waitedRefusal(code, 5);
    expect(text).toMatch(says);
    expect(text).toMatch(/Nothing was sent\. Try again in 5 seconds\.$/);
    if (code !== "OVERLOADED") expect(text).not.toMatch(/busy/);
  });
});
