import type { KeyHasher } from "./key-hasher";

/**
 * The consent store's key for (client, customer): consent is per pair, so another client's verification does not
 * open a credit history to this one (docs/security-requirements.md B7). An HMAC: the store never sees either id.
 */
export function consentKey(hasher: KeyHasher, clientId: string, cibilId: string): string {
  return hasher.hash("consent", `${clientId}\n${cibilId}`);
}
