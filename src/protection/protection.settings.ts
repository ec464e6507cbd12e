import { Buffer } from "node:buffer";
import { hkdfSync } from "node:crypto";
import { z } from "zod";
import { custom, defineSettings, int, listOf, oneOf, text } from "../settings/schema";

/** Store sealing keys (store-sealer.ts): AES-256, so 32 bytes. */
export const STORE_KEY_BYTES = 32;
/** Key id of the key derived from HMAC_SECRET when STORE_ENCRYPTION_KEYS is unset. */
export const DERIVED_KEY_ID = "hmac";

export interface StoreKey {
  /** Short name carried in every sealed value, so the right key opens it after a rotation. */
  id: string;
  /** 32 bytes (AES-256). */
  key: Buffer;
}

/** The key used when STORE_ENCRYPTION_KEYS is unset: HKDF-SHA256 over HMAC_SECRET, separated from its HMAC use by `info`. */
export function deriveStoreKey(hmacSecret: Buffer): StoreKey {
  const key = Buffer.from(
    hkdfSync("sha256", hmacSecret, Buffer.alloc(0), "aopay-gql store sealing v1", STORE_KEY_BYTES),
  );
  return { id: DERIVED_KEY_ID, key };
}

export const DEFAULT_REDIS_KEY_PREFIX = "aopay-gql:";
/**
 * How often the Redis server's maxmemory-policy is judged again on a ready connection (REDIS_POLICY_CHECK_SECONDS),
 * besides at each connection. One `INFO memory` per process serves the policy and the memory gauges
 * (protection/redis.ts RedisServerCheck): it is sent every REDIS_POLICY_CHECK_SECONDS or REDIS_MEMORY_POLL_SECONDS,
 * whichever is shorter (REDIS_MEMORY_POLL_SECONDS=0: this one alone), so the default reads it every 15 s, not twice.
 */
export const DEFAULT_REDIS_POLICY_CHECK_SECONDS = 30;
/**
 * How often the Redis server's memory (`INFO memory`: used_memory, maxmemory) is read for the aopay_redis_memory_*
 * gauges (REDIS_MEMORY_POLL_SECONDS; protection/redis-memory.ts): the policy check's own read, sent at the shorter of
 * this and REDIS_POLICY_CHECK_SECONDS, never a second command. 15 s: a scrape interval, and RedisMemoryFilling's 5
 * minutes hold 20 reads. 0 turns the gauges off (the policy is still read every REDIS_POLICY_CHECK_SECONDS).
 */
export const DEFAULT_REDIS_MEMORY_POLL_SECONDS = 15;
/** Stripe keeps idempotency keys at least 24 hours (docs/security-requirements.md E4). */
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86_400;
/**
 * The largest result an Idempotency-Key keeps, in bytes of its JSON before sealing (IDEMPOTENCY_MAX_RESULT_BYTES).
 * A result is the union member the client saw (never the credit report, which is read apart: graphql/loaders.ts);
 * about 1 kB typically (docs/security.md Memory: 1.5 kB per record, sealed), its size set by what AOPay answers (a
 * question's text and answer choices, an upstream message: up to AOPAY_MAX_RESPONSE_BYTES, 1 MiB). 8 KiB keeps every
 * ordinary answer with room, and bounds the in-memory table (MEMORY_IDEMPOTENCY_MAX_KEYS records) and Redis alike.
 */
export const DEFAULT_IDEMPOTENCY_MAX_RESULT_BYTES = 8 * 1024;
/** How long a verified CIBIL OTP lets the same client read that customer's credit history. */
export const DEFAULT_CIBIL_CONSENT_TTL_SECONDS = 1800;
/** The longest CIBIL_CONSENT_TTL_SECONDS may be (24 h): the longest a consent of any replica lives. */
export const MAX_CIBIL_CONSENT_TTL_SECONDS = 86_400;
/**
 * How long "this CIBIL id's OTPs go to this mobile" is kept after a registration (registered-mobiles.ts). Registration
 * is once per customer (docs/upstream/aopay-api.md §1.1) and the CIBIL id stays usable, so a short TTL only delays a
 * flood (register many PANs to one phone today, generate once the records are gone): 90 days.
 */
