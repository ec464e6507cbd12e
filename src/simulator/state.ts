import { createHash } from "node:crypto";
import { scenarioFor } from "./scenarios";

/**
 * The simulator's memory of customers and OTPs, so a frontend can walk whole flows:
 *   CIBIL: register → GenerateOTP → SubmitOTP (wrong OTP: attempts left; right OTP: verified) → GetCreditHistory
 *   AEPS:  ResendOTP → VerifyOTP
 * Rules (documented in docs/simulator.md, "Simulator flows"):
 *   - the OTP is always SIM_OTP (123456), for both families;
 *   - an OTP allows SIM_OTP_ATTEMPTS tries and expires SIM_OTP_TTL_MS after it was issued (clock injectable);
 *   - a registered CIBIL customer's access token must match; an id the simulator has never seen is accepted with any
 *     token (a sandbox shortcut, so a CIBIL id can be tried without registering first).
 * All in memory, per simulator; nothing survives a restart.
 */
export const SIM_OTP = "123456";
export const SIM_OTP_ATTEMPTS = 3;
export const SIM_OTP_TTL_MS = 10 * 60 * 1000;

export type Clock = () => number;

interface CibilCustomer {
  cibilId: string;
  /** Null for ids first seen without registration (any token is accepted for them). */
  accessToken: string | null;
  verified: boolean;
}

interface PendingOtp {
  questionKey: string;
  expiresAt: number;
  attemptsLeft: number;
}

interface AepsSession {
  expiresAt: number;
  attemptsLeft: number;
  /** Verified, or out of attempts: no OTP is pending until ResendOTP issues a new one. */
  closed: boolean;
}

export type OtpCheck =
  | { ok: true }
  | { ok: false; reason: "none" | "expired" | "exhausted" | "wrong-question" | "wrong-otp"; attemptsLeft?: number };

export class SimState {
  readonly #customers = new Map<string, CibilCustomer>();
  readonly #byPan = new Map<string, string>();
  readonly #cibilOtps = new Map<string, PendingOtp>();
  readonly #aeps = new Map<string, AepsSession>();
  #nextCibilId = 700_000_001;

  constructor(readonly now: Clock = Date.now) {}

  /** Registration is once per customer: the same PAN gets the same CIBIL id and token again. */
  register(pan: string): CibilCustomer {
    const existing = this.#byPan.get(pan);
    if (existing) return this.#customers.get(existing) as CibilCustomer;
    let cibilId = String(this.#nextCibilId++);
    // Never hand out an id whose last digits would trigger a failure scenario on the customer's next calls.
    while (scenarioFor(cibilId).name !== "success") cibilId = String(this.#nextCibilId++);
    const accessToken = `simtok-${createHash("sha256").update(cibilId).digest("hex").slice(0, 24)}`;
    const customer = { cibilId, accessToken, verified: false };
    this.#customers.set(cibilId, customer);
    this.#byPan.set(pan, cibilId);
    return customer;
  }

  /** The customer for a CIBIL id and token: a registered one must present its own token. */
  cibilCustomer(cibilId: string, accessToken: string): CibilCustomer | "token-mismatch" {
    const known = this.#customers.get(cibilId);
    if (known) return known.accessToken === null || known.accessToken === accessToken ? known : "token-mismatch";
    const sandbox = { cibilId, accessToken: null, verified: false };
    this.#customers.set(cibilId, sandbox);
    return sandbox;
  }

  isVerified(cibilId: string): boolean {
    return this.#customers.get(cibilId)?.verified === true;
  }

  issueCibilOtp(cibilId: string, questionKey: string): void {
    this.#cibilOtps.set(cibilId, { questionKey, expiresAt: this.now() + SIM_OTP_TTL_MS, attemptsLeft: SIM_OTP_ATTEMPTS });
  }

  checkCibilOtp(cibilId: string, questionKey: string, otp: string): OtpCheck {
    const pending = this.#cibilOtps.get(cibilId);
    const check = this.#check(pending, otp, () => this.#cibilOtps.delete(cibilId), pending ? pending.questionKey === questionKey : true);
    if (check.ok) {
      // A challenge answers once.
      this.#cibilOtps.delete(cibilId);
      const customer = this.#customers.get(cibilId);
      if (customer) customer.verified = true;
    }
    return check;
  }

  /**
   * ResendOTP always issues a fresh OTP. The first VerifyOTP for references never seen before stands in for the
   * undocumented registration step that sent the first OTP; after that, only ResendOTP renews.
   */
  openAepsSession(key: string, renew: boolean): void {
    if (!renew && this.#aeps.has(key)) return;
    this.#aeps.set(key, { expiresAt: this.now() + SIM_OTP_TTL_MS, attemptsLeft: SIM_OTP_ATTEMPTS, closed: false });
  }

  checkAepsOtp(key: string, otp: string): OtpCheck {
    const session = this.#aeps.get(key);
    const close = () => {
      if (session) session.closed = true;
    };
    const check = this.#check(session && !session.closed ? session : undefined, otp, close, true);
    if (check.ok) close();
    return check;
  }

  #check(pending: { expiresAt: number; attemptsLeft: number } | undefined, otp: string, drop: () => void, questionMatches: boolean): OtpCheck {
    if (!pending) return { ok: false, reason: "none" };
    if (this.now() > pending.expiresAt) {
      drop();
      return { ok: false, reason: "expired" };
    }
    if (!questionMatches) return { ok: false, reason: "wrong-question" };
    if (otp !== SIM_OTP) {
      pending.attemptsLeft -= 1;
      if (pending.attemptsLeft <= 0) {
        drop();
        return { ok: false, reason: "exhausted", attemptsLeft: 0 };
      }
      return { ok: false, reason: "wrong-otp", attemptsLeft: pending.attemptsLeft };
    }
    return { ok: true };
  }
}

/** The message the simulator sends for a failed OTP check (its own wording; AOPay's is undocumented). */
export function otpFailureMessage(check: Extract<OtpCheck, { ok: false }>, resendHint: string): string {
  switch (check.reason) {
    case "none":
      return `Simulated: no OTP is pending; ${resendHint}`;
    case "expired":
      return `Simulated: the OTP has expired; ${resendHint}`;
    case "exhausted":
      return `Simulated: invalid OTP, no attempts left; ${resendHint}`;
    case "wrong-question":
      return "Simulated: question_key does not match the pending challenge";
    case "wrong-otp":
      return `Simulated: invalid OTP, ${check.attemptsLeft} attempt${check.attemptsLeft === 1 ? "" : "s"} left`;
  }
}
