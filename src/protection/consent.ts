import { type ConsentStore, readConsent } from "./consent-store";
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
 * without HMAC_SECRET_PREVIOUS and HMAC_SECRET_NEXT: one read. With them, every key is read (at once: one round trip
 * to Redis) and an operator's revoke mark under any of them is no consent, whatever the others hold: a revoke is one
 * customer's for one client, whichever secret its key was computed with. Before, the first consent found answered, so
 * a grant under the previous secret's key outlived a mark under the current one's (and the other way round) unless the
 * operator had marked every key (docs/operations.md "Revoking a consent"). The keys are the caller's, computed once
 * per request and CIBIL id (graphql/loaders.ts Loaders.consentKeys) and shared with the grant of the same request,
 * which reads them all for a mark as well (ConsentStore.grant).
 */
export async function hasConsent(
  store: ConsentStore,
  /** consentKey under the current secret. */
  key: string,
  /** consentKey under each of the other secrets read (Protection.readHashers), in their order. */
  others: readonly string[],
  /** Told the index in `others` of the secret a consent was found under (Protection.olderRead). */
  foundUnder?: (index: number) => void,
): Promise<boolean> {
  if (others.length === 0) return store.has(key);
  const states = await Promise.all([readConsent(store, key), ...others.map((other) => readConsent(store, other))]);
  if (states.includes("revoked")) return false;
  if (states[0] === "consent") return true;
  const found = states.indexOf("consent", 1);
  if (found < 0) return false;
  foundUnder?.(found - 1);
  return true;
}

/** consentKey of (client, customer) under each of `hashers` (the other secrets read during a rotation), in order. */
export function otherConsentKeys(hashers: readonly KeyHasher[], clientId: string, cibilId: string): string[] {
  return hashers.map((hasher) => consentKey(hasher, clientId, cibilId));
}
