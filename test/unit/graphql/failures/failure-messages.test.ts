import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildSchema, type GraphQLEnumType } from "graphql";
import { DEFAULT_DEADLINE_MS } from "../../../../src/aopay/transport.settings";
import { FailureCode } from "../../../../src/graphql/failures/failure-code.enum";
import {
  FAILURE_MESSAGES,
  idempotencyConflict,
  protectionUnavailable,
  readThrottled,
  registrationRefused,
  registrationThrottled,
  throttledFailure,
  toFailure,
} from "../../../../src/graphql/failures/to-failure";
import { AopayOverloadedError } from "../../../../src/aopay/errors";
import { THROTTLE_REFUSALS, type ThrottlePurpose } from "../../../../src/protection/otp-throttle";
import { DEFAULT_REQUEST_DEADLINE_MS } from "../../../../src/http/server.settings";
import {
  IDEMPOTENCY_PENDING_MIN_MS,
  outlivingRequestsMs,
  refusalWaitMs,
  sendMarkTtlMs,
} from "../../../../src/protection/registered-mobiles";

/**
 * Each code's message is one fixed text (to-failure.ts FAILURE_MESSAGES): it must be true in every case the code is
 * answered. REGISTRATION_IN_PROGRESS said "being processed right now ... try again in a moment" while it carried
 * retryAfterSeconds 120 (a first registration whose outcome is unknown, its hold left to expire: registered-mobiles.ts
 * refusalWaitMs), and IDEMPOTENCY_IN_FLIGHT "still being processed ... in a moment to get its result" while it carried
 * 60 (a key whose request's server died, answered OUTCOME_UNKNOWN once that time ends).
 */

/** Words that promise a wait of seconds at most. */
const SHORT_WAIT = /\b(a moment|moments ago|just sent|shortly|immediately|at once)\b/i;
/** The most a wait of SHORT_WAIT's words may be, in seconds. */
const SHORT_SECONDS = 10;

const LONGEST_REQUEST_MS = Math.max(DEFAULT_REQUEST_DEADLINE_MS, DEFAULT_DEADLINE_MS);
/** A mark or first registration's hold left to expire (its outcome unknown), refused just after it started. */
const LINGERING_SECONDS = refusalWaitMs(sendMarkTtlMs(LONGEST_REQUEST_MS), false) / 1000;

/**
 * The longest each code's condition may last with the default settings, in seconds (Infinity: nothing bounds it), from
 * what its producers give: every code is here, so a new one must say.
 */
const LONGEST: Record<FailureCode, number> = {
  [FailureCode.UPSTREAM_REJECTED]: Infinity,
  [FailureCode.UPSTREAM_UNAUTHORIZED]: Infinity,
  // AOPay's Retry-After is taken up to 3,600 s (docs/api.md), an open circuit's wait too.
  [FailureCode.UPSTREAM_UNAVAILABLE]: 3_600,
  [FailureCode.UPSTREAM_TIMEOUT]: Infinity,
  [FailureCode.UPSTREAM_BAD_RESPONSE]: Infinity,
  [FailureCode.OUTCOME_UNKNOWN]: Infinity,
  // The bulkhead's estimate (transport.ts POOL_FULL_RETRY_AFTER_SECONDS): a place frees when any call out ends.
  [FailureCode.OVERLOADED]: 1,
  // OTP_COOLDOWN_SECONDS may be set up to a day; the windows to 31 days.
  [FailureCode.OTP_COOLDOWN]: 86_400,
  [FailureCode.OTP_LIMIT_REACHED]: 86_400,
  [FailureCode.RATE_LIMITED]: 31 * 86_400,
  [FailureCode.VERIFY_LIMIT_REACHED]: 31 * 86_400,
  [FailureCode.CONSENT_REQUIRED]: Infinity,
  [FailureCode.IDEMPOTENCY_IN_FLIGHT]: outlivingRequestsMs(LONGEST_REQUEST_MS, IDEMPOTENCY_PENDING_MIN_MS) / 1000,
  [FailureCode.PROTECTION_UNAVAILABLE]: Infinity,
  [FailureCode.OTP_SEND_IN_PROGRESS]: LINGERING_SECONDS,
  [FailureCode.MOBILE_LIMIT_REACHED]: Infinity,
  [FailureCode.REGISTRATION_IN_PROGRESS]: LINGERING_SECONDS,
  [FailureCode.READ_THROTTLED]: 31 * 86_400,
};

