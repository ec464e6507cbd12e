import { hash } from "node:crypto";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type CryptoKey,
  errors as joseErrors,
  jwtVerify,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from "jose";
import type { Logger } from "../logging/logger";
import { shownAsRead } from "../pii/client-text";
import { maskGlued, Scrubber } from "../pii/scrub";
import { ANONYMOUS_CLIENT_ID, type AuthConfig, jwtType } from "./auth.settings";

/** Who is calling. Every request has one; `anonymous` only where authentication is optional (development). */
export interface ClientIdentity {
  /** What the client's budgets, idempotency records and consents belong to: the id whole. */
  id: string;
  /** The id as log lines and spans show it (shownClientId). */
  shown: string;
  via: "api-key" | "jwt" | "anonymous";
}

/** The log scrubber's patterns alone (no secrets): shownClientId applies them where no line scrubber runs. */
const PATTERNS = new Scrubber();

/**
 * A client id as it leaves the process in log lines and span attributes: the log scrubber's masks (a mobile, an
 * Aadhaar number, a PAN, an e-mail), and every run of ten or more digits (of any script, separated or not) as `X`s and
 * every PAN shape, even glued to letters (pii/scrub.ts maskGlued), which the scrubber's rule for tokens leaves alone
 * (`sub_98123_45678`, `panCNRPY7315Q`: an attack review). A client id is a name an operator (API_KEYS) or
 * an identity provider (the token's claim: `sub` may be a user's number) chose, and it was exported whole on every span
 * (`aopay.client_id`, which no scrubber reads) and logged whole on every line when a number was glued into it
 * (`mob9812345678`). Two ids may show alike (`mob9812345678`, `mob9812345679`); their budgets stay apart (`id`).
 */
export function shownClientId(id: string): string {
  // As read (pii/client-text.ts): a token's claim may hold a number percent-escaped or in punycode.
  return shownAsRead(id, (text) => maskGlued(PATTERNS.scrub(text)));
}

/**
 * A refusal: the client's credentials (401), or, kind `unavailable`, a bearer token that could not be checked
 * because the identity provider's key set could not be had (503 AUTH_UNAVAILABLE, exchange.ts authRefusal); `cause`
 * is then what failed (a jose error, or the fetch's own: never the token), for the warning line. `kind` says which
 * 401 message the refusal gets (refusalMessage); `reason` is the access line's `refused`, for the operator.
 */
export type AuthOutcome =
  | { ok: true; client: ClientIdentity }
  | { ok: false; kind: RefusalKind; reason: string }
  | { ok: false; kind: "unavailable"; reason: string; cause: unknown };

/**
 * What a 401 tells the client to send (refusalMessage): `credentials`, a valid one of those this server accepts;
 * `both`, one kind only; `repeatedApiKey` and `repeatedAuthorization`, the header once. The message was chosen by
 * comparing the reason's text with these reasons' constants, so a reason reworded in one place would have told the
 * client to send what it had sent.
 */
export type RefusalKind = "credentials" | "both" | "repeatedApiKey" | "repeatedAuthorization";

/** The refusal of a request that carries both kinds of credential; its reason is its access line's `refused`. */
const BOTH: AuthOutcome = Object.freeze({
  ok: false,
  kind: "both",
  reason: "send either an API key or a bearer token, not both",
});
/** The refusal of a request without credentials where they are required. */
const REQUIRED: AuthOutcome = Object.freeze({ ok: false, kind: "credentials", reason: "authentication required" });

/** A refusal of the credentials sent (or of none), for `reason`: refusalMessage names what this server accepts. */
function refused(reason: string): AuthOutcome {
  return { ok: false, kind: "credentials", reason };
}

/**
 * Whether the header `name` (lower case) came more than once in `rawHeaders` (IncomingMessage#rawHeaders: names as
 * sent, each followed by its value), where Node joined the values with ", " (http/node-limits.ts
 * joinDuplicateHeaders). Without them (a caller that has none), true: the joined value is all there is to go by.
 */
