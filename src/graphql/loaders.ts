import DataLoader from "dataloader";
import type { AopayClient, CallOptions } from "../aopay/client";
import { isAopayError } from "../aopay/errors";
import type { Logger } from "../logging/logger";
import { Summarised } from "../logging/summarised";
import { hasConsent } from "../protection/consent";
import type { ConsentStore } from "../protection/consent-store";
import { ProtectionStoreError } from "../protection/errors";
import type { KeyHasher } from "../protection/key-hasher";
import { CibilCreditHistory } from "./cibil/cibil-credit-history.type";
import type { ConsentRequired, ProtectionUnavailable, UpstreamFailure } from "./failures/failure.types";
import { consentRequired, protectionUnavailable, toFailure } from "./failures/to-failure";

export type CreditHistoryMember = CibilCreditHistory | ConsentRequired | ProtectionUnavailable | UpstreamFailure;

/**
 * Per-request DataLoaders (docs/design/style.md principle 7): built on first use in a request, never shared between requests.
 * They dedupe and batch reads only, never OTP sends: one operation asking for the same credit history several
 * times, directly or through verification results, makes one upstream call per distinct CIBIL id. (AOPay has no batch
 * endpoint, so a batch is concurrent single calls.)
 */
export interface Loaders {
  creditHistory: DataLoader<string, CreditHistoryMember>;
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
  clientId: string;
  log: Logger;
  callOptions(): CallOptions;
  /** The request's response headers: a credit history read sets `Cache-Control: no-store`. */
  responseHeaders: Map<string, string>;
}

export function createLoaders(inputs: LoaderInputs): Loaders {
  return {
    creditHistory: new DataLoader<string, CreditHistoryMember>(
      (cibilIds) => Promise.all(cibilIds.map((id) => loadCreditHistory(inputs, id))),
      {
        maxBatchSize: 10,
      },
    ),
  };
}

/**
 * The operation label a credit-report read refused for a failed consent store is counted under
 * (aopay_protection_unavailable_total), whichever field asked (the query, or a verification's nested read): before,
 * such refusals were in no metric, and OtpProtectionUnavailable missed a Redis outage seen by reads alone.
 */
export const CONSENT_READ = "cibilCreditHistory";

/** Reads refused for an unreachable consent store: a condition of the whole process, logged as a summary. */
const consentUnavailableLog = new Summarised();

/**
 * The consent check, then the read. Failures are result members (the union), never thrown, unless they are bugs.
 * The answer (a credit report, when consented) is handed to this request only: it is not cached beyond the
 * request's DataLoader, not stored, not logged, and the response says `Cache-Control: no-store` so that no browser or
 * proxy keeps it either (a query may come as a GET).
 */
async function loadCreditHistory(inputs: LoaderInputs, cibilId: string): Promise<CreditHistoryMember> {
  const { log } = inputs;
  inputs.responseHeaders.set("cache-control", "no-store");
  try {
    // No line of its own: the access line's `result` says CONSENT_REQUIRED per root field, and a refusal anyone can
    // repeat at will (three per request, the alias limit) had written three lines of 220 bytes beside it.
    const { consent, hasher, readHashers, clientId, olderRead } = inputs;
    const foundUnder = olderRead && ((index: number) => olderRead("consent", index));
    if (!(await hasConsent(consent, hasher, readHashers ?? [], clientId, cibilId, foundUnder)))
      return consentRequired();
  } catch (error) {
    if (!(error instanceof ProtectionStoreError)) throw error;
    // One line per SUMMARY_INTERVAL_MS while the store is down, not one per read (logging/summarised.ts).
    const suppressed = consentUnavailableLog.take();
    if (suppressed !== null) log.error({ err: error, suppressed }, "credit history refused: consent store unavailable");
    inputs.unavailable?.(CONSENT_READ);
    return protectionUnavailable();
  }
  try {
    return CibilCreditHistory.from(await inputs.aopay.cibil.creditHistory({ cibilId }, inputs.callOptions()));
  } catch (error) {
    if (isAopayError(error)) return toFailure(error);
    throw error;
  }
}
