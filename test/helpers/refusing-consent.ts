import type { ConsentStore, RedisConsentStore } from "../../src/protection/consent-store";
import { ProtectionStoreError } from "../../src/protection/errors";

/** A real RedisConsentStore whose first `refusals` grants are refused, as a full or unreachable Redis refuses them. */
export function refusingFirst(store: RedisConsentStore, refusals: number): ConsentStore {
  let left = refusals;
  return {
    grant: (key, ttlMs, others) => {
      if (left-- > 0) return Promise.reject(new ProtectionStoreError("consent", new Error("OOM (test)")));
      return store.grant(key, ttlMs, others);
    },
    has: (key) => store.has(key),
    read: (key) => store.read(key),
    grantNoShorter: (key, ttlMs, others) => store.grantNoShorter(key, ttlMs, others),
  };
}
