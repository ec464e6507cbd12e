/**
 * The OTP guard's proof of admission for one upstream write (docs/security-requirements.md B1-B5, E4). An endpoint
 * with side effects (an SMS sent, a verification attempt burnt, a customer created) runs only with a live pass, and a
 * pass admits exactly one call: AopayClient redeems it before anything is built or sent. protection/send-guard.ts issues
 * passes, after the idempotency claim and the throttle reservation, and nothing else in src/ may (a test scans for
 * it). So a mutation that calls `ctx.aopay.*` directly, outside the guard, is refused before it reaches AOPay, and its
 * author finds out in the first test that runs it.
 */
export interface SendPass {
  /** The guarded mutation the pass was issued for (for the refusal's log line). */
  readonly field: string;
}

/**
 * A pass is live while its private `#live` is true. The brand check (`#live in pass`) recognises only objects this
 * class made, so a copy (`{ ...pass }`) or a literal `{ field }` is no pass. This replaced a WeakSet of live passes
 * and an Object.freeze per pass: issuing and redeeming cost 0.4 % of a request's CPU in the bench's profile
 * (ephemeron-table inserts and a frozen-map transition per pass), now a plain allocation and a field write.
 */
class LivePass implements SendPass {
  #live = true;
  constructor(readonly field: string) {}

  static redeem(pass: unknown): boolean {
    if (typeof pass !== "object" || pass === null || !(#live in pass) || !pass.#live) return false;
    pass.#live = false;
    return true;
  }
}

export function issueSendPass(field: string): SendPass {
  return new LivePass(field);
}

/** True the first time a live pass is redeemed, false for anything else (no pass, a forged one, a used one). */
export function redeemSendPass(pass: unknown): boolean {
  return LivePass.redeem(pass);
}

/** Thrown (a bug, never an upstream outcome) when a side-effecting endpoint is called without a live pass. */
export class UnguardedSendError extends Error {
  constructor(readonly endpoint: string) {
    super(
      `refused: ${endpoint} has side effects and was called without a send pass from the OTP guard (protection/send-guard.ts)`,
    );
    this.name = "UnguardedSendError";
  }
}
