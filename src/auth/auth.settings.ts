import { z } from "zod";
import { bool, custom, defineSettings, int, listOf, text, type ValuesOf } from "../settings/schema";

/** The client id of a request without credentials (development): no API key or token may name it. */
export const ANONYMOUS_CLIENT_ID = "anonymous";

/** The JWT claim that names the calling client (OAuth client-credentials tokens carry it as `azp` or `client_id`). */
export const DEFAULT_JWT_CLIENT_CLAIM = "azp";

/**
 * The `typ` an OAuth access token carries (RFC 9068 §2.1), as a normalised JWT type (jwtType): what AUTH_JWT_TYPES
 * admits by default. RFC 9068 §4: a resource server "MUST verify that the typ header value is at+jwt or
 * application/at+jwt and reject tokens carrying any other value".
 */
export const ACCESS_TOKEN_TYP = "at+jwt";

/**
 * A `typ` value compared as RFC 7515 §4.1.9 says: a media type, so case-insensitive, with `application/` optional
 * (and recommended to be left out); `JWT`, `jwt` and `application/jwt` are one type. jose compares the same way
 * (its `normalizeTyp`).
 */
export function jwtType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith("application/") ? lower.slice("application/".length) : lower;
}

/** A media type's name (RFC 6838 §4.2 restricted-name characters), optionally with `application/`; normalised. */
const jwtTypeEntry = z
  .string()
  .regex(/^(?:application\/)?[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/i, {
    error: "entries must be JWT types such as at+jwt or JWT (a media type name, application/ optional)",
  })
  .transform(jwtType);

/**
 * The JWS algorithms a token may be signed with (RFC 8725 §3.1: a verifier accepts only the algorithms it expects).
 * Default: every asymmetric algorithm jose verifies, so a JWKS key published without `alg` (RFC 7517 §4.4 makes it
 * optional) verifies only what AUTH_JWT_ALGORITHMS lists: an RSA key so published verifies RS256, RS384, RS512 and
 * the PS family alike unless the list is narrowed to the identity provider's own (one, usually RS256 or ES256). The
 * symmetric HS algorithms and `none` are never accepted: a JWKS is public, and jose does not verify them against one
 * (test/e2e/auth.test.ts).
 */
export const JWT_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;

const jwtAlgorithmEntry = z.enum(JWT_ALGORITHMS, {
  error: `entries must be asymmetric JWS algorithms: ${JWT_ALGORITHMS.join(", ")} (HS256/384/512 and none are never accepted)`,
});

/** `clientId:sha256hex`. The entry is not echoed: a key pasted here by mistake would be. */
const apiKeyEntry = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}:[0-9a-f]{64}$/, {
    error: "entries must be clientId:sha256hex (64 lower-case hex digits); generate them with `npm run api-key`",
  })
  .transform((entry) => {
    const colon = entry.indexOf(":");
    return { clientId: entry.slice(0, colon), hash: entry.slice(colon + 1) };
  });

/**
 * AUTH_JWKS_URL: an absolute URL without credentials (user name or password). fetch, which jose reads the key set
 * with, refuses such a URL on every request, and its error quotes the URL whole: a password written there was in the
 * error line of every request with a bearer token (an attack review), which answered 500. Refused at start instead;
 * the messages never echo the value, and the setting is a secret (its query may carry an identity provider's key).
 */
const absoluteUrl = z.string().transform((raw, ctx) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    ctx.addIssue({
      code: "custom",
      message: "must be an absolute URL, e.g. https://login.example.com/.well-known/jwks.json",
    });
    return z.NEVER;
  }
  if (url.username || url.password) {
    ctx.addIssue({
      code: "custom",
      message: "must not carry credentials (user:password@): the key set is fetched without them",
    });
    return z.NEVER;
  }
  return url;
});

