import { createHash } from "node:crypto";

/**
 * The simulator's memory of customers and OTPs, so a frontend can walk whole flows:
 *   CIBIL: register → GenerateOTP → SubmitOTP (wrong OTP: attempts left; right OTP: verified) → GetCreditHistory
 *   AEPS:  ResendOTP → VerifyOTP
 * Rules (documented in docs/simulator.md, "Simulator flows"):
 *   - the OTP is always SIM_OTP (123456), for both families;
 *   - an OTP allows SIM_OTP_ATTEMPTS tries and expires SIM_OTP_TTL_MS after it was issued (clock injectable);
 *   - a registered CIBIL customer's access token must match; an id the simulator has never seen is accepted with any
 *     token (a sandbox shortcut, so a CIBIL id can be tried without registering first);
 *   - every answer about a customer is drawn from that customer's record here (registered mobile and names, verified
 *     before, last report), so no two answers about one customer disagree.
 * All in memory, per simulator; nothing survives a restart.
 */
export const SIM_OTP = "123456";
export const SIM_OTP_ATTEMPTS = 3;
export const SIM_OTP_TTL_MS = 10 * 60 * 1000;

export type Clock = () => number;

/** What registeration records about a customer (the parts later answers show). */
export interface CibilProfile {
  pan: string;
  /** 10 digits, as registered. */
  mobile: string;
  firstName: string;
  middleName: string | null;
  lastName: string;
}

export interface CibilCustomer extends Omit<CibilProfile, "pan"> {
  cibilId: string;
  /** Null for ids first seen without registration (any token is accepted for them). */
  accessToken: string | null;
  /** First seen without registration: the profile is the simulator's stand-in (sandboxProfile). */
  sandbox: boolean;
  /** Passed SubmitOTP at least once (AOPay's `is_returning_customer` on the next verification). */
  verified: boolean;
  /** When GetCreditHistory last answered for this customer (the next SubmitOTP's `cibil_score_fetch_date`). */
  lastReportAt: number | null;
}

/**
 * The stand-in profile of a CIBIL id the simulator has never seen registered: the mobile `9`, the id's last four
 * digits, then `00000` (so the five digits AOPay shows differ from id to id: 102277100 is sent to 97100****), and a
 * name that says what it is. Recorded on first sight, so every later answer about the id shows the same.
 */
export function sandboxProfile(cibilId: string): Omit<CibilProfile, "pan"> {
  return {
    mobile: `9${cibilId.padStart(4, "0").slice(-4)}00000`,
    firstName: "Sandbox",
    middleName: null,
    lastName: "Customer",
  };
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

  constructor(readonly now: Clock = Date.now) {}

  /**
   * Registration is once per customer: the same PAN gets the same CIBIL id and token again, and the details of its
   * first registration stand (AOPay's behaviour on a repeat is undocumented). `newCibilId` names a new customer; an
   * id already in use (a sandbox id tried before registering) is skipped.
   */
  register(profile: CibilProfile, newCibilId: () => string): CibilCustomer {
    const existing = this.#byPan.get(profile.pan);
    if (existing) return this.#customers.get(existing) as CibilCustomer;
    let cibilId = newCibilId();
    while (this.#customers.has(cibilId)) cibilId = newCibilId();
    const accessToken = `simtok-${createHash("sha256").update(cibilId).digest("hex").slice(0, 24)}`;
    const { pan: _pan, ...shown } = profile;
    const customer: CibilCustomer = {
      ...shown,
      cibilId,
      accessToken,
      sandbox: false,
      verified: false,
      lastReportAt: null,
    };
    this.#customers.set(cibilId, customer);
    this.#byPan.set(profile.pan, cibilId);
    return customer;
  }

  /** The customer for a CIBIL id and token: a registered one must present its own token. */
  cibilCustomer(cibilId: string, accessToken: string): CibilCustomer | "token-mismatch" {
    const known = this.#customers.get(cibilId);
    if (known) return known.accessToken === null || known.accessToken === accessToken ? known : "token-mismatch";
    const sandbox: CibilCustomer = {
      ...sandboxProfile(cibilId),
      cibilId,
      accessToken: null,
      sandbox: true,
      verified: false,
      lastReportAt: null,
    };
    this.#customers.set(cibilId, sandbox);
    return sandbox;
  }

  /** The customer with this id, if the simulator knows one. */
  customer(cibilId: string): CibilCustomer | undefined {
    return this.#customers.get(cibilId);
  }

  /** GetCreditHistory answered for the customer now. */
  reportServed(cibilId: string): void {
    const customer = this.#customers.get(cibilId);
    if (customer) customer.lastReportAt = this.now();
  }

  issueCibilOtp(cibilId: string, questionKey: string): void {
    this.#cibilOtps.set(cibilId, {
      questionKey,
      expiresAt: this.now() + SIM_OTP_TTL_MS,
      attemptsLeft: SIM_OTP_ATTEMPTS,
    });
  }

  checkCibilOtp(cibilId: string, questionKey: string, otp: string): OtpCheck {
    const pending = this.#cibilOtps.get(cibilId);
    const check = this.#check(
      pending,
      otp,
      () => this.#cibilOtps.delete(cibilId),
      pending ? pending.questionKey === questionKey : true,
    );
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

  #check(
    pending: { expiresAt: number; attemptsLeft: number } | undefined,
    otp: string,
    drop: () => void,
    questionMatches: boolean,
  ): OtpCheck {
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