const SCHEMA = buildSchema(readFileSync(join(__dirname, "../../../../schema/schema.graphql"), "utf8"));

describe("failure messages: true in every case their code is answered", () => {
  it("the waits the producers give: minutes for a lingering mark or hold and a dead request's key", () => {
    expect(LINGERING_SECONDS).toBe(120);
    expect(LONGEST[FailureCode.IDEMPOTENCY_IN_FLIGHT]).toBe(60);
  });

  it.each(Object.values(FailureCode).filter((code) => LONGEST[code] > SHORT_SECONDS))(
    "%s, which can hold for more than 10 s, promises no short wait",
    (code) => {
      expect({ code, message: FAILURE_MESSAGES[code] }).not.toEqual({
        code,
        message: expect.stringMatching(SHORT_WAIT),
      });
    },
  );

  it("the refusals as answered with the longest waits their producers give", () => {
    const answers = [
      registrationRefused("REGISTRATION_IN_PROGRESS", LINGERING_SECONDS),
      registrationRefused("OTP_SEND_IN_PROGRESS", LINGERING_SECONDS),
      idempotencyConflict(LONGEST[FailureCode.IDEMPOTENCY_IN_FLIGHT]),
      throttledFailure("OTP_COOLDOWN", "DESTINATION", 86_400),
    ];
    for (const answer of answers) {
      expect(answer.retryAfterSeconds).toBeGreaterThan(SHORT_SECONDS);
      expect({ code: answer.code, message: answer.message }).toEqual({
        code: answer.code,
        message: expect.not.stringMatching(SHORT_WAIT),
      });
    }
  });

  it.each<[FailureCode, string, RegExp]>([
    // Answered to a stale mark (a send whose outcome is unknown, or a dead replica's count): nothing is being sent.
    [FailureCode.OTP_SEND_IN_PROGRESS, "a mark left to expire", /is being sent|right now/i],
    [FailureCode.REGISTRATION_IN_PROGRESS, "a hold left to expire", /being processed|right now/i],
    // The key's request may be gone (its server died): its result never comes, OUTCOME_UNKNOWN does.
    [FailureCode.IDEMPOTENCY_IN_FLIGHT, "a dead request's key", /still being processed|to get its result/i],
    // A credit-report read (loaders.ts) and a registration get it too.
    [FailureCode.PROTECTION_UNAVAILABLE, "a credit-report read", /OTP sending/i],
    // A registration, a verification, and an Idempotency-Key whose request ended without a result (maybe never sent);
    // an unreadable answer did come back.
    [FailureCode.OUTCOME_UNKNOWN, "a registration, a dead request's key", /request reached AOPay|no answer came/i],
    // A send AOPay declined after it left keeps its points: the next is refused, though no OTP went.
    [FailureCode.OTP_COOLDOWN, "a send AOPay declined", /OTP was just sent/i],
    [FailureCode.OTP_LIMIT_REACHED, "sends AOPay declined", /OTPs were sent/i],
    // Every verification attempt counts, the right ones too.
    [FailureCode.VERIFY_LIMIT_REACHED, "right answers", /wrong or repeated/i],
    // The deadline can pass while the call waits for one of our own connections.
    [FailureCode.UPSTREAM_TIMEOUT, "a wait in the bulkhead's queue", /AOPay did not accept/i],
  ])("%s says nothing %s contradicts", (code, _case, claim) => {
    expect(FAILURE_MESSAGES[code]).not.toMatch(claim);
  });

  // The schema's descriptions (what Sandbox's docs panel and the generated client show) said the same things.
  it.each<[string, RegExp]>([
    ["IdempotencyConflict", /still running|shortly|will be replayed/i],
    ["ProtectionUnavailable", /no OTP was sent \(fail closed\)\.$/],
    ["OutcomeUnknown", /request reached AOPay/i],
  ])("the schema's %s says nothing its cases contradict", (type, claim) => {
    expect(SCHEMA.getType(type)?.description).not.toMatch(claim);
  });

  it.each<[FailureCode, RegExp]>([
    [FailureCode.OTP_SEND_IN_PROGRESS, /is being sent to this customer right now/i],
    [FailureCode.IDEMPOTENCY_IN_FLIGHT, /still running|will be replayed/i],
    [FailureCode.PROTECTION_UNAVAILABLE, /so no OTP is sent \(fail closed\)\.$/],
    [FailureCode.OUTCOME_UNKNOWN, /request reached AOPay/i],
    [FailureCode.OTP_COOLDOWN, /moments ago/i],
    // Its wait is a budget's window, up to a day: retryAfterSeconds says when, nothing is momentary.
    [FailureCode.RATE_LIMITED, /right now/i],
  ])("the schema's FailureCode %s says nothing its cases contradict", (code, claim) => {
    const values = (SCHEMA.getType("FailureCode") as GraphQLEnumType).getValues();
    expect(values.find((v) => v.name === code)?.description).not.toMatch(claim);
  });

  /**
   * Every refusal that always carries the server's own wait (retryAfterSeconds), each (code, scope) pair its producers
   * answer (THROTTLE_REFUSALS per purpose: a send and a verification as OtpThrottled, a registration as
   * RegistrationRefused, a read as ReadThrottled; the busy registration refusals; an Idempotency-Key in flight; the
   * bulkhead). RATE_LIMITED said "Too many OTP requests right now. Try again later." and READ_THROTTLED "... right now
   * ... try again later." while their retryAfterSeconds said when, up to a budget's window (a day): the message points
   * to that wait and calls nothing momentary or vague.
   */
  const WAITED: Array<{ code: string; message: string; retryAfterSeconds?: number | null }> = [
    ...(Object.keys(THROTTLE_REFUSALS) as ThrottlePurpose[]).flatMap((purpose) =>
      THROTTLE_REFUSALS[purpose].map(({ code, scope }) =>
        purpose === "register"
          ? registrationThrottled(3_600)
          : code === "READ_THROTTLED"
            ? readThrottled(scope, 3_600)
            : throttledFailure(code, scope, 3_600),
      ),
    ),
    registrationRefused("OTP_SEND_IN_PROGRESS", LINGERING_SECONDS),
    registrationRefused("REGISTRATION_IN_PROGRESS", LINGERING_SECONDS),
    idempotencyConflict(LONGEST[FailureCode.IDEMPOTENCY_IN_FLIGHT]),
    // As transport.ts answers a full bulkhead: POOL_FULL_RETRY_AFTER_SECONDS.
    toFailure(
      new AopayOverloadedError("pool full", { endpoint: "cibil.generateOtp", sent: false, retryAfterSeconds: 1 }),
    ),
  ];

  it.each(WAITED.map((answer) => [answer.code, answer.message, answer] as const))(
    "%s (%s) points to its retryAfterSeconds, not to 'later' or 'right now'",
    (_code, _message, answer) => {
      expect(answer.retryAfterSeconds).toEqual(expect.any(Number));
      expect(answer.message).toMatch(/after retryAfterSeconds/);
      expect(answer.message).not.toMatch(/\b(later|right now|just now|for now)\b/i);
    },
  );

  it("the schema's ThrottleScope GLOBAL calls its window's budget nothing momentary", () => {
    const values = (SCHEMA.getType("ThrottleScope") as GraphQLEnumType).getValues();
    expect(values.find((v) => v.name === "GLOBAL")?.description).not.toMatch(/right now/i);
  });

  it("PROTECTION_UNAVAILABLE's answer says AOPay was not asked, true of a read and a send alike", () => {
    expect(protectionUnavailable().message).toMatch(/AOPay was not asked/);
  });
});
