import type { ConsentStore } from "./consent-store";
import type { KeyHasher } from "./key-hasher";

/**
 * The consent store's key for (client, customer): consent is per pair, so another client's verification does not
 * open a credit history to this one (docs/security-requirements.md B7). An HMAC: the store never sees either id.
 */
export function consentKey(hasher: KeyHasher, clientId: string, cibilId: string): string {
  return hasher.hash("consent", `${clientId}\n${cibilId}`);
}

/**
 * Whether the client holds the customer's consent: recorded under the current secret, or, during a rotation of
 * HMAC_SECRET, under a previous one or the coming one (docs/security.md "Rotating the HMAC secret": a replica not yet
 * switched reads what a switched one recorded; a grant is always written under the current one). `others` is empty
 * without HMAC_SECRET_PREVIOUS and HMAC_SECRET_NEXT: no HMAC here (the caller's `key`) and one read.
 */
export async function hasConsent(
  store: ConsentStore,
  /**
   * consentKey under the current secret, computed by the caller: once per request and CIBIL id (graphql/loaders.ts
   * Loaders.consentKey), shared with the grant of the same request.
   */
  key: string,
  others: readonly KeyHasher[],
  clientId: string,
  cibilId: string,
  /** Told the index in `others` of the secret a consent was found under (Protection.olderRead). */
  foundUnder?: (index: number) => void,
): Promise<boolean> {
  if (await store.has(key)) return true;
  for (let i = 0; i < others.length; i++) {
    if (await store.has(consentKey(others[i], clientId, cibilId))) {
      foundUnder?.(i);
      return true;
    }
  }
  return false;
}