export const DEFAULT_CIBIL_REGISTERED_MOBILE_TTL_SECONDS = 90 * 86_400;
/** The longest CIBIL_REGISTERED_MOBILE_TTL_SECONDS may be (5 years): the longest a record of any replica lives. */
export const MAX_CIBIL_REGISTERED_MOBILE_TTL_SECONDS = 5 * 365 * 86_400;
/**
 * How long a registration's mobile that could not be recorded (the store unreachable when AOPay answered) is tried
 * again in the background (send-guard.ts #remember): a Redis restart or failover takes seconds to a minute (Sentinel's
 * default down-after is 30 s).
 */
export const DEFAULT_CIBIL_REGISTERED_MOBILE_RETRY_SECONDS = 120;
export const MIN_SECRET_LENGTH = 32;
/**
 * In-memory stores' caps (without REDIS_URL). Entries, not bytes; the bytes per entry are measured in
 * test/unit/protection/memory-footprint.test.ts and docs/security.md ("Memory"). Throttle: one entry per destination
 * (mobile, Aadhaar, CIBIL id: its cooldown, window and daily budgets together, held until the last of them ends) and
 * one per mobile prefix, IP, client and the global key. A CIBIL send to a new id takes 1 entry, an AEPS send to a new
 * mobile and Aadhaar 2 (3 with a new prefix). Before, each destination budget was an entry of its own: 3 per new
 * destination for its first minute (cooldown), 2 until its 10-minute window ended, then 1 for the rest of the day
 * (166 B each then, the largest per entry): an entry now holds a destination for all its windows in about 150 B at
 * the cap with the default budgets (the times of its last 10 sends, 4 B each more per point of OTP_WINDOW_MAX or
 * OTP_DAILY_MAX above 10: memory-counters.ts DestinationCounters), so the same setting holds at least as many
 * destinations in about the same memory.
 */
export const DEFAULT_MEMORY_THROTTLE_MAX_KEYS = 1_000_000;
/**
 * The most of the in-memory throttle table one client's sends may hold (otp-throttle.ts): half, so that one client
 * sending to new destinations at its budgets (OTP_CLIENT_MAX: up to 6 new entries per AEPS send, the 1,000,000 in about
 * 9 hours) leaves the other half to every other client, whose sends a full table would refuse. 100 (no share) by
 * default where only one client can be admitted (config.ts `sharePercent`, as ADMISSION_MAX_IN_FLIGHT_PER_CLIENT): the
 * table is that client's, and every send to a new destination reaches AOPay, so a share would only halve it.
 */
export const DEFAULT_MEMORY_THROTTLE_CLIENT_SHARE_PERCENT = 50;
export const DEFAULT_MEMORY_IDEMPOTENCY_MAX_KEYS = 50_000;
/**
 * The most bytes the in-memory idempotency records may hold (MEMORY_IDEMPOTENCY_MAX_BYTES; idempotency-store.ts
 * `recordBytes`: each record's sealed result plus RECORD_OVERHEAD_BYTES for its key, fingerprint, token and Map entry).
 * 128 MiB: above what MEMORY_IDEMPOTENCY_MAX_KEYS holds with ordinary results (50,000 records of about 1 kB of JSON
 * count about 2.3 kB each, about 115 MB), so the count binds first as before; it binds only when results run near
 * IDEMPOTENCY_MAX_RESULT_BYTES, where 50,000 records held about 550 MB. A request that takes a key sets aside the
 * largest record it can leave (a result of IDEMPOTENCY_MAX_RESULT_BYTES, sealed), so that its result always fits once
 * AOPay has answered; the record shrinks to its result's size then.
 */
export const DEFAULT_MEMORY_IDEMPOTENCY_MAX_BYTES = 128 * 1024 * 1024;
/**
 * What a record costs besides its sealed result, in bytes, as the byte budget counts it (MEMORY_IDEMPOTENCY_MAX_BYTES;
 * idempotency-store.ts): its key and fingerprint (HMACs, 43 characters each), its token (a UUID, 36), the object and
 * the Map's entry. Measured (Node 24, --expose-gc, heapUsed + arrayBuffers after two forced collections, the compiled
 * MemoryIdempotencyStore holding 5,000 to 20,000 records of 150 B, 1 kB and 8 kB of JSON): 788 to 851 B per record
 * besides the sealed result (the Map's doublings make the spread); 320 B, a first estimate, counted a 150 B result's
 * record at 566 B against 1,034 B measured.
 */
