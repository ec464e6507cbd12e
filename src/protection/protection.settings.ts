import { z } from "zod";
import { custom, defineSettings, int, text } from "../settings/schema";

export const DEFAULT_REDIS_KEY_PREFIX = "aopay-gql:";
/** Stripe keeps idempotency keys at least 24 hours (docs/security-requirements.md E4). */
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86_400;
/** How long a verified CIBIL OTP lets the same client read that customer's credit history. */
export const DEFAULT_CIBIL_CONSENT_TTL_SECONDS = 1800;
export const MIN_SECRET_LENGTH = 32;

/** The URL may embed a password: the message never echoes it. */
const redisUrl = z.string().refine(
  (raw) => {
    try {
      const url = new URL(raw);
      return url.protocol === "redis:" || url.protocol === "rediss:";
    } catch {
      return false;
    }
  },
  { error: "must be a redis:// or rediss:// URL" },
);

/** Shared state of the protections (src/protection/index.ts): throttle, idempotency and consent stores. */
export const protectionSettings = defineSettings({
  title: "Shared state (throttle, idempotency, consent)",
  module: "src/protection/index.ts",
  prefixes: ["REDIS_", "HMAC_", "IDEMPOTENCY_", "CIBIL_"],
  settings: {
    REDIS_URL: custom(redisUrl, {
      secret: true,
      defaultDoc: "unset: in-memory state (one process)",
      doc: "`redis://` or `rediss://` URL for shared throttle and idempotency state; treated as a secret (it may hold a password)",
      example: "redis://redis:6379",
    }),
    REDIS_KEY_PREFIX: text({ default: DEFAULT_REDIS_KEY_PREFIX, doc: "prefix of every Redis key" }),
    HMAC_SECRET: text({
      minLength: MIN_SECRET_LENGTH,
      secret: true,
      defaultDoc: "random per process (development only)",
      doc:
        "key for HMAC-SHA256 of every identifier in a throttle or idempotency key; at least 32 characters (`openssl rand -base64 48`); " +
        "required in production and with `REDIS_URL` (all replicas share it)",
    }),
    IDEMPOTENCY_TTL_SECONDS: int({
      default: DEFAULT_IDEMPOTENCY_TTL_SECONDS,
      min: 1,
      max: 30 * 86_400,
      doc: "how long an `Idempotency-Key`'s result is kept and replayed",
    }),
    CIBIL_CONSENT_TTL_SECONDS: int({
      default: DEFAULT_CIBIL_CONSENT_TTL_SECONDS,
      min: 60,
      max: 86_400,
      doc: "after a verified CIBIL OTP, how long that client may read the customer's credit report",
    }),
  },
});