/** Who may call (src/auth/authenticator.ts): API keys and/or JWTs. */
export const authSettings = defineSettings({
  title: "Authentication",
  module: "src/auth/authenticator.ts",
  prefixes: ["AUTH_"],
  settings: {
    API_KEYS: custom(listOf(apiKeyEntry), {
      defaultDoc: "none",
      doc: "`clientId:sha256hex,...`; make entries with `npm run api-key -- <clientId>`",
    }),
    AUTH_REQUIRED: bool({
      defaultDoc: "`false`; always `true` in production",
      doc: "require credentials on every GraphQL request",
    }),
    AUTH_JWKS_URL: custom(absoluteUrl, {
      secret: true,
      doc: "accept `Authorization: Bearer` JWTs verified against this JWKS (https in production; no user:password@ in it: its query may carry a key instead)",
      example: "https://login.example.com/.well-known/jwks.json",
    }),
    AUTH_JWKS_REFRESH_SECONDS: int({
      default: 600,
      min: 1,
      max: 86_400,
      doc:
        "how long after a fetch of the JWKS the next is due: the first bearer token after it starts one, in the " +
        "background (no request waits for it; no timer: an idle server fetches nothing); one that fails keeps the " +
        "key set held (a warning line), and the next is due 30 s later (this period if shorter)",
    }),
    AUTH_JWKS_MAX_STALE_SECONDS: int({
      default: 86_400,
      min: 1,
      max: 7 * 86_400,
      doc:
        "how long a JWKS that cannot be fetched again is still used, since it was last fetched; after that every " +
        "bearer request waits for a fetch, and is refused 503 `AUTH_UNAVAILABLE` while the identity provider is " +
        "unreachable " +
        "(at least `AUTH_JWKS_REFRESH_SECONDS`)",
    }),
    AUTH_JWT_ISSUER: text({
      doc: "the `iss` a JWT must carry (needs `AUTH_JWKS_URL`; required with it in production)",
    }),
    AUTH_JWT_AUDIENCE: text({
      doc: "the `aud` a JWT must carry (needs `AUTH_JWKS_URL`; required with it in production)",
    }),
    AUTH_JWT_CLIENT_CLAIM: text({ default: DEFAULT_JWT_CLIENT_CLAIM, doc: "the claim that names the client" }),
    AUTH_JWT_TYPES: custom(listOf(jwtTypeEntry), {
      default: [ACCESS_TOKEN_TYP],
      defaultDoc: "`at+jwt`",
      doc:
        "the JWT `typ` header values accepted (RFC 9068 access tokens are `at+jwt`); add `JWT` for an identity " +
        "provider whose access tokens are typed `JWT` or not typed (then ID tokens with this `aud` pass too)",
    }),
    AUTH_JWT_ALGORITHMS: custom(listOf(jwtAlgorithmEntry), {
      default: [...JWT_ALGORITHMS],
      defaultDoc: "every asymmetric one: `RS256`..`RS512`, `PS256`..`PS512`, `ES256`..`ES512`, `EdDSA`, `Ed25519`",
      doc:
        "the JWS algorithms a JWT may be signed with (RFC 8725 §3.1); narrow it to your identity provider's (e.g. " +
        "`RS256`): a JWKS key published without `alg` verifies every algorithm of its family. HS* and none are refused",
    }),
  },
});

export interface AuthConfig {
  /** When true, every GraphQL request must carry a valid API key or JWT. Always true in production. */
  required: boolean;
  /** SHA-256 (hex) of each API key, mapped to its client id. Keys themselves are never configured. */
  apiKeys: ReadonlyMap<string, string>;
  jwt: {
    jwksUrl: URL;
    issuer: string | undefined;
    audience: string | undefined;
    clientClaim: string;
    /** Normalised (jwtType) `typ` values a token may carry; `jwt` admits a token without `typ` too. */
    types: ReadonlySet<string>;
    /** The JWS algorithms a token may use (JWT_ALGORITHMS by default). */
    algorithms: readonly string[];
    /** AUTH_JWKS_REFRESH_SECONDS, in ms: the key set's background refresh. */
    refreshMs: number;
    /** AUTH_JWKS_MAX_STALE_SECONDS, in ms: how long a key set that cannot be refreshed is still used. */
    maxStaleMs: number;
  } | null;
}