function sentMoreThanOnce(rawHeaders: readonly string[] | undefined, name: string): boolean {
  if (rawHeaders === undefined) return true;
  let seen = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === name && ++seen > 1) return true;
  return false;
}
/**
 * The reasons for a credential header sent twice: Node joins the two with ", " (http/node-limits.ts
 * joinDuplicateHeaders), which no key of `npm run api-key` (base64url) and no bearer token (RFC 6750 b64token)
 * holds. Refused as before; the message said "send a valid API key", to a client that had sent a valid one twice.
 * Whether it was sent twice is read from the request's raw headers (sentMoreThanOnce), not from the joined value: a
 * single header whose value holds ", " (a key pasted with its neighbour, `Bearer a, b`) was told it came twice.
 */
const REPEATED = { apiKey: "x-api-key sent more than once", authorization: "Authorization sent more than once" };

/**
 * The refusal of an x-api-key that is no client's key (or none at all: empty, over 256 characters): the header sent
 * more than once where the value holds Node's ", " and the raw headers hold it twice or more, else an invalid key.
 */
function apiKeyRefused(value: string | string[], rawHeaders: readonly string[] | undefined): AuthOutcome {
  return (typeof value !== "string" || value.includes(", ")) && sentMoreThanOnce(rawHeaders, "x-api-key")
    ? { ok: false, kind: "repeatedApiKey", reason: REPEATED.apiKey }
    : refused("invalid API key");
}

/**
 * Retry-After of a 503 AUTH_UNAVAILABLE, in seconds. A few: an identity provider's outage is most often a blip (a
 * restart, a deploy), and with no set held (or one past AUTH_JWKS_MAX_STALE_SECONDS) each request fetches the set
 * again, so a retry 5 s later is served as soon as the provider answers. Not less: a fetch may take JWKS_TIMEOUT_MS
 * (3 s) to fail, and a client told sooner would resend while the last fetch is still pending. Not JWKS_RETRY_MS (30 s,
 * the background refresh's retry while a set is held): that wait is for a token whose kid the held set lacks only.
 * An estimate in both cases: nothing tells when the provider answers again. Even for that token, the time to the next
 * refresh (#jwksDueAt) is no better: the refresh starts with the first request after it and takes what its fetch
 * takes, so a client told that time would arrive as the fetch starts, be refused, and be told the next one, 30 s on.
 */
export const AUTH_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * A failure of the key set's fetch itself that jose does not wrap (its fetch rejects with the runtime's own error: a
 * connection refused, a DNS name not found, a TLS failure are `TypeError: fetch failed`), marked at #keyFor so that
 * #byBearer tells it from a bug of ours.
 */
class KeySetUnreachable extends Error {
  constructor(cause: unknown) {
    super("the identity provider's key set (AUTH_JWKS_URL) could not be fetched", { cause });
  }
}

/** #keyFor's rejection of the remote set's promise: a JOSEError as it is, any other error marked as the fetch's. */
const unreachable = (error: unknown): never => {
  if (error instanceof joseErrors.JOSEError) throw error;
  throw new KeySetUnreachable(error);
};

export const ANONYMOUS: ClientIdentity = Object.freeze({
  id: ANONYMOUS_CLIENT_ID,
  shown: ANONYMOUS_CLIENT_ID,
  via: "anonymous",
});

/**
 * jose's codes for a JWKS it could not fetch or use (jose/dist/webapi/jwks/remote.js, local.js): the identity
 * provider's or our side's fault, whatever token the client sent. ERR_JOSE_GENERIC is thrown there only (a non-200,
 * a body that is not JSON); every fault of a token has a code of its own. ERR_JWKS_MULTIPLE_MATCHING_KEYS is not one:
 * verifyWithEach answers it.
 */
const JWKS_FAILURES: ReadonlySet<string> = new Set([
  joseErrors.JOSEError.code,
  joseErrors.JWKSTimeout.code,
  joseErrors.JWKSInvalid.code,
]);

/**
 * A token the key set has several keys for, each tried in turn (jose's own answer to ERR_JWKS_MULTIPLE_MATCHING_KEYS,
 * whose error iterates over the keys it matched): a token without `kid` (RFC 7515 §4.1.4 makes it optional) matches
 * every key of its algorithm's type, and an identity provider publishes two or more during a rotation, some always.
 * Thrown on, that error answered 500 and an error line to every such token, a forged one (three base64url parts, no
 * signature worth the name) included: anyone could page the operator (RequestsFailed) and fill the error log, and a
 * genuine token without `kid` was never accepted (test/e2e/jwks-operation.test.ts). None verifies: the signature is
 * bad, the client's fault (401). The work is at most one signature check per key of the set, and only for such tokens.
 */
