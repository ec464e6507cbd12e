import DataLoader from "dataloader";
import type { AopayClient, CallOptions } from "../aopay/client";
import { isAopayError } from "../aopay/errors";
import type { Logger } from "../logging/logger";
import { consentKey, hasConsent, otherConsentKeys } from "../protection/consent";
import type { ConsentStore } from "../protection/consent-store";
import { ProtectionStoreError } from "../protection/errors";
import type { KeyHasher } from "../protection/key-hasher";
import type { SharedTable } from "../protection/memory-counters";
import type { OtpThrottle, Reservation, ThrottleCode, ThrottleScope } from "../protection/otp-throttle";
import { refuseForStoreFailure, type StoreFailureLines } from "../protection/store-failure";
import { type AccessSummary, noteAccess } from "../logging/access-log";
import { isPromiseLike } from "../util/promise-like";
import { CibilCreditHistory } from "./cibil/cibil-credit-history.type";
import type { ConsentRequired, ProtectionUnavailable, ReadThrottled, UpstreamFailure } from "./failures/failure.types";
import { consentRequired, protectionUnavailable, readThrottled, toFailure } from "./failures/to-failure";

export type CreditHistoryMember =
  CibilCreditHistory | ConsentRequired | ProtectionUnavailable | ReadThrottled | UpstreamFailure;

/**
 * Per-request DataLoaders (docs/design/style.md principle 7): built on first use in a request, never shared between requests.
 * They dedupe and batch reads only, never OTP sends: one operation asking for the same credit history several
 * times, directly or through verification results, makes one upstream call per distinct CIBIL id. (AOPay has no batch
 * endpoint, so a batch is concurrent single calls.)
 */
export interface Loaders {
  creditHistory: DataLoader<string, CreditHistoryMember>;
  /**
   * The consent keys of (this request's client, `cibilId`): `key` under the current secret (protection/consent.ts
   * consentKey), `others` under readHashers (empty without a rotation), computed once per request and id:
   * submitCibilOtp grants under `key` (reading `others` for a revoke mark) and its nested creditHistory checks under
   * them all. Each computed them before, an HMAC per secret twice per verification that reads the report
   * (test/e2e/hmac-once-per-request.test.ts).
   */
  consentKeys(cibilId: string): ConsentKeys;
}

/** One consent's keys: where a grant is written, and the other secrets' keys read with it. */
export interface ConsentKeys {
  key: string;
  others: readonly string[];
}

/** What the loaders need from the request: only this, not the whole GraphQL context (which holds the loaders). */
export interface LoaderInputs {
  aopay: Pick<AopayClient, "cibil">;
  consent: ConsentStore;
  hasher: KeyHasher;
  /**
   * HMAC_SECRET_PREVIOUS's and HMAC_SECRET_NEXT's hashers (Protection.readHashers): a consent recorded under one still
   * counts (a replica still on the old secret sees a consent a switched one recorded, and the other way round).
   */
  readHashers?: readonly KeyHasher[];
  /** Counts a read refused because the consent store failed (Protection.unavailable). */
  unavailable?: (field: string) => void;
  /** Counts a consent found under readHashers[index] (Protection.olderRead). */
  olderRead?: (store: "consent", index: number) => void;
  /** The read budgets (Protection.readBudget): per (client, CIBIL id) and per client. */
  readBudget: Pick<OtpThrottle, "reserve">;
  /** Counts a read refused by its budget (Protection.throttled). */
  throttled?: (field: string, code: ThrottleCode, scope: ThrottleScope) => void;
  /** Counts a read refused for its client's share of the in-memory throttle table (Protection.overShare). */
  overShare?: (field: string, table: SharedTable) => void;
  /** The request's access summary: a refused read notes its budget's scope (`throttled`), as a throttled send does. */
  summary?: AccessSummary;
  /** The caller's IP (canonical, GraphQLContext.ip): the read attempts' budget (purpose `read-attempt`) is per IP. */
  ip: string;
  clientId: string;
  log: Logger;
  /**
   * The process's summarised store-failure lines (Protection.storeLines): a read refused for a failed store writes one
   * line per reason and 10 s, the rest in a summary. Absent: every such line written (loaders built by hand).
   */
  storeLines?: StoreFailureLines;
  callOptions(): CallOptions;
  /** The request's response headers: a credit history read sets `Cache-Control: no-store`. */
  responseHeaders: Map<string, string>;
}

export function createLoaders(inputs: LoaderInputs): Loaders {
  // By CIBIL id; a request names at most a few (the alias limit).
  const consentKeys = new Map<string, ConsentKeys>();
  const keysOf = (cibilId: string): ConsentKeys => {
    let keys = consentKeys.get(cibilId);
    if (keys === undefined) {
      const { hasher, readHashers, clientId } = inputs;
      const others = readHashers && readHashers.length > 0 ? otherConsentKeys(readHashers, clientId, cibilId) : [];
      consentKeys.set(cibilId, (keys = { key: consentKey(hasher, clientId, cibilId), others }));
    }
    return keys;
  };
  return {
    creditHistory: new DataLoader<string, CreditHistoryMember>(
      (cibilIds) => Promise.all(cibilIds.map((id) => loadCreditHistory(inputs, id, keysOf(id)))),
      {
        maxBatchSize: 10,
      },
    ),
    consentKeys: keysOf,
  };
}

/**
 * The operation label a credit-report read refused for a failed consent store is counted under
 * (aopay_protection_unavailable_total), whichever field asked (the query, or a verification's nested read): before,
 * such refusals were in no metric, and OtpProtectionUnavailable missed a Redis outage seen by reads alone.
 */
