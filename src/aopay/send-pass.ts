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

/** Passes issued and not yet redeemed. Weak: a pass that is never used costs nothing once dropped. */
const live = new WeakSet<SendPass>();

export function issueSendPass(field: string): SendPass {
  const pass: SendPass = Object.freeze({ field });
  live.add(pass);
  return pass;
}

/** True the first time a live pass is redeemed, false for anything else (no pass, a forged one, a used one). */
export function redeemSendPass(pass: unknown): boolean {
  if (typeof pass !== "object" || pass === null || !live.has(pass as SendPass)) return false;
  live.delete(pass as SendPass);
  return true;
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