async function verifyWithEach(token: string, keys: AsyncIterable<CryptoKey>, options: JWTVerifyOptions) {
  for await (const key of keys) {
    try {
      return await jwtVerify(token, key, options);
    } catch (error) {
      if (error instanceof joseErrors.JWSSignatureVerificationFailed) continue;
      throw error;
    }
  }
  throw new joseErrors.JWSSignatureVerificationFailed();
}

/**
 * How the identity provider's key set is held (jose's createRemoteJWKSet caches it; Authenticator#keyFor refreshes it).
 * jose's own refresh, on the first token after its `cacheMaxAge`, made that token and every one after it wait for the
 * fetch, and answered 500 to all of them while the fetch failed, though the set held was as good as a minute before:
 * an identity provider down for a blip at the wrong moment, or for an hour, failed every bearer request once 10
 * minutes had passed since the last fetch (test/e2e/jwks-operation.test.ts). Now the set is refreshed in the
 * background every AUTH_JWKS_REFRESH_SECONDS; a refresh that fails keeps the set held (a warning line, tried again
 * after JWKS_RETRY_MS or the refresh period if shorter: never once per request) for up to AUTH_JWKS_MAX_STALE_SECONDS
 * since the last set fetched (jose's `cacheMaxAge`), after which jose fetches again on each request as before (a key
 * the provider withdrew during a long outage is not trusted for ever). A token whose `kid` the set lacks still makes
 * jose fetch, at most every JWKS_COOLDOWN_MS (its `cooldownDuration`, its default), and wait for it, but not while a
 * refresh fails (Authenticator#stranded); every fetch gives up after JWKS_TIMEOUT_MS (jose's `timeoutDuration`, 5 s by
 * default).
 */
export const JWKS_RETRY_MS = 30_000;
export const JWKS_COOLDOWN_MS = 30_000;
export const JWKS_TIMEOUT_MS = 3_000;

/** `Authorization: Bearer <token>` (#byBearer), the token at most 8192 characters. */
const BEARER = /^bearer +([A-Za-z0-9._~+/=-]{1,8192})$/i;