export const CONSENT_READ = "cibilCreditHistory";

/**
 * The consent check, then the read. Failures are result members (the union), never thrown, unless they are bugs.
 * The answer (a credit report, when consented) is handed to this request only: it is not cached beyond the
 * request's DataLoader, not stored, not logged, and the response says `Cache-Control: no-store` so that no browser or
 * proxy keeps it either (a query may come as a GET).
 */
async function loadCreditHistory(
  inputs: LoaderInputs,
  cibilId: string,
  consentKeys: ConsentKeys,
): Promise<CreditHistoryMember> {
  const { log } = inputs;
  inputs.responseHeaders.set("cache-control", "no-store");
  // The IP's read attempts first, consented or not, and kept (READ_IP_MAX): a refusal for want of consent says "this
  // client has no consent for that CIBIL id" and cost nothing, so one IP holding a key every install of an app shares
  // could probe id after id for the customers the app verified lately, then pull their reports up to the whole
  // client's read budget. The point pays for the consent lookup as well, so it is not given back.
  const attempt = await reserveRead(inputs, cibilId, "read-attempt");
  if (!attempt.allowed) return attempt.failure;
  try {
    // No line of its own: the access line's `result` says CONSENT_REQUIRED per root field, and a refusal anyone can
    // repeat at will (three per request, the alias limit) had written three lines of 220 bytes beside it.
    const { consent, olderRead } = inputs;
    const foundUnder = olderRead && ((index: number) => olderRead("consent", index));
    if (!(await hasConsent(consent, consentKeys.key, consentKeys.others, foundUnder))) return consentRequired();
  } catch (error) {
    if (!(error instanceof ProtectionStoreError)) throw error;
    // One line per SUMMARY_INTERVAL_MS while the store is down, not one per read (protection/store-failure.ts).
    if (inputs.storeLines?.unavailable.take("consent") ?? true)
      log.error({ err: error }, "credit history refused: consent store unavailable");
    inputs.unavailable?.(CONSENT_READ);
    return protectionUnavailable();
  }
  // The read budgets, after the consent check (a read without consent costs none of them, only its IP's attempt above)
  // and before AOPay: each read is a GetCreditHistory call (docs/upstream/aopay-api.md §1.4), a credit-bureau pull,
  // presumably charged (the docs are silent on what AOPay charges), which consent alone let a client repeat as often
  // as admission allowed. Once per id per request: the DataLoader calls this once per distinct id, however often the
  // operation asks for it.
  const reserved = await reserveRead(inputs, cibilId, "read");
  if (!reserved.allowed) return reserved.failure;
  try {
    return CibilCreditHistory.from(await inputs.aopay.cibil.creditHistory({ cibilId }, inputs.callOptions()));
  } catch (error) {
    if (!isAopayError(error)) throw error;
    // Provably never left (the circuit open, the bulkhead full, the deadline passed or the client gone before the
    // write): nothing was pulled, so the read costs nothing, as a send that never left (protection/send-guard.ts).
    // Anything that may have reached AOPay keeps its cost. Best effort: with the store gone the point stays taken.
    if (!error.sent) await giveBack(inputs, reserved.reservation);
    return toFailure(error);
  }
}

type ReadReservation =
  { allowed: true; reservation: Reservation } | { allowed: false; failure: ReadThrottled | ProtectionUnavailable };

/**
 * One point from the read's (client, CIBIL id) budget and its client's read budget (`read`), or from its IP's read
 * attempts (`read-attempt`), or none: ReadThrottled when one is
 * used up (counted in aopay_otp_throttled_total{operation=cibilCreditHistory,code=READ_THROTTLED}, its scope on the
 * access line, no line of its own: a refusal a client can repeat at will), ProtectionUnavailable when the store fails
 * (fail closed, as the consent check).
 */
async function reserveRead(
  inputs: LoaderInputs,
  cibilId: string,
  purpose: "read" | "read-attempt",
): Promise<ReadReservation> {
  try {
    const subject = {
      destinations: [{ kind: "cibil" as const, value: cibilId }],
      ip: inputs.ip,
      clientId: inputs.clientId,
    };
    let taken = inputs.readBudget.reserve(subject, purpose);
    if (isPromiseLike(taken)) taken = await taken;
    if (taken.allowed) return { allowed: true, reservation: taken };
    inputs.throttled?.(CONSENT_READ, taken.code, taken.scope);
    noteAccess(inputs.summary, "throttled", taken.scope);
    return { allowed: false, failure: readThrottled(taken.scope, taken.retryAfterSeconds) };
  } catch (error) {
    if (!(error instanceof ProtectionStoreError)) throw error;
    // Sorted as a send's (protection/store-failure.ts): over share, full (the table warns), or unavailable.
    refuseForStoreFailure(error, {
      field: CONSENT_READ,
      overShare: inputs.overShare,
      unavailable: inputs.unavailable,
      summary: inputs.storeLines?.unavailable,
      reason: "read budget",
      log: inputs.log,
      message: "credit history refused: read budget store unavailable",
    });
    return { allowed: false, failure: protectionUnavailable() };
  }
}

/** Gives a read's points back, never throwing: logged if the store fails. */
async function giveBack(inputs: LoaderInputs, reservation: Reservation): Promise<void> {
  try {
    await reservation.refund();
  } catch (error) {
    inputs.log.error({ err: error }, "credit history read budget: refund failed");
  }
}