export const RECORD_OVERHEAD_BYTES = 800;
/** A sealed value's characters besides its ciphertext: `s1.`, a key id (at most 32), the IV and tag, four dots. */
const SEAL_FRAME_BYTES = 80;

/**
 * The bytes a record holding a result of `jsonBytes` bytes counts for (one byte per character: a sealed value is
 * ASCII, its ciphertext base64url, 4 characters per 3 bytes).
 */
export function recordBytes(jsonBytes: number): number {
  return RECORD_OVERHEAD_BYTES + SEAL_FRAME_BYTES + Math.ceil((jsonBytes * 4) / 3);
}

/**
 * The most of the in-memory idempotency table one client may hold (idempotency-store.ts): half, so that one client
 * sending a new Idempotency-Key with every request (free: its records live 24 h whatever AOPay answers) leaves the
 * other half to every other client. 100 (no share) by default where only one client can be admitted (config.ts
 * `sharePercent`, as the throttle's).
 */
export const DEFAULT_MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT = 50;
/**
 * The most of the in-memory registered-mobile table one client's registrations may hold
 * (memory-registered-mobiles.ts): half, for the same reason (its records live 90 days, and the registration budgets
 * bound only how fast it fills). 100 (no share) by default where only one client can be admitted (config.ts
 * `sharePercent`, as the throttle's).
 */
export const DEFAULT_MEMORY_REGISTERED_MOBILE_CLIENT_SHARE_PERCENT = 50;
/** The documented default of the three MEMORY_*_CLIENT_SHARE_PERCENT (each 50; config.ts `sharePercent`). */
const ONE_CLIENT_SHARE_DOC =
  "`50`; `100` where only one client can be admitted (credentials required, no `AUTH_JWKS_URL`, every " +
  "`API_KEYS` entry the same client's): a share would keep half the table for no one";
export const DEFAULT_MEMORY_CONSENT_MAX_KEYS = 200_000;
/**
 * Three records per customer (memory-registered-mobiles.ts RECORDS_PER_CUSTOMER): 100,000 customers, as two held
 * before.
 */
export const DEFAULT_MEMORY_REGISTERED_MOBILE_MAX_KEYS = 300_000;

/** `id:base64key`: the entry is never echoed (it is the key). */
const storeKeyEntry = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/_-]+={0,2}$/, {
    error:
      "entries must be id:base64key (id of 1 to 32 letters, digits, _ or -; e.g. k2026:$(openssl rand -base64 32))",
  })
  .transform((entry, ctx): StoreKey => {
    const colon = entry.indexOf(":");
    const key = Buffer.from(entry.slice(colon + 1), "base64");
    if (key.length !== STORE_KEY_BYTES)
      ctx.addIssue({
        code: "custom",
        message: `keys must be ${STORE_KEY_BYTES} bytes, base64 (openssl rand -base64 32)`,
      });
    return { id: entry.slice(0, colon), key };
  });
const storeKeys = listOf(storeKeyEntry).refine((keys) => new Set(keys.map((k) => k.id)).size === keys.length, {
  error: "lists the same key id twice (each entry id:base64key with an id of its own, the sealing key first)",
});

/** What HMAC_SECRET_PREVIOUS and HMAC_SECRET_RETIRED list, as their messages say. */
const REPLACED_SECRETS = "secrets HMAC_SECRET replaced, comma-separated";

/** The accepted form of REDIS_URL, as every message about it ends. */
const REDIS_URL_FORM = "redis://[user:password@]host[:port][/database number], e.g. redis://redis:6379/0";

/**
 * The URL may embed a password: the messages never echo it. Only a scheme, credentials, a host, a port and a database
 * number: ioredis (5.x, `parseURL`) takes every query parameter as a connection option that wins over the ones
 * src/protection/redis.ts sets to fail closed, so `?enableOfflineQueue=1&commandTimeout=20000` held a send 3.9 s on a
 * stalled Redis instead of refusing it after 1 s; and a database that is not a number (`/abc`) crashed the process at
 * connection (an unhandled SELECT NaN). Both are refused at start instead.
 */