/** Client ids are used in logs and budgets: a safe, bounded alphabet. */
const CLIENT_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * Attributes each request to a client (docs/security-requirements.md B3; OWASP API2):
 * - an API key in `x-api-key`: we store only SHA-256 of each key (API_KEYS). Keys are 256-bit random strings
 *   (`npm run api-key`), so a fast hash is enough: there is nothing to guess that a slow hash would protect;
 * - or a JWT in `Authorization: Bearer`, verified against AUTH_JWKS_URL (jose; keys fetched and cached by jose),
 *   with the client id taken from the configured claim (`azp` by default), and its `typ` one of AUTH_JWT_TYPES
 *   (`at+jwt` by default: #typeAccepted).
 * Presenting a bad credential is always an error, even where anonymous calls are allowed: a typo in a key must not
 * silently fall back to the anonymous budget.
 */
export class Authenticator {
  readonly #jwks: ReturnType<typeof createRemoteJWKSet> | null;
  /** When the next background refresh of the key set is due (epoch ms; AUTH_JWKS_REFRESH_SECONDS). */
  #jwksDueAt = 0;
  /** A key set was fetched once at least: a refresh that fails is then worth a warning (the request had none). */
  #jwksHeld = false;
  /** The last refresh failed (its recovery is logged once). */
  #jwksFailing = false;
  /** After a failed refresh, the next is tried this much later: JWKS_RETRY_MS, or the refresh period if shorter. */
  get #jwksRetryMs(): number {
    return Math.min(JWKS_RETRY_MS, this.config.jwt!.refreshMs);
  }
  /**
   * Client ids a token may not name: API_KEYS' clients and `anonymous`. A client id is what budgets, idempotency
   * records and credit-report consents belong to, so a token whose claim equals one of them would act as that client:
   * read the credit reports its customers consented to, and spend its budgets. Client ids come from two authorities
   * (this server's API_KEYS, the identity provider's claims) that know nothing of each other; one id, one kind of
   * credential keeps them apart (an audit: a token with `azp` `anonymous` or an API key's client id was that client).
   */
  readonly #notForTokens: ReadonlySet<string>;
  /**
   * API_KEYS' clients by key hash, made once: their shown id is not worked out per request. `used` counts the key's
   * requests (aopay_api_key_requests_total), so that a rotation's old entry is removed once its count stopped rising.
   */
  readonly #apiKeyClients: ReadonlyMap<string, { client: ClientIdentity; used: () => void }>;
  /** jwtVerify's options (made once): AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE, AUTH_JWT_ALGORITHMS, `exp` required. */
  readonly #verifyOptions: JWTVerifyOptions;

  constructor(
    private readonly config: AuthConfig,
    /**
     * Called once per API_KEYS entry, with the client's shown id and the key's id (API_KEY_ID_HEX first hex digits of
     * its SHA-256, as in the entry: never the key): what it returns is called on each request the key authenticates.
     */
    apiKeyCounter?: (client: string, keyId: string) => () => void,
    /** Where a failed refresh of the key set is told (a warning), and its recovery. */
    private readonly log?: Pick<Logger, "warn" | "info">,
    /** Counts a failed refresh of a key set held (auth_jwks_refresh_failures_total). */
    private readonly jwksRefreshFailed?: () => void,
  ) {
    this.#jwks = config.jwt
      ? createRemoteJWKSet(config.jwt.jwksUrl, {
          timeoutDuration: JWKS_TIMEOUT_MS,
          cooldownDuration: JWKS_COOLDOWN_MS,
          cacheMaxAge: config.jwt.maxStaleMs,
        })
      : null;
    this.#notForTokens = new Set([ANONYMOUS.id, ...config.apiKeys.values()]);
    this.#verifyOptions = {
      issuer: config.jwt?.issuer,
      audience: config.jwt?.audience,
      algorithms: [...(config.jwt?.algorithms ?? [])],
      // An expiry is required: jose checks `exp` only when a token has one, so a bearer token without one was
      // accepted for ever (test/e2e/auth.test.ts). RFC 9068 §2.2 makes `exp` required in an access token. `exp`
      // and `nbf` are checked with 5 s of tolerance for the skew between the identity provider's clock and ours
      // (jose's default is none).
      requiredClaims: ["exp"],
      clockTolerance: 5,
    };
    this.#apiKeyClients = new Map(
      [...config.apiKeys].map(([keyHash, id]) => {
        const client = Object.freeze({ id, shown: shownClientId(id), via: "api-key" as const });
        return [keyHash, { client, used: apiKeyCounter?.(client.shown, keyHash.slice(0, API_KEY_ID_HEX)) ?? noop }];
      }),
    );
  }

  get required(): boolean {
    return this.config.required;
  }

  /**
   * What a client must send here, for the 401's message: the credentials this server is configured to accept, and
   * only those. "an API key ... or a bearer token" on a server without AUTH_JWKS_URL sent a client holding an API key
   * (from `npm run api-key`) to try `Authorization: Bearer <key>`, and be refused again with the same words. "Valid":
   * the same 401 answers a key or token sent and refused (unknown, expired, revoked), which "send an API key" told to
   * send what it had sent, as if its header had not arrived.
   */
  get accepted(): string {
    const apiKey = "a valid API key in the x-api-key header";
    const bearer = "a valid bearer token (JWT) in the Authorization header";
    if (this.config.jwt && this.config.apiKeys.size > 0) return `${apiKey} or ${bearer}`;
    return this.config.jwt ? bearer : apiKey;
  }

  /**
   * The 401's message for a refusal's `reason`: which header to send, named, and nothing the client sent. Where
   * credentials are not required (development), a wrong one is still refused, and the message said only "Invalid
   * credentials: fix them": a newcomer who sent a key to a server with no API_KEYS (the walkthrough's production
   * `-H 'x-api-key: ...'`), or a key as a bearer token, was not told which header was wrong, nor that no key can be
   * right there. A request with both headers was told to send the one it had sent (test/e2e/auth.test.ts).
   */
  refusalMessage(kind: RefusalKind): string {
    const what =
      kind === "both"
        ? this.#oneKind
        : kind === "repeatedApiKey"
          ? "one x-api-key header (it came more than once)"
          : kind === "repeatedAuthorization"
            ? "one Authorization header (it came more than once)"
            : this.accepted;
    if (this.config.required) return `Authentication required: send ${what}.`;
    const anonymous = "neither an x-api-key nor an Authorization header to call anonymously in development";
    if (this.config.apiKeys.size === 0 && !this.config.jwt)
      return `Invalid credentials: this server accepts none (neither API_KEYS nor AUTH_JWKS_URL is set); send ${anonymous}.`;
    return `Invalid credentials: send ${what}, or ${anonymous}.`;
  }

  /** What a request that sent both an x-api-key and an Authorization header must send instead. */
  get #oneKind(): string {
    if (this.config.jwt && this.config.apiKeys.size > 0)
      return "either the x-api-key header or the Authorization header, not both";
    return this.config.jwt
      ? "a valid bearer token (JWT) in the Authorization header, and no x-api-key header"
      : "a valid API key in the x-api-key header, and no Authorization header";
  }

  /**
   * The outcome when it needs no waiting (API keys, anonymous, malformed credentials): the request's hook then runs
   * without a promise (a hop fewer per request, counted with `npm run bench:callgrind`). Undefined for a bearer token,
   * which `authenticate` verifies. `rawHeaders`: the request's (IncomingMessage#rawHeaders), read only for a refused
   * credential, to tell a header sent twice from one whose value holds ", " (sentMoreThanOnce); without them, a value
   * holding ", " is taken as sent twice.
   */
  authenticateNow(
    headers: Record<string, string | string[] | undefined>,
    rawHeaders?: readonly string[],
  ): AuthOutcome | undefined {
    const apiKey = headers["x-api-key"];
    const authorization = headers.authorization;
    if (authorization !== undefined) return apiKey !== undefined ? BOTH : undefined;
    if (apiKey !== undefined) return this.#byApiKey(apiKey, rawHeaders);
    if (this.config.required) return REQUIRED;
    return { ok: true, client: ANONYMOUS };
  }

  async authenticate(
    headers: Record<string, string | string[] | undefined>,
    rawHeaders?: readonly string[],
  ): Promise<AuthOutcome> {
    const apiKey = headers["x-api-key"];
    const authorization = headers.authorization;
    if (apiKey !== undefined && authorization !== undefined) return BOTH;
    if (apiKey !== undefined) return this.#byApiKey(apiKey, rawHeaders);
    if (authorization !== undefined) return this.#byBearer(authorization, rawHeaders);
    if (this.config.required) return REQUIRED;
    return { ok: true, client: ANONYMOUS };
  }

  #byApiKey(value: string | string[], rawHeaders: readonly string[] | undefined): AuthOutcome {
    // The repetition is read before the length: six keys joined by ", " pass 256 characters, and were told to send a
    // valid key.
    if (typeof value !== "string" || value.length === 0 || value.length > 256) return apiKeyRefused(value, rawHeaders);
    // Hashed on every request, never cached: a cache keyed by the key would hold every client's key in clear in
    // memory (a heap dump would hand them out). One SHA-256 of a short string costs about a microsecond.
    const entry = this.#apiKeyClients.get(hashApiKey(value));
    if (entry === undefined) return apiKeyRefused(value, rawHeaders);
    entry.used();
    return { ok: true, client: entry.client };
  }

  async #byBearer(value: string | string[], rawHeaders: readonly string[] | undefined): Promise<AuthOutcome> {
    // The scheme is a case-insensitive token, parted from the token by one or more spaces (RFC 9110 §11.1, §11.4):
    // `bearer` was refused, a good token with it. The token's own alphabet (RFC 6750 §2.1 b64token) has both cases.
    const m = typeof value === "string" ? BEARER.exec(value) : null;
    if (!m)
      return typeof value !== "string" || (value.includes(",") && sentMoreThanOnce(rawHeaders, "authorization"))
        ? { ok: false, kind: "repeatedAuthorization", reason: REPEATED.authorization }
        : refused("invalid Authorization header");
    if (!this.#jwks || !this.config.jwt) return refused("bearer tokens are not accepted by this server");
    try {
      const { payload, protectedHeader } = await jwtVerify(m[1], this.#keyFor, this.#verifyOptions).catch(
        (error: unknown) => {
          if (!(error instanceof joseErrors.JWKSMultipleMatchingKeys)) throw error;
          return verifyWithEach(m[1], error, this.#verifyOptions);
        },
      );
      // The reason does not repeat the header's value: it is the caller's text (docs/security-requirements.md A8).
      if (!this.#typeAccepted(protectedHeader.typ)) return refused("token type not accepted (AUTH_JWT_TYPES)");
      const claim = payload[this.config.jwt.clientClaim];
      if (typeof claim !== "string" || !CLIENT_ID.test(claim))
        return refused(`token has no usable ${this.config.jwt.clientClaim} claim`);
      if (this.#notForTokens.has(claim))
        return refused(
          `token's ${this.config.jwt.clientClaim} claim names a client of API_KEYS or \`anonymous\`, not a token client`,
        );
      return { ok: true, client: { id: claim, shown: shownClientId(claim), via: "jwt" } };
    } catch (error) {
      if (error instanceof joseErrors.JOSEError && !JWKS_FAILURES.has(error.code))
        return refused(`invalid token (${error.code})`);
      // The identity provider's JWKS could not be had (a timeout, a non-200, not JSON, not a key set, a refused
      // connection; or the set held lacks the token's kid while it cannot be refreshed): not the client's fault, so
      // never a 401 (which told a client whose token is good to fetch another). Nor a 500: that was answered before,
      // and a 500 tells a client the operation may have run (docs/api.md), when nothing had (authentication comes
      // before the body is read), and paged the operator as a bug of ours (RequestsFailed) for a dependency's outage.
      // A 503 AUTH_UNAVAILABLE with Retry-After (exchange.ts authRefusal). Anything else is a bug: thrown (a 500).
      if (error instanceof KeySetUnreachable)
        return {
          ok: false,
          kind: "unavailable",
          reason: "identity provider's key set unavailable (fetch failed)",
          cause: error.cause,
        };
      if (error instanceof joseErrors.JOSEError)
        return {
          ok: false,
          kind: "unavailable",
          reason: `identity provider's key set unavailable (${error.code})`,
          cause: error,
        };
      throw error;
    }
  }

  /**
   * The key for a token: jose's (the set held, or fetched when there is none, when it is older than
   * AUTH_JWKS_MAX_STALE_SECONDS, or when it lacks the token's `kid`), after starting a background refresh when one is
   * due (AUTH_JWKS_REFRESH_SECONDS); while a refresh fails, the set held (#stranded). What this adds to a request is
   * one clock read, a null check and, on jose's path, one `catch` on its promise (a failed fetch marked as such:
   * KeySetUnreachable); jwtVerify's options are made once (#verifyOptions), where they were made per request before.
   */
  readonly #keyFor = (header: Parameters<JWTVerifyGetKey>[0], token: Parameters<JWTVerifyGetKey>[1]) => {
    const now = Date.now();
    if (now >= this.#jwksDueAt) this.#refreshJwks();
    if (this.#stranded !== null && now < this.#strandedUntil) return this.#stranded(header, token);
    // The remote set's fetch may reject with the runtime's error (a refused connection): marked as the fetch's.
    return this.#jwks!(header, token).catch(unreachable);
  };

  /**
   * While a refresh fails, the set held, without jose's fetch for a `kid` it lacks: jose counts its cooldown from the
   * last fetch that succeeded, so during an outage every token naming an unknown kid (a forged one costs nothing) made
   * it fetch again, one fetch to the failing identity provider per token (test/e2e/jwks-operation.test.ts). Such a
   * token cannot be verified until the provider answers: 503 AUTH_UNAVAILABLE (#byBearer), without the fetch. Null
   * while the refreshes succeed; used until AUTH_JWKS_MAX_STALE_SECONDS after the last set fetched (#strandedUntil).
   */
  #stranded: JWTVerifyGetKey | null = null;
  #strandedUntil = 0;
  /** When the last refresh that succeeded ended (epoch ms). */
  #jwksFetchedAt = 0;

  #strand(): void {
    const held = this.#jwks!.jwks();
    if (held === undefined) return;
    const local = createLocalJWKSet(held);
    this.#strandedUntil = this.#jwksFetchedAt + this.config.jwt!.maxStaleMs;
    this.#stranded = async (header, token) => {
      try {
        return await local(header, token);
      } catch (error) {
        if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
        throw new joseErrors.JOSEError("the key set held lacks the token's kid, and AUTH_JWKS_URL cannot be fetched");
      }
    };
  }

  #refreshJwks(): void {
    // Until this refresh settles, no other starts (jose would share its fetch, but not its outcome's logging).
    this.#jwksDueAt = Date.now() + this.#jwksRetryMs;
    const jwks = this.#jwks!;
    jwks.reload().then(
      () => {
        this.#jwksHeld = true;
        this.#jwksFetchedAt = Date.now();
        this.#jwksDueAt = this.#jwksFetchedAt + this.config.jwt!.refreshMs;
        this.#stranded = null;
        if (this.#jwksFailing) this.log?.info("identity provider's key set (AUTH_JWKS_URL) fetched again");
        this.#jwksFailing = false;
      },
      (error: unknown) => {
        this.#jwksDueAt = Date.now() + this.#jwksRetryMs;
        // No set held: the request that waited for this fetch failed with an error line of its own.
        if (!this.#jwksHeld) return;
        if (!this.#jwksFailing) this.#strand();
        this.#jwksFailing = true;
        this.jwksRefreshFailed?.();
        // No timer tries again: the first bearer token after #jwksDueAt does (#keyFor). "Tried again in 30 s" read as
        // a timer, which an idle server does not run.
        this.log?.warn(
          { err: error },
          "identity provider's key set (AUTH_JWKS_URL) could not be refreshed: tokens are verified with the set " +
            "fetched before, up to AUTH_JWKS_MAX_STALE_SECONDS after it was fetched (then answered 503 " +
            `AUTH_UNAVAILABLE while the fetch fails); tried again with the first bearer token ${this.#jwksRetryMs / 1_000} ` +
            "s or more from now",
        );
      },
    );
  }

  /**
   * Explicit typing (RFC 8725 §3.11, cross-JWT confusion §2.8): the identity provider signs more than access tokens
   * with the keys of this JWKS (OIDC ID tokens, typed `JWT` or not typed; back-channel logout tokens, `logout+jwt`;
   * security events, `secevent+jwt`), and one of those can carry our issuer, our audience and an `azp`. RFC 9068 §4
   * has a resource server accept `at+jwt` only, the default. AUTH_JWT_TYPES may add `JWT` for a provider that does not
   * issue RFC 9068 tokens; `JWT` then admits a token without `typ` too, since RFC 7519 §5.1 makes the header optional
   * and `JWT` says no more than its absence. Checked after the signature, so that only the provider's own tokens are
   * told apart here; the audience check is what keeps its ID tokens out then (their `aud` is the client's id).
   */
  #typeAccepted(typ: unknown): boolean {
    const types = this.config.jwt!.types;
    if (typ === undefined) return types.has("jwt");
    return typeof typ === "string" && types.has(jwtType(typ));
  }
}

/**
 * Hex digits of an API_KEYS entry's SHA-256 that name the key in aopay_api_key_requests_total: enough to tell a
 * client's two entries apart during a rotation (the operator finds them at the start of the entry's hash), and a
 * prefix of a hash of a random 256-bit key, which says nothing about the key.
 */
export const API_KEY_ID_HEX = 8;
const noop = () => undefined;

/**
 * SHA-256 hex of an API key (UTF-8): what API_KEYS stores. One-shot `crypto.hash`, not a createHash object: it runs on
 * every request (measured under callgrind, main thread after warm-up: 8.9k instructions a key with createHash, 5.8k).
 */
export function hashApiKey(key: string): string {
  return hash("sha256", key, "hex");
}
