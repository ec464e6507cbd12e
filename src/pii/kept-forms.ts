/**
 * The one table of forms that look like an identifier and are kept in clear on purpose, shared by every exit (the log
 * line, the bare scrub of GraphQL error messages and fail-start's stderr, AOPay's texts as outcome.ts passes them on,
 * client ids and refused Origins as logged). Every exit reads PII one way (pii/scrub.ts loggedReading, which each ends
 * with); what it keeps is kept by the rule a row names, and nowhere else: anything not here that reads as a PAN, an
 * Aadhaar or a mobile number is masked at every exit (test/unit/pii/exits-agree.test.ts). Each row: its kind, an
 * example, where it is kept (`every exit`, or a place and masked anywhere else), the exits that mask it all the same
 * (`maskedBy`: stricter on purpose, never laxer), why, the rule in code and the test that needs it kept.
 * test/unit/pii/kept-forms.test.ts reads every row through every exit.
 */
export interface KeptForm {
  readonly kind: string;
  readonly example: string;
  /** `every exit`, or where alone it is kept (a log line's own key, a field of ours): masked in any other text. */
  readonly keptAt: "every exit" | "its own place";
  /** Exits that mask it all the same, stricter on purpose (a name a client chose: maskGlued). */
  readonly maskedBy: readonly string[];
  readonly why: string;
  readonly rule: string;
  readonly test: string;
}

export const KEPT_FORMS: readonly KeptForm[] = [
  {
    kind: "AOPay's merchant reference",
    example: "SPCBL2308181506522334ZiSHM7bAe",
    keptAt: "its own place",
    maskedBy: [],
    why:
      "the partner quotes it to AOPay's support; only its documented form (docs/upstream/aopay-api.md §1.3), under " +
      "the log line's own `merchantTransactionId` and the client's reference field; in any other text masked",
    rule: "pii/scrub.ts keptAopayReference, ownId; aopay/outcome.ts scrubbedMerchantReference",
    test: "test/unit/pii/reference-equivalence.test.ts, test/e2e/upstream-reference.test.ts",
  },
  {
    kind: "our request id",
    example: "3f2b8c1e-9d4a-4b7e-8f6a-1c2d3e4f5a6b",
    keptAt: "every exit",
    maskedBy: [],
    why:
      "a request's lines are found by it; freshRequestId makes only ids every exit leaves whole, and a caller's " +
      "UUID holding a run of ten digits is not kept (http/request-id.ts)",
    rule: "http/request-id.ts survivesScrubbing; pii/scrub.ts ownId (the line's own `requestId`)",
    test: "test/unit/http/request-id.test.ts, test/unit/logging/log-spellings.test.ts",
  },
  {
    kind: "a log line's own epoch time",
    example: "1796392274221",
    keptAt: "its own place",
    maskedBy: [],
    why:
      "pino's `time` after the level (logger.ts) is ours; 13 digits hold a mobile-shaped part (holdsNumber), so in " +
      "any other text (a message) it is masked",
    rule: "pii/scrub.ts LINE_TIME (lineMayHoldNumber, quoteNumbers)",
    test: "test/unit/logging/log-spellings.test.ts",
  },
  {
    kind: "dates alone",
    example: "2026-12-01–2026-12-07",
    keptAt: "every exit",
    maskedBy: ["a development error message (error-format.ts)"],
    why:
      "a person reads dates there, not an identifier; a development message masks every long run of digits " +
      "(maskDevelopmentText)",
    rule: "pii/scrub.ts datesOnly (readsAsNumber, maskGlued)",
    test: "test/unit/pii/confusable-spellings.test.ts",
  },
  {
    kind: "a host's port, a time",
    example: "127.0.0.1:4000 at 10:30:45",
    keptAt: "every exit",
    maskedBy: [],
    why: "a run joined by `:` is one run only where it reads as a number (replaceRuns)",
    rule: "pii/scrub.ts replaceRuns, readsAsNumber",
    test: "test/unit/pii/spelling-class.test.ts",
  },
  {
    kind: "a dotted quad that is no identifier's shape",
    example: "192.168.100.200",
    keptAt: "every exit",
    maskedBy: [
      "maskGlued",
      "a refused Origin as logged (cors.ts)",
      "a client id as logged (authenticator.ts)",
      "a development error message (error-format.ts)",
    ],
    why:
      "an IP address: its twelve digits start with 1, no Aadhaar's; a name a client chose (maskGlued) and a " +
      "development message (maskDevelopmentText) mask every run of ten digits",
    rule: "pii/scrub.ts readsAsNumber (numberDigits)",
    test: "test/unit/pii/spelling-class.test.ts",
  },
];

/**
 * Forms decided to be masked at every exit although they look like something kept: an IP-shaped value that is also an
 * identifier's shape (twelve digits from 2-9 written 4x3, an Aadhaar number's) is masked everywhere, as the log line
 * masked it before the exits shared its reading (fail closed: no exit can tell an address from a number so written).
 */
export const MASKED_LOOK_ALIKES: readonly { kind: string; example: string; why: string }[] = [
  {
    kind: "a dotted quad that is an Aadhaar number's shape",
    example: "212.121.212.121",
    why: "twelve digits from 2-9: fail closed, masked at every exit as the log line masks it",
  },
];