const redisUrl = z
  .string()
  .refine(
    (raw) => {
      try {
        const url = new URL(raw);
        return url.protocol === "redis:" || url.protocol === "rediss:";
      } catch {
        return false;
      }
    },
    { error: `must be a redis:// or rediss:// URL (${REDIS_URL_FORM})`, abort: true },
  )
  .refine((raw) => new URL(raw).search === "" && new URL(raw).hash === "", {
    error:
      "must have no query string or fragment, they would override the fail-closed connection options " +
      `(${REDIS_URL_FORM})`,
    abort: true,
  })
  .refine((raw) => /^\/?(\d{1,5})?$/.test(new URL(raw).pathname), {
    error: `must name the database as a number or not at all (${REDIS_URL_FORM})`,
  });

/** Shared state of the protections (src/protection/index.ts): throttle, idempotency, consent and registered-mobile stores. */
export const protectionSettings = defineSettings({
  title: "Shared state (throttle, idempotency, consent)",
  module: "src/protection/index.ts",
  prefixes: ["REDIS_", "HMAC_", "IDEMPOTENCY_", "CIBIL_", "STORE_", "MEMORY_"],
  settings: {
    REDIS_URL: custom(redisUrl, {
      secret: true,
      defaultDoc: "unset: in-memory state (one process)",
      doc: "`redis://` or `rediss://` URL of one Redis 7.0 or later node (a primary; not a Redis Cluster: an OTP send's budgets are counted by one script, whose keys must live on one node; the script needs `PEXPIRETIME`, new in 7.0) for shared throttle and idempotency state; the database as a number or not at all, and no query string (ioredis would take its parameters over the fail-closed connection options); treated as a secret (it may hold a password). Set `maxmemory-policy noeviction` on that Redis (docs/deploying.md)",
      example: "redis://redis:6379",
    }),
    REDIS_KEY_PREFIX: text({ default: DEFAULT_REDIS_KEY_PREFIX, doc: "prefix of every Redis key" }),
    REDIS_EVICTING_POLICY: oneOf(["refuse", "warn"], {
      default: "refuse",
      doc:
        "what to do while the Redis server's `maxmemory-policy` is not `noeviction` (every key here has a TTL, so any " +
        "evicting policy, `volatile-*` as well as `allkeys-*`, may delete cooldowns, daily budgets and idempotency " +
        "records at `maxmemory`: more OTPs sent than promised). `refuse`: every OTP send, verification, registration " +
        "and credit-report read is refused with `PROTECTION_UNAVAILABLE` before anything is sent, and `/readyz` " +
        "answers 503 `redis-evicting-policy`, until the policy is `noeviction` again; `warn`: they go on (an error " +
        "line and `aopay_redis_unsafe` only). Judged at each connection and every `REDIS_POLICY_CHECK_SECONDS` " +
        "(`REDIS_MEMORY_POLL_SECONDS` if shorter: the same read); a " +
        "server whose INFO names no policy is not judged (a warn line says so, and " +
        '`aopay_redis_unsafe{problem="eviction_policy_unchecked"}` is 1)',
    }),
    REDIS_POLICY_CHECK_SECONDS: int({
      default: DEFAULT_REDIS_POLICY_CHECK_SECONDS,
      min: 1,
      max: 3600,
      doc:
        "the longest time between two reads of the Redis server's `maxmemory-policy` (`INFO memory`), besides at each " +
        "connection: a `CONFIG SET maxmemory-policy` is seen within this time, both ways. The same `INFO memory` " +
        "feeds the memory gauges: one command per process every `REDIS_POLICY_CHECK_SECONDS` or " +
        "`REDIS_MEMORY_POLL_SECONDS`, whichever is shorter (`15` s by default), not one for each",
    }),
    REDIS_MEMORY_POLL_SECONDS: int({
      default: DEFAULT_REDIS_MEMORY_POLL_SECONDS,
      min: 0,
      max: 3600,
      doc:
        "the longest time between two reads of the Redis server's memory (`INFO memory`: `used_memory`, `maxmemory`) for " +
        "`aopay_redis_memory_used_bytes`, `aopay_redis_memory_max_bytes` and `aopay_redis_memory_read_ok` (the " +
        "`RedisMemoryFilling` alert: with `noeviction`, a full Redis refuses every send). The read is the policy " +
        "check's (`REDIS_POLICY_CHECK_SECONDS`): one `INFO memory` per process at the shorter of the two intervals " +
        "feeds both, and each reading also judges the policy; `0`: the gauges are off (none of the three on the " +
        "page), the policy still read every `REDIS_POLICY_CHECK_SECONDS`",
    }),
    HMAC_SECRET: text({
      minLength: MIN_SECRET_LENGTH,
      howToMake: "`openssl rand -base64 48`",
      secret: true,
      defaultDoc: "random per process (development only)",
      doc:
        "key for HMAC-SHA256 of every identifier in a throttle or idempotency key; at least 32 characters (`openssl rand -base64 48`); " +
        "required in production and with `REDIS_URL` (all replicas share it)",
    }),
    HMAC_SECRET_PREVIOUS: custom(
      listOf(
        z.string().min(MIN_SECRET_LENGTH, {
          error: `entries must be at least ${MIN_SECRET_LENGTH} characters: ${REPLACED_SECRETS}`,
        }),
      ),
      {
        secret: true,
        defaultDoc: "unset: no rotation under way",
        doc:
          "during a rotation of `HMAC_SECRET`, the secret(s) it replaced (comma-separated): every Redis store (throttle, " +
          "idempotency, consent, registered mobiles) reads under them as well as under `HMAC_SECRET` and writes under " +
          "`HMAC_SECRET` (the throttle under both), so no budget, consent, `Idempotency-Key` or registered mobile resets; " +
          "a registered mobile read only under one is copied under `HMAC_SECRET` with its remaining TTL; records sealed " +
          "with the key derived from them still open. Remove it once the short lifetimes have passed " +
          '(docs/security.md "Rotating the HMAC secret": the longest of 24 h, any longer `OTP_*_WINDOW_SECONDS`, ' +
          "`IDEMPOTENCY_TTL_SECONDS` and `CIBIL_CONSENT_TTL_SECONDS` after the last replica switched; registered mobiles " +
          "no send read by then are forgotten unless it moves to `HMAC_SECRET_RETIRED`). Unset, nothing " +
          "more is computed or read; in memory it changes nothing",
      },
    ),
    HMAC_SECRET_NEXT: text({
      minLength: MIN_SECRET_LENGTH,
      howToMake: "`openssl rand -base64 48`",
      secret: true,
      defaultDoc: "unset: no rotation under way",
      doc:
        "step 1 of a rolling rotation of `HMAC_SECRET`: the secret that will replace it. Idempotency, consent and " +
        "registered-mobile stores in Redis read under it as well, and everything is still written under `HMAC_SECRET`, " +
        "so that once every replica has it, the replicas switched to the new secret (step 2) and those not yet switched " +
        'see each other\'s records both ways (docs/security.md "Rotating the HMAC secret"); records sealed with the key ' +
        "derived from it open. Remove it when `HMAC_SECRET` becomes it. Unset, nothing more is computed or read; in " +
        "memory it changes nothing",
    }),
    HMAC_SECRET_RETIRED: custom(
      listOf(
        z.string().min(MIN_SECRET_LENGTH, {
          error: `entries must be at least ${MIN_SECRET_LENGTH} characters: ${REPLACED_SECRETS}`,
        }),
      ),
      {
        secret: true,
        defaultDoc: "unset: no registered mobile read under a replaced secret",
        doc:
          "the last step of a rotation of `HMAC_SECRET`, in place of `HMAC_SECRET_PREVIOUS` once the short lifetimes " +
          "have passed: the registered-mobile store in Redis still reads CIBIL ids' records and PANs' links under these " +
          "secret(s), and copies each record a send reads under `HMAC_SECRET` with its remaining TTL; nothing else reads under them and " +
          "nothing is written under them (the throttle no longer writes budget keys under the replaced secret). " +
          "Remove it `CIBIL_REGISTERED_MOBILE_TTL_SECONDS` after the switch " +
          '(docs/security.md "Rotating the HMAC secret"). Unset, nothing more is computed or read; in memory it ' +
          "changes nothing",
      },
    ),
    STORE_ENCRYPTION_KEYS: custom(storeKeys, {
      secret: true,
      defaultDoc: "derived from `HMAC_SECRET` (HKDF); required in production with `REDIS_URL`",
      doc:
        "AES-256-GCM keys sealing every stored idempotency result and registered CIBIL mobile (in Redis and in memory): " +
        "`id:base64key,...`, 32-byte keys (`echo k1:$(openssl rand -base64 32)`). The first seals, all open: to rotate, " +
        "append the new key on every replica, then (once all have it) move it first, and drop the old one after " +
        "the longer of `IDEMPOTENCY_TTL_SECONDS` and `CIBIL_REGISTERED_MOBILE_TTL_SECONDS` (a record that no longer " +
        "opens refuses that CIBIL id's OTP sends; docs/security.md)",
    }),
    IDEMPOTENCY_TTL_SECONDS: int({
      default: DEFAULT_IDEMPOTENCY_TTL_SECONDS,
      min: 1,
      max: 30 * 86_400,
      doc: "how long an `Idempotency-Key`'s result is kept and replayed",
    }),
    IDEMPOTENCY_MAX_RESULT_BYTES: int({
      default: DEFAULT_IDEMPOTENCY_MAX_RESULT_BYTES,
      min: 512,
      max: 1024 * 1024,
      doc:
        "largest result an `Idempotency-Key` keeps (bytes of its JSON, before sealing), in Redis and in memory; a " +
        "larger one is answered once, and its key keeps only that it was sent: a repeat is answered `OUTCOME_UNKNOWN`, " +
        "never sent again (logged as 'idempotency result too large to keep'; `aopay_idempotency_results_unkept_total`)",
    }),
    CIBIL_CONSENT_TTL_SECONDS: int({
      default: DEFAULT_CIBIL_CONSENT_TTL_SECONDS,
      min: 60,
      max: MAX_CIBIL_CONSENT_TTL_SECONDS,
      doc: "after a verified CIBIL OTP, how long that client may read the customer's credit report",
    }),
    CIBIL_REGISTERED_MOBILE_TTL_SECONDS: int({
      default: DEFAULT_CIBIL_REGISTERED_MOBILE_TTL_SECONDS,
      min: 86_400,
      max: MAX_CIBIL_REGISTERED_MOBILE_TTL_SECONDS,
      doc:
        "after a CIBIL registration, how long the server remembers which mobile that CIBIL id's OTPs go to (sealed, keyed " +
        "by an HMAC of the id), so that `generateCibilOtp` is budgeted on the mobile as well as the id; a CIBIL id with no " +
        "record (older, or registered elsewhere) is budgeted by its id only. Long on purpose: registration is once per " +
        "customer, and a short TTL only delays an OTP flood to one phone through many CIBIL ids",
    }),
    CIBIL_REGISTERED_MOBILE_RETRY_SECONDS: int({
      default: DEFAULT_CIBIL_REGISTERED_MOBILE_RETRY_SECONDS,
      min: 0,
      max: 3600,
      doc:
        "when a registration's mobile, or a verified CIBIL OTP's consent, could not be recorded after AOPay answered (the " +
        "store unreachable or full), how long it is tried again in the background (from 0.2 s apart, doubling to 2 s; a " +
        "store write only, nothing is sent to AOPay again; a consent is held meanwhile by the server process that verified " +
        "it, which serves its credit report: with `WEB_CONCURRENCY` above 1 one worker, not the others); given up, or cut by a shutdown, it is logged and counted in `aopay_unrecorded_writes_total`. " +
        "`0`: not tried again",
    }),
    MEMORY_THROTTLE_MAX_KEYS: int({
      default: DEFAULT_MEMORY_THROTTLE_MAX_KEYS,
      min: 1,
      max: 100_000_000,
      doc:
        "without `REDIS_URL`: most OTP throttle entries held in memory (about 100 bytes each): one per destination " +
        "(mobile, Aadhaar, CIBIL id or token, AEPS user key or reference, for its cooldown, window and daily budgets, kept until " +
        "the last ends), mobile prefix, IP and client; when full, sends needing a new entry are refused with `PROTECTION_UNAVAILABLE`",
    }),
    MEMORY_THROTTLE_CLIENT_SHARE_PERCENT: int({
      min: 1,
      max: 100,
      defaultDoc: ONE_CLIENT_SHARE_DOC,
      doc:
        "without `REDIS_URL`: the most of `MEMORY_THROTTLE_MAX_KEYS` one client's sends, verifications and " +
        "registrations may hold, in percent (a destination's entry counts for the client whose send it last " +
        "counted); past it that client's requests needing a new entry are refused with `PROTECTION_UNAVAILABLE` " +
        "(nothing sent) while the other clients' are served; `100`: no share (one client)",
    }),
    MEMORY_IDEMPOTENCY_MAX_KEYS: int({
      default: DEFAULT_MEMORY_IDEMPOTENCY_MAX_KEYS,
      min: 1,
      max: 10_000_000,
      doc: "without `REDIS_URL`: most idempotency records held in memory; when full, requests with a new `Idempotency-Key` are refused with `PROTECTION_UNAVAILABLE`",
    }),
    MEMORY_IDEMPOTENCY_MAX_BYTES: int({
      default: DEFAULT_MEMORY_IDEMPOTENCY_MAX_BYTES,
      min: 64 * 1024,
      max: 64 * 1024 * 1024 * 1024,
      doc:
        "without `REDIS_URL`: most bytes the idempotency records may hold in memory (each its sealed result plus " +
        "about 800 bytes; a key being sent sets aside room for a result of `IDEMPOTENCY_MAX_RESULT_BYTES`, sealed, " +
        "until AOPay answers); when full, requests with a new `Idempotency-Key` are refused with `PROTECTION_UNAVAILABLE` " +
        "before anything is sent, held keys still replay (`aopay_idempotency_memory_fill_ratio`); at least one " +
        "largest record",
    }),
    MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT: int({
      min: 1,
      max: 100,
      defaultDoc: ONE_CLIENT_SHARE_DOC,
      doc:
        "without `REDIS_URL`: the most of `MEMORY_IDEMPOTENCY_MAX_KEYS` and of `MEMORY_IDEMPOTENCY_MAX_BYTES` one " +
        "client may hold, in percent (at least one record, of the largest result); past either, that client's " +
        "new `Idempotency-Key`s are refused with `PROTECTION_UNAVAILABLE` (nothing sent) " +
        "while the other clients' are served, so one client cannot fill the table for all; `100`: no share (one client)",
    }),
    MEMORY_CONSENT_MAX_KEYS: int({
      default: DEFAULT_MEMORY_CONSENT_MAX_KEYS,
      min: 1,
      max: 10_000_000,
      doc: "without `REDIS_URL`: most CIBIL consent records held in memory; when full, a new consent is not recorded (its credit report answers `CONSENT_REQUIRED`)",
    }),
    MEMORY_REGISTERED_MOBILE_MAX_KEYS: int({
      default: DEFAULT_MEMORY_REGISTERED_MOBILE_MAX_KEYS,
      min: 1,
      max: 10_000_000,
      doc:
        "without `REDIS_URL`: most \"CIBIL id → registered mobiles\" records held in memory, three per customer (its CIBIL id's mobiles, its PAN's link and its access token's; `CIBIL_REGISTERED_MOBILE_TTL_SECONDS`); " +
        "when full, `registerCibilCustomer` is refused with `PROTECTION_UNAVAILABLE` before anything is sent",
    }),
    MEMORY_REGISTERED_MOBILE_CLIENT_SHARE_PERCENT: int({
      min: 1,
      max: 100,
      defaultDoc: ONE_CLIENT_SHARE_DOC,
      doc:
        "without `REDIS_URL`: the most of `MEMORY_REGISTERED_MOBILE_MAX_KEYS` one client's registrations may hold, in " +
        "percent (at least one customer's three records; a record counts for the client that wrote it last); past it that client's registrations are refused " +
        "with `PROTECTION_UNAVAILABLE` (nothing sent) while the other clients' are served; `100`: no share (one client)",
    }),
  },
});