/** API keys and/or JWTs; in production every request must carry one. */
export function authConfig(v: ValuesOf<typeof authSettings>, production: boolean, problems: string[]): AuthConfig {
  const apiKeys = new Map<string, string>();
  // One client id, one client: budgets, idempotency records and credit-report consents belong to the id whole. Two
  // entries may name one client (a rotation); two spellings of one name in case only are two clients, so a rotation's
  // entry spelt `App` for `app` lost that client's records and consents and doubled its budgets. `anonymous` is every
  // request's without credentials (development): an API key so named shared all of it with anyone. Both are refused
  // where the names are read, once (a token's claim naming one of these is refused by the authenticator).
  const spellings = new Map<string, string>();
  for (const { clientId, hash } of v.API_KEYS ?? []) {
    if (apiKeys.has(hash)) problems.push(`API_KEYS lists the same key twice (client ${clientId})`);
    apiKeys.set(hash, clientId);
    const folded = clientId.toLowerCase();
    const first = spellings.get(folded);
    if (first === undefined) spellings.set(folded, clientId);
    else if (first !== clientId)
      problems.push(
        `API_KEYS names one client in two spellings (${first}, ${clientId}): a client id is compared exactly, so ` +
          "these are two clients with budgets, idempotency keys and consents apart; write one the same in every entry",
      );
  }
  if (spellings.has(ANONYMOUS_CLIENT_ID))
    problems.push(
      "API_KEYS names the client `anonymous` (in any case): that is the client of every request without credentials, " +
        "which would share its budgets, idempotency keys and consents; name it otherwise",
    );
  let jwt: AuthConfig["jwt"] = null;
  if (v.AUTH_JWKS_URL) {
    if (production && v.AUTH_JWKS_URL.protocol !== "https:")
      problems.push("AUTH_JWKS_URL must use https in production");
    // RFC 8725 §3.8, §3.9: an identity provider signs tokens for many services with the same keys; without `iss` and
    // `aud` checked, a token it issued to a client for another service (or another provider's, on a shared JWKS) is
    // accepted here. Optional in development (a local issuer may set neither).
    if (production && !v.AUTH_JWT_ISSUER)
      problems.push("AUTH_JWT_ISSUER must be set in production with AUTH_JWKS_URL (the `iss` this server accepts)");
    if (production && !v.AUTH_JWT_AUDIENCE)
      problems.push(
        "AUTH_JWT_AUDIENCE must be set in production with AUTH_JWKS_URL (the `aud` naming this server): without it a token issued for another service is accepted",
      );
    jwt = {
      jwksUrl: v.AUTH_JWKS_URL,
      issuer: v.AUTH_JWT_ISSUER,
      audience: v.AUTH_JWT_AUDIENCE,
      clientClaim: v.AUTH_JWT_CLIENT_CLAIM,
      // An empty list (`AUTH_JWT_TYPES=,`) is the default, not "accept none".
      types: new Set(v.AUTH_JWT_TYPES?.length ? v.AUTH_JWT_TYPES : [ACCESS_TOKEN_TYP]),
      // An empty list is the default too, not "accept none".
      algorithms: v.AUTH_JWT_ALGORITHMS?.length ? v.AUTH_JWT_ALGORITHMS : [...JWT_ALGORITHMS],
      refreshMs: v.AUTH_JWKS_REFRESH_SECONDS * 1_000,
      maxStaleMs: v.AUTH_JWKS_MAX_STALE_SECONDS * 1_000,
    };
    if (v.AUTH_JWKS_MAX_STALE_SECONDS < v.AUTH_JWKS_REFRESH_SECONDS)
      problems.push("AUTH_JWKS_MAX_STALE_SECONDS must be at least AUTH_JWKS_REFRESH_SECONDS");
  } else if (v.AUTH_JWT_ISSUER || v.AUTH_JWT_AUDIENCE) {
    problems.push("AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE need AUTH_JWKS_URL");
  }
  const requested = v.AUTH_REQUIRED ?? production;
  if (production && !requested)
    problems.push("AUTH_REQUIRED cannot be false in production: every request must be attributed to a client");
  const required = production || requested;
  if (required && apiKeys.size === 0 && !jwt) {
    problems.push(
      "Authentication is required (production or AUTH_REQUIRED=true) but neither API_KEYS nor AUTH_JWKS_URL is set",
    );
  }
  return { required, apiKeys, jwt };
}
