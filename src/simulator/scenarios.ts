/**
 * Deterministic scenario triggers of the built-in simulator. The trigger is the last three digits of the CIBIL id
 * (GenerateOTP, SubmitOTP, GetCreditHistory) or of the mobile number (registeration and the AEPS endpoints), so any
 * valid input can exercise any result type.
 * docs/simulator.md's "Simulator scenarios" table is checked against this list by test/unit/simulator/scenarios.test.ts.
 */
export type ScenarioName =
  | "success"
  | "unauthorized"
  | "rejected"
  | "server-error-html"
  | "unavailable-retry-after"
  | "no-answer"
  | "truncated-json"
  | "redirect"
  | "slow-success";

export interface Scenario {
  name: ScenarioName;
  /** Last three digits that trigger it; `null` for the default. */
  suffix: string | null;
  /** What the simulator sends back. */
  behaviour: string;
  /** The GraphQL result member (and code) a client sees with default settings. */
  result: string;
}

/** Seconds the simulator asks for in `Retry-After`. */
export const SIM_RETRY_AFTER_SECONDS = 30;
/** How long the slow scenario waits before answering: visible, but inside the default 10 s deadline. */
export const SIM_SLOW_MS = 2_000;

export const SCENARIOS: readonly Scenario[] = [
  {
    name: "success",
    suffix: null,
    behaviour: "HTTP 200 with the documented success envelope (any other ending)",
    result: "`CibilOtpChallenge` / `AepsOtpResent`",
  },
  {
    name: "unauthorized",
    suffix: "401",
    behaviour: "HTTP 401 with the family's documented 401 body",
    result: "`UpstreamUnauthorized` (UPSTREAM_UNAUTHORIZED)",
  },
  {
    name: "rejected",
    suffix: "207",
    behaviour:
      'HTTP 200 carrying a failure: CIBIL\'s documented `{code:"207", status:"False"}`; AEPS `{status:false, response_code:0}`',
    result: "`UpstreamRejected` (UPSTREAM_REJECTED) with upstreamCode and upstreamMessage",
  },
  {
    name: "server-error-html",
    suffix: "500",
    behaviour: "HTTP 500 with an HTML error page",
    result:
      "`OutcomeUnknown` (OUTCOME_UNKNOWN) on a send or a registration: a 500 does not say the request was not carried out; `UpstreamUnavailable` (UPSTREAM_UNAVAILABLE) on the credit-report read",
  },
  {
    name: "unavailable-retry-after",
    suffix: "503",
    behaviour: `HTTP 503 with \`Retry-After: ${SIM_RETRY_AFTER_SECONDS}\``,
    result: `\`UpstreamUnavailable\` (UPSTREAM_UNAVAILABLE) with retryAfterSeconds ${SIM_RETRY_AFTER_SECONDS}`,
  },
  {
    name: "no-answer",
    suffix: "504",
    behaviour: "reads the request and never answers",
    result: "`OutcomeUnknown` (OUTCOME_UNKNOWN) when the deadline passes",
  },
  {
    name: "truncated-json",
    suffix: "299",
    behaviour: "HTTP 200 whose JSON body is cut off half-way",
    result: "`OutcomeUnknown` (OUTCOME_UNKNOWN)",
  },
  {
    name: "redirect",
    suffix: "302",
    behaviour: "HTTP 302 to another host (never followed)",
    result:
      "`OutcomeUnknown` (OUTCOME_UNKNOWN) on a send or a registration: a redirect does not say the request was not " +
      "carried out; `UpstreamUnavailable` (UPSTREAM_BAD_RESPONSE) on the credit-report read",
  },
  {
    name: "slow-success",
    suffix: "888",
    behaviour: `waits ${SIM_SLOW_MS / 1000} s, then succeeds`,
    result: "`CibilOtpChallenge` / `AepsOtpResent`",
  },
];

export function scenarioFor(trigger: string): Scenario {
  const suffix = trigger.slice(-3);
  return SCENARIOS.find((s) => s.suffix === suffix) ?? SCENARIOS[0];
}
