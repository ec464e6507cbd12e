/**
 * The only reader of `process.env`. Each concern declares its settings next to the module it configures
 * (`*.settings.ts`, on zod: settings/schema.ts); this file reads them all once at startup and assembles the `Config`
 * object the modules take. A bad value, an unknown name under one of our prefixes, or a name close to a known one
 * (settings/names.ts) stops the start with one message listing every problem (stripe-node's
 * ALLOWED_CONFIG_PROPERTIES, applied to env). .env.example and docs/configuration.md are rendered from the same
 * declarations (settings/docs.ts; test/unit/settings/settings.test.ts fails when they drift).
 */
import process from "node:process";
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import type { Level } from "pino";
import {
  type AopayConfig,
  clientSettings,
  SIMULATOR_COMPANY_CODE,
  SIMULATOR_REGISTRATION_ID,
} from "./aopay/client.settings";
import { breakerConfig, breakerSettings } from "./aopay/circuit-breakers.settings";
import { transportSettings } from "./aopay/transport.settings";
import { type AuthConfig, authConfig, authSettings } from "./auth/auth.settings";
import {
  type GraphQLLimits,
  graphqlLimits,
  limitsSettings,
  type TrustedDocumentsMode,
} from "./graphql/limits.settings";
import { DEFAULT_DEV_CORS_ORIGINS, type HttpLimits, type LogFormat, serverSettings } from "./http/server.settings";
import { clusterSettings } from "./cluster.settings";
import { type AdmissionConfig, admissionSettings } from "./http/admission.settings";
import { type MetricsConfig, metricsSettings } from "./observability/metrics.settings";
import { type TelemetryConfig, telemetryConfig, telemetrySettings } from "./observability/telemetry.settings";
import { type ThrottleConfig, throttleConfig, throttleSettings } from "./protection/otp-throttle.settings";
import {
  DEFAULT_MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT,
  DEFAULT_MEMORY_REGISTERED_MOBILE_CLIENT_SHARE_PERCENT,
  DEFAULT_MEMORY_THROTTLE_CLIENT_SHARE_PERCENT,
  protectionSettings,
  recordBytes,
} from "./protection/protection.settings";
import { deriveStoreKey, type StoreKey } from "./protection/protection.settings";
import { unknownNames } from "./settings/names";
import { readGroup, type SettingsGroup, valueRead } from "./settings/schema";
import { simulatorSettings } from "./simulator/simulator.settings";
import type { LoggerOptions } from "./logging/logger";

export * from "./aopay/client.settings";
export { type BreakerConfig, DEFAULT_BREAKER } from "./aopay/circuit-breakers.settings";
export * from "./aopay/transport.settings";
export { type AuthConfig, DEFAULT_JWT_CLIENT_CLAIM } from "./auth/auth.settings";
export { DEFAULT_GRAPHQL_LIMITS, type GraphQLLimits, type TrustedDocumentsMode } from "./graphql/limits.settings";
export * from "./http/admission.settings";
export * from "./http/server.settings";
export * from "./observability/metrics.settings";
export { DEFAULT_SERVICE_NAME, type TelemetryConfig } from "./observability/telemetry.settings";
export * from "./protection/otp-throttle.settings";
export * from "./protection/protection.settings";
export { DEFAULT_SIMULATOR_PORT } from "./simulator/simulator.settings";

export type Environment = "development" | "production" | "test";

/** The least SHUTDOWN_GRACE_MS but 0 (loadConfig): the floor of REQUEST_DEADLINE_MS and AOPAY_DEADLINE_MS. */
const MIN_SHUTDOWN_GRACE_MS = 100;

export interface Config {
  env: Environment;
  port: number;
  host: string;
  logLevel: Level;
  /**
   * `json`: one JSON object per line (what log shippers read; always in production). `pretty`: readable lines with
   * local times (pino-pretty), for a developer's terminal: `npm run dev`, or `npm start` in a terminal.
   */
  logFormat: LogFormat;
  /** Browser origins allowed by CORS. Empty: no cross-origin browser access. */
  corsOrigins: string[];
  bodyLimitBytes: number;
  /** listen()'s backlog: connections the kernel queues before they are accepted. */
  listenBacklog: number;
  admission: AdmissionConfig;
  /** Worker processes (cluster.ts); 1: this process serves. */
  webConcurrency: number;
  /** WEB_CONCURRENCY > 1: a worker silent this long to the primary's heartbeat is killed and replaced (cluster.ts). */
  workerHangTimeoutMs: number;
  /** How long SIGTERM waits for in-flight requests before closing connections. */
  shutdownGraceMs: number;
  /**
   * SHUTDOWN_DELAY_MS: how long after SIGTERM the server still serves, not ready, before that drain (index.ts); 0 by
   * default.
   */
  shutdownDelayMs: number;
  httpLimits: HttpLimits;
  aopay: AopayConfig;
  /** Secret for HMAC-SHA256 of every identifier used in a throttle or idempotency key (docs/security-requirements.md D2). */
  hmacSecret: Buffer;
  /** True when no HMAC_SECRET was configured and a random one was made for this process (development only). */
  hmacSecretEphemeral: boolean;
  /**
   * HMAC_SECRET_PREVIOUS: the secrets HMAC_SECRET replaced, during a rotation (docs/security.md
   * "Rotating the HMAC secret"). Every Redis store reads under them as well and writes under hmacSecret. Empty (the
   * default): no rotation under way, and no store computes or reads anything more.
   */
  hmacPreviousSecrets: readonly Buffer[];
  /**
   * HMAC_SECRET_NEXT: the secret that will replace hmacSecret, during step 1 of a rolling rotation (docs/security.md
   * "Rotating the HMAC secret"): the idempotency, consent and registered-mobile stores in Redis read under it too, and
   * nothing is written under it. Null (the default, or equal to HMAC_SECRET): nothing more is computed or read.
   */
  hmacNextSecret: Buffer | null;
  /**
   * HMAC_SECRET_RETIRED: replaced secrets only the registered-mobile store in Redis still reads records under (and
   * copies them under hmacSecret), after HMAC_SECRET_PREVIOUS is gone (docs/security.md "Rotating the HMAC secret").
   * Empty (the default): nothing more is computed or read.
   */
  hmacRetiredSecrets: readonly Buffer[];
  /** Shared state for throttling and idempotency. Null: in-memory, one process. */
  redisUrl: string | null;
  /**
   * Another program's Redis connection settings found beside REDIS_URL (REDIS_HOST, REDIS_PASSWORD ...: names only),
   * not read; app.ts warns once at start (settings/names.ts unknownNames says why they are not refused).
   */
  ignoredRedisSettings: readonly string[];
  /**
   * The debugging switches on whose output bypasses the logger's scrubber (rawDebugSwitches); app.ts warns once at
   * start when any is (production starts with one only under ALLOW_RAW_DEBUG_OUTPUT=true).
   */
  rawDebugSwitches: readonly string[];
  redisKeyPrefix: string;
  /**
   * REDIS_EVICTING_POLICY: `refuse` (the default) refuses every write the stores promise something for while the Redis
   * server's maxmemory-policy evicts keys (protection/redis.ts RedisServerCheck); `warn` logs it and goes on.
   */
  redisEvictingPolicy: "refuse" | "warn";
  /**
   * REDIS_POLICY_CHECK_SECONDS in ms: the longest time between two judgements of the policy on a ready connection (its
   * INFO memory is sent at the shorter of this and redisMemoryPollMs: protection/redis.ts RedisServerCheck).
   */
  redisPolicyCheckMs: number;
  /**
   * REDIS_MEMORY_POLL_SECONDS in ms: the longest time between two readings of Redis's memory for the gauges, taken from
   * the policy check's reads (protection/redis-memory.ts). 0: the gauges off; the policy's reads go on.
   */
  redisMemoryPollMs: number;
  /**
   * Keys sealing stored idempotency results (protection/store-sealer.ts): the first seals, all open. From
   * STORE_ENCRYPTION_KEYS, else one key derived from HMAC_SECRET (refused in production with REDIS_URL).
   */
  storeKeys: readonly StoreKey[];
  /** True when storeKeys is the key derived from HMAC_SECRET. */
  storeKeysDerived: boolean;
  /** Caps of the in-memory stores (without REDIS_URL), in entries; full: fail closed. */
  memoryLimits: {
    throttleMaxKeys: number;
    /** The most of throttleMaxKeys one client may hold, in percent (MEMORY_THROTTLE_CLIENT_SHARE_PERCENT). */
    throttleClientSharePercent: number;
    idempotencyMaxKeys: number;
    /**
     * The most of idempotencyMaxKeys and of idempotencyMaxBytes one client may hold, in percent
     * (MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT).
     */
    idempotencyClientSharePercent: number;
    /** The most bytes the idempotency records may hold (MEMORY_IDEMPOTENCY_MAX_BYTES). */
    idempotencyMaxBytes: number;
    consentMaxKeys: number;
    registeredMobileMaxKeys: number;
    /** The most of registeredMobileMaxKeys one client may hold, in percent (MEMORY_REGISTERED_MOBILE_CLIENT_SHARE_PERCENT). */
    registeredMobileClientSharePercent: number;
  };
  throttle: ThrottleConfig;
  /** How long an idempotency key's first result is kept and replayed. */
  idempotencyTtlSeconds: number;
  /** The largest result an Idempotency-Key keeps, in bytes of its JSON (IDEMPOTENCY_MAX_RESULT_BYTES). */
  idempotencyMaxResultBytes: number;
  /**
   * After a client verifies a customer's CIBIL OTP, how long that client may read the customer's credit history.
   * AOPay's GetCreditHistory needs only the CIBIL id, so without this anyone holding an id could read a history.
   */
  cibilConsentTtlSeconds: number;
  /**
   * How long the mobile a CIBIL id was registered with is remembered (protection/registered-mobiles.ts), so that
   * generateCibilOtp is budgeted on that mobile too.
   */
  cibilRegisteredMobileTtlSeconds: number;
  /** How long a registration's mobile that could not be recorded is tried again in the background; 0: not at all. */
  cibilRegisteredMobileRetrySeconds: number;
  /** Proxies whose X-Forwarded-For is believed (IPs or CIDRs). Empty: the socket address is the client IP. */
  trustedProxies: string[];
  auth: AuthConfig;
  graphqlLimits: GraphQLLimits;
  /**
   * docs/security-requirements.md A11. `off`: any document within the limits runs, and the trusted documents can also be sent by id.
   * `enforce`: only the trusted documents (src/generated/trusted-documents.ts) run, by text or by id.
   */
  trustedDocuments: TrustedDocumentsMode;
  /** Whole-request budget for a mutation, from arrival to answer; upstream attempts get only what is left. */
  requestDeadlineMs: number;
  metrics: MetricsConfig;
  /** Whether Redis unreachable or unsafe makes /readyz answer 503 (READINESS_INCLUDES_REDIS; else 200, said in its body). */
  readinessIncludesRedis: boolean;
  /** Whether an open circuit makes /readyz answer 503 (READINESS_INCLUDES_BREAKER; else 200, said in its body). */
  readinessIncludesBreaker: boolean;
  telemetry: TelemetryConfig;
  /** The values of the secret settings (secretValues): what the loggers hide besides the partner credentials. */
  secretValues: readonly string[];
}

/**
 * Every settings group, in the order the docs list them. A name in none of them is not a setting; one close to a
 * setting's name, or under a group's prefix, stops the start.
 */
export const SETTINGS_GROUPS: readonly SettingsGroup[] = [
  serverSettings,
  admissionSettings,
  clusterSettings,
  transportSettings,
  clientSettings,
  breakerSettings,
  throttleSettings,
  protectionSettings,
  authSettings,
  limitsSettings,
  metricsSettings,
  telemetrySettings,
  simulatorSettings,
];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The values of the secret settings set in `env`, whole and entry by entry (a list's entries, comma-separated), and of
 * one that is a URL (REDIS_URL, AUTH_JWKS_URL) also the URL as a library writes it (`href`), its password and its
 * query's values, decoded, which an error may quote without the rest: for a logger's scrubber, before any Config exists
 * (index.ts, a start that failed) and in the running server (Config.secretValues, logSecrets). Problems never carry
 * them (settings/schema.ts); this is the second line of defence.
 */
export function secretValues(env: Env): string[] {
  const values: string[] = [];
  for (const group of SETTINGS_GROUPS)
    for (const [name, setting] of Object.entries(group.settings)) {
      const raw = env[name];
      if (!setting.secret || !raw) continue;
      values.push(raw, ...raw.split(",").map((entry) => entry.trim()));
      if (URL_WITH_HOST.test(raw) && URL.canParse(raw)) values.push(...urlSecrets(new URL(raw)));
    }
  return [...new Set(values.filter((value) => value.length > 0))];
}

/**
 * A URL with a host (`redis://`, `https://`): not a secret that only looks like one to URL.canParse (a key `k1:…`,
 * whose "query" could name an ordinary word that would then be hidden from every line).
 */
const URL_WITH_HOST = /^[a-z][a-z0-9+.-]*:\/\//i;

/** What of a URL is worth hiding on its own: the URL as `href` writes it, its password and query values, decoded. */
function urlSecrets(url: URL): string[] {
  const parts = [url.href, url.password, ...url.searchParams.values()];
  try {
    parts.push(decodeURIComponent(url.password));
  } catch {
    // A password whose escapes do not decode is hidden as written (above).
  }
  return parts;
}

/**
 * Every value the loggers of the running server hide wherever it appears (logging/logger.ts: a line's scrub): the
 * partner credentials (the simulator's too), and every secret setting's value (secretValues). Until an attack review,
 * only the first two: AUTH_JWKS_URL's password reached the error line of every request with a bearer token. Each
 * adds one `includes` per log line (a 450-character access line: about 90 instructions under callgrind, scrub.ts).
 */
export function logSecrets(config: {
  aopay: Pick<AopayConfig, "registrationId" | "companyCode">;
  secretValues: readonly string[];
}): string[] {
  return [config.aopay.registrationId, config.aopay.companyCode, ...config.secretValues];
}

/**
 * The options every logger of the running server is made with (app.ts, stack.ts, cluster.ts: the primary's and a
 * worker's): its level and format, and logSecrets. One place, so that no logger is made with a shorter list of secrets
 * again (each had spelled the partner credentials alone).
 */
export function logOptions(config: Config): Pick<LoggerOptions, "level" | "format" | "secrets"> {
  return { level: config.logLevel, format: config.logFormat, secrets: logSecrets(config) };
}

/**
 * Who answers this server's calls to AOPay, for the log line that says the server is ready. AOPAY_BASE_URL set is the
 * `live` mode, but the host it names may be the standalone simulator (`npm run simulator`, docs/simulator.md) or
 * another stand-in, and nothing in AOPay's answers tells them apart (docs/upstream/aopay-api.md documents no way to
 * ask): the line said "live" against the simulator. Only the configuration is read: the simulator's development
 * credentials (which it alone accepts) name it; anything else may be AOPay. The credentials' values are not shown.
 */
export function upstreamOf(aopay: Pick<AopayConfig, "mode" | "registrationId" | "companyCode">): string {
  if (aopay.mode === "simulator") return "built-in simulator (AOPAY_BASE_URL not set): no OTP is sent";
  if (aopay.registrationId === SIMULATOR_REGISTRATION_ID && aopay.companyCode === SIMULATOR_COMPANY_CODE)
    return "AOPAY_BASE_URL, with the simulator's development credentials: a standalone simulator (npm run simulator)";
  return "AOPAY_BASE_URL: AOPay, or a stand-in for it (this server cannot tell them apart)";
}

/**
 * The settings `env` sets, for the log line that says the server is ready: a newcomer who started it with
 * `OTP_COOLDOWN_SECONDS=0` (docs/simulator.md) could not tell from the log whether it was taken. A secret reads
 * `(hidden)`; another value is shown only when it is a plain word or number (`debug`, `0`, `enforce`), else `(set)`:
 * a URL may carry a password (REDIS_URL) and a list may carry anything. What loadConfig reads as unset
 * (settings/schema.ts valueRead: absent, empty, a service link) is left out.
 */
export function settingsTaken(env: Env): Record<string, string> {
  const taken: Record<string, string> = {};
  for (const group of SETTINGS_GROUPS)
    for (const [name, setting] of Object.entries(group.settings)) {
      const raw = valueRead(name, setting, env);
      if (raw === undefined) continue;
      taken[name] = setting.secret ? "(hidden)" : /^[\w.-]{1,64}$/.test(raw) ? raw : "(set)";
    }
  return Object.fromEntries(Object.entries(taken).sort(([a], [b]) => a.localeCompare(b)));
}

/** What loadConfig may know besides the environment. */
export interface ConfigContext {
  /** Whether the process writes its log to a terminal: LOG_FORMAT's default is `pretty` there in development. */
  stdoutIsTTY?: boolean;
  /** Node's own arguments (`process.execArgv`): rawDebugSwitches reads them beside NODE_OPTIONS. */
  execArgv?: readonly string[];
}

/** Node's own variables that rawDebugSwitches reads: not settings of ours (no declaration, no docs row). */
export const NODE_VARIABLES_READ: readonly string[] = ["NODE_DEBUG", "NODE_OPTIONS"];

/**
 * Node's flags that write what no scrubber reads to a file: the whole heap (every secret, every request in flight) on
 * a signal or near OOM, `--tls-keylog` (the TLS session keys of AOPay's connections: with a packet capture, every
 * credential and customer number sent to it), and `--trace-event-categories` (its `node.http` category writes each
 * request's URL with its query, a GraphQL GET's variables: measured on node 24; refused whatever its list, which a
 * Node release may give a category holding more). `--trace-events-enabled` alone (v8, node, node.async_hooks) is
 * not here: its file held no value of a request.
 */
const RAW_FILE_FLAGS = [
  "--heapsnapshot-signal",
  "--heapsnapshot-near-heap-limit",
  "--tls-keylog",
  "--trace-event-categories",
  // Node accepts it in NODE_OPTIONS and it runs before early-faults.ts's `uncaughtException` listener: an uncaught
  // exception or unhandled rejection printed its message and stack raw to stderr (an Aadhaar number quoted in a
  // message) and aborted, a core file holding the whole memory where core dumps are on (measured on node 24).
  "--abort-on-uncaught-exception",
];

/**
 * Node's arguments that read its options from a JSON file (`"nodeOptions": { "inspect": true, "heapsnapshot-signal":
 * "SIGUSR2" }`; `--experimental-default-config-file`: `node.config.json` in the working folder): Node applies them
 * and neither process.execArgv nor NODE_OPTIONS shows them (measured on node 24: the inspector open, a heap dump on
 * SIGUSR2). The file is not read here; the flag is refused as the flags it may hold are.
 */
const OPTIONS_FILE_FLAGS = ["--experimental-config-file", "--experimental-default-config-file"];

/**
 * V8's garbage collector's traces, allowed: a line per collection of pause times and heap sizes, no object's contents
 * (measured on node 24: 200,000 objects holding a mobile and an Aadhaar number, 8 lines of `--trace-gc` and of
 * `--trace-gc-nvp`, 139 of `--trace-gc-verbose`, none with a digit of them). The benchmark reads `--trace-gc-nvp`
 * (bench/lib/gc-trace.js) from the production build; refused, it could not start ours.
 */
const GC_TRACE_FLAGS: ReadonlySet<string> = new Set(["--trace-gc", "--trace-gc-nvp", "--trace-gc-verbose"]);

/**
 * V8's own output flags, which Node takes only in its arguments (`node --trace-deopt-verbose dist/index.js`), not in
 * NODE_OPTIONS: several hundred `--trace-*`, `--print-*`, `--log-*`, `--prof`, `--*-dump` of V8's (`node
 * --v8-options`), printing to stdout or writing files as V8 likes; `--trace-deopt-verbose` printed the strings held
 * in optimized frames (measured on node 24 with a script: a string of ten digits in clear). Read as a class, a future
 * V8 flag included: a name holding one of these words that is not one of Node's own options
 * (process.allowedNodeEnvironmentFlags: Node's `--trace-warnings` and the like are read by the lists above) and not a
 * stack trace's shape (`--stack-trace-limit`, `--async-stack-traces`). The `--no-` forms turn output off. The
 * Dockerfile's V8 flags (heap sizing) are none of these.
 */
function isV8OutputFlag(flag: string): boolean {
  return (
    flag.startsWith("--") &&
    !flag.startsWith("--no-") &&
    !GC_TRACE_FLAGS.has(flag) &&
    /trace|print|log|prof|dump/.test(flag) &&
    !flag.includes("stack-trace") &&
    !process.allowedNodeEnvironmentFlags.has(flag)
  );
}

/**
 * Node's flags that open its inspector (a debugger's port, 127.0.0.1:9229 unless given a host: whoever reaches it runs
 * code in the process, reads every secret and request) or set the port SIGUSR1 would open it on (`--inspect-port`,
 * `--debug-port`; early-faults.ts takes SIGUSR1 in production). `--inspect-brk`, `--inspect-wait` and
 * `--inspect-brk-node` hold the process before any of our code runs, the port open: the refusal comes only once a
 * debugger has let it go (docs/operations.md "Debugging switches").
 */
const INSPECTOR_FLAGS = [
  "--inspect",
  "--inspect-brk",
  "--inspect-wait",
  "--inspect-brk-node",
  "--inspect-port",
  "--debug-port",
];

/**
 * The debugging switches on whose output no scrubber reads, for ALLOW_RAW_DEBUG_OUTPUT (docs/operations.md "Debugging
 * switches"): `NODE_DEBUG` (Node reads it once at start, before any of our code, and its sections write to stderr
 * themselves: `stream` shows the first 50 bytes of every chunk read, a client's variables or an AOPay answer with its
 * access token, in hex where no pattern finds them; so it is refused, not stripped, which could not work), and the
 * flags writing such files (RAW_FILE_FLAGS) or opening the inspector (INSPECTOR_FLAGS), in NODE_OPTIONS or Node's own
 * arguments, V8's output flags (isV8OutputFlag), and an options file Node reads them from (OPTIONS_FILE_FLAGS).
 * Not here: `DEBUG` (the debug module, early-faults.ts routes its lines through the logger),
 * OTEL_LOG_LEVEL (observability/telemetry.ts diagLogger does), Node's reports (their environment is left out,
 * early-faults.ts), `--trace-uncaught` and `--trace-warnings` (early-faults.ts's handlers take the fault and the
 * warning first: Node prints nothing of them), and the files of `--cpu-prof`, `--heap-prof` and
 * `--trace-events-enabled` (function names, sizes, timings: measured, no value of a request in them), and
 * NODE_DEBUG_NATIVE=TLS,HTTP2SESSION,… (Node's C++ sections: measured, object lifetimes, no value). Each as
 * `NAME=value` or the flag, a value shown only when it is a plain list of words (NODE_DEBUG's section names).
 */
export function rawDebugSwitches(env: Env, execArgv: readonly string[] = []): string[] {
  const found: string[] = [];
  const nodeDebug = env.NODE_DEBUG?.trim();
  if (nodeDebug) found.push(`NODE_DEBUG=${/^[\w,*.-]{1,200}$/.test(nodeDebug) ? nodeDebug : "(set)"}`);
  // Node reads `_` in a flag's name as `-` (--heapsnapshot_signal); NODE_OPTIONS is split as Node splits it.
  const flags = [...nodeOptionsWords(env.NODE_OPTIONS ?? ""), ...execArgv].map((arg) =>
    arg.split("=")[0].replace(/_/g, "-"),
  );
  for (const flag of [...RAW_FILE_FLAGS, ...INSPECTOR_FLAGS, ...OPTIONS_FILE_FLAGS])
    if (flags.includes(flag)) found.push(flag);
  for (const flag of new Set(flags)) if (isV8OutputFlag(flag)) found.push(flag);
  return found;
}

/**
 * NODE_OPTIONS's words as Node reads them (src/node_options.cc ParseNodeOptionsEnvVar): split on spaces outside double
 * quotes, the quotes dropped, `\` inside them escaping the next character. Split on spaces alone,
 * `"--heapsnapshot-signal=SIGUSR2"` (quoted, which Node takes) read as no flag.
 */
function nodeOptionsWords(options: string): string[] {
  const words: string[] = [];
  let word = "";
  let quoted = false;
  for (let i = 0; i < options.length; i++) {
    const c = options[i];
    if (quoted && c === "\\" && i + 1 < options.length) word += options[++i];
    else if (c === '"') quoted = !quoted;
    else if (!quoted && /\s/.test(c)) {
      if (word) words.push(word);
      word = "";
    } else word += c;
  }
  if (word) words.push(word);
  return words;
}

/** Parses the environment into a frozen Config, or throws ConfigError naming every problem. */
export function loadConfig(env: Env = process.env, context: ConfigContext = {}): Config {
  const ignoredRedisSettings: string[] = [];
  const problems = unknownNames(env, SETTINGS_GROUPS, ignoredRedisSettings);
  const server = readGroup(serverSettings, env, problems);
  // Seconds written where milliseconds are read (Kubernetes' terminationGracePeriodSeconds is 30): a grace of 30 ms
  // aborted every send still at AOPay 23 ms after SIGTERM, each answered OutcomeUnknown, on every deploy. 0 is asked
  // for on purpose (cut at once); under 100 ms, no upstream call could finish (the floor of the deadlines' settings).
  const grace = server.SHUTDOWN_GRACE_MS;
  if (grace > 0 && grace < MIN_SHUTDOWN_GRACE_MS)
    problems.push(
      `SHUTDOWN_GRACE_MS must be 0 (connections cut at once) or at least ${MIN_SHUTDOWN_GRACE_MS} (got ${grace}): it is in milliseconds (${grace} s is ${grace * 1000})`,
    );
  const transport = readGroup(transportSettings, env, problems);
  const client = readGroup(clientSettings, env, problems);
  const protection = readGroup(protectionSettings, env, problems);
  const metrics = readGroup(metricsSettings, env, problems);
  const production = server.NODE_ENV === "production";
  // Node's http.createServer throws on this pair; say which settings to change instead.
  if (server.HEADERS_TIMEOUT_MS > server.REQUEST_TIMEOUT_MS)
    problems.push("HEADERS_TIMEOUT_MS must not be larger than REQUEST_TIMEOUT_MS");
  if (production && server.LOG_FORMAT === "pretty") {
    problems.push("LOG_FORMAT=pretty is for development: production logs are JSON lines (what log shippers parse)");
  }
  const debugSwitches = rawDebugSwitches(env, context.execArgv);
  if (production && debugSwitches.length > 0 && !server.ALLOW_RAW_DEBUG_OUTPUT)
    problems.push(
      `${debugSwitches.join(", ")}: writes what no scrubber reads (customers' numbers, tokens, secrets) ` +
        "or opens Node's inspector (code run in the process) in production: " +
        "unset it, or set ALLOW_RAW_DEBUG_OUTPUT=true to accept that output in clear (docs/operations.md)",
    );

  // The upstream: live when AOPAY_BASE_URL is set (even if it is bad: the credentials check still applies).
  const baseUrl = transport.AOPAY_BASE_URL ?? null;
  const mode: AopayConfig["mode"] = baseUrl || env.AOPAY_BASE_URL ? "live" : "simulator";
  if (mode === "simulator" && production) {
    problems.push(
      "AOPAY_BASE_URL is required when NODE_ENV=production: the built-in simulator is for development only and will not run in production",
    );
  }
  if (
    baseUrl &&
    production &&
    baseUrl.protocol !== "https:" &&
    !["127.0.0.1", "[::1]", "localhost"].includes(baseUrl.hostname)
  ) {
    // docs/security-requirements.md D5: partner credentials and Aadhaar numbers travel in the body; never in clear
    // text in production. Loopback is the one exception (an egress proxy or TLS sidecar on the same host).
    problems.push("AOPAY_BASE_URL must use https in production (plain http is allowed only to a loopback address)");
  }
  if (mode === "live") {
    if (!env.AOPAY_REGISTRATION_ID) problems.push("AOPAY_REGISTRATION_ID is required when AOPAY_BASE_URL is set");
    if (!env.AOPAY_COMPANY_CODE) problems.push("AOPAY_COMPANY_CODE is required when AOPAY_BASE_URL is set");
  }
  const simulatorCredential = (value: string | undefined, simulators: string) =>
    value ?? (mode === "simulator" ? simulators : "");

  const aopay: AopayConfig = {
    mode,
    baseUrl,
    apiPrefix: transport.AOPAY_API_PREFIX,
    registrationId: simulatorCredential(client.AOPAY_REGISTRATION_ID, SIMULATOR_REGISTRATION_ID),
    companyCode: simulatorCredential(client.AOPAY_COMPANY_CODE, SIMULATOR_COMPANY_CODE),
    aepsPipe: client.AOPAY_AEPS_PIPE,
    aepsAccessModeType: client.AOPAY_AEPS_ACCESS_MODE_TYPE,
    cibilRegistrationMethod: client.AOPAY_CIBIL_REGISTRATION_METHOD,
    dobFormat: client.AOPAY_DOB_FORMAT,
    connectTimeoutMs: transport.AOPAY_CONNECT_TIMEOUT_MS,
    headersTimeoutMs: transport.AOPAY_HEADERS_TIMEOUT_MS,
    bodyTimeoutMs: transport.AOPAY_BODY_TIMEOUT_MS,
    deadlineMs: transport.AOPAY_DEADLINE_MS,
    maxResponseBytes: transport.AOPAY_MAX_RESPONSE_BYTES,
    connections: transport.AOPAY_CONNECTIONS,
    queueLimit: transport.AOPAY_QUEUE_LIMIT,
    getBodyKeepAlive: transport.AOPAY_GET_BODY_KEEP_ALIVE,
    retryMax: transport.AOPAY_RETRY_MAX,
    breaker: breakerConfig(readGroup(breakerSettings, env, problems)),
    keepAliveTimeoutMs: transport.AOPAY_KEEP_ALIVE_TIMEOUT_MS,
  };

  // HMAC_SECRET keys every throttle and idempotency entry. Replicas sharing Redis must share it, so it is required in
  // production and whenever REDIS_URL is set; a one-process development server gets a random one.
  const redisUrl = protection.REDIS_URL ?? null;
  // A secret that is too short has been reported above; it is still the one in use, not a random one.
  const hmacRaw = env.HMAC_SECRET || undefined;
  if (hmacRaw === undefined && (production || redisUrl !== null)) {
    problems.push(
      "HMAC_SECRET is required in production and with REDIS_URL (at least 32 characters, e.g. `openssl rand -base64 48`)",
    );
  }
  // Stored results can carry a token AOPay issued; in a shared Redis they are sealed under a key of their own, so
  // that a copy of Redis is not readable by whoever also learns HMAC_SECRET (which every replica's env holds anyway).
  const configuredStoreKeys = protection.STORE_ENCRYPTION_KEYS;
  const storeKeysSet = (env.STORE_ENCRYPTION_KEYS ?? "") !== "";
  if (storeKeysSet && configuredStoreKeys?.length === 0)
    problems.push(
      "STORE_ENCRYPTION_KEYS lists no key: it must list id:base64key entries, comma-separated " +
        "(e.g. `k1:$(openssl rand -base64 32)`)",
    );
  if (!storeKeysSet && production && redisUrl !== null) {
    problems.push(
      "STORE_ENCRYPTION_KEYS is required in production with REDIS_URL: idempotency results stored in Redis are encrypted with it " +
        "(`id:base64key`, e.g. `k1:$(openssl rand -base64 32)`; see docs/security.md)",
    );
  }
  // Without Redis, a key is taken only with room for the largest record its request can leave (idempotency-store.ts):
  // a budget smaller than one such record would refuse every request with an Idempotency-Key, for good.
  const largestRecord = recordBytes(protection.IDEMPOTENCY_MAX_RESULT_BYTES);
  if (redisUrl === null && protection.MEMORY_IDEMPOTENCY_MAX_BYTES < largestRecord)
    problems.push(
      `MEMORY_IDEMPOTENCY_MAX_BYTES must be at least ${largestRecord} with IDEMPOTENCY_MAX_RESULT_BYTES=` +
        `${protection.IDEMPOTENCY_MAX_RESULT_BYTES} (one record holding the largest result kept, sealed)`,
    );
  const limits = readGroup(limitsSettings, env, problems);
  const admission = readGroup(admissionSettings, env, problems);
  const maxInFlight = admission.ADMISSION_MAX_IN_FLIGHT ?? transport.AOPAY_CONNECTIONS + transport.AOPAY_QUEUE_LIMIT;
  const auth = authConfig(readGroup(authSettings, env, problems), production, problems);
  // Only one client can be admitted at all (credentials required, no bearer tokens, every API key the same client's):
  // a share would keep places for no one, and only cost that client half its queue (measured: docs/performance-runs.md
  // "Round 8f912ea"), so the default share is off then (http/admission.settings.ts).
  const oneClient = auth.required && auth.jwt === null && new Set(auth.apiKeys.values()).size <= 1;
  // A shared in-memory table's client share (MEMORY_*_CLIENT_SHARE_PERCENT), unless set: off (100) for one client, for
  // the same reason (the table is that client's, and a share would only halve it), else the table's own default.
  const sharePercent = (configured: number | undefined, otherwise: number): number =>
    configured ?? (oneClient ? 100 : otherwise);
  const cluster = readGroup(clusterSettings, env, problems);
  const workers = cluster.WEB_CONCURRENCY;
  // Each refusal names its way out: WEB_CONCURRENCY is also set by platforms, not only by the operator (Heroku's
  // Node.js buildpack sets it from the dyno's memory, one process per 512 MB by default: Heroku's changelog item 609),
  // so the one who meets the refusal may never have set it.
  const oneProcess =
    "set WEB_CONCURRENCY=1 for one process (a platform may have set it: Heroku's Node.js buildpack does)";
  if (workers > 1 && redisUrl === null) {
    problems.push(
      `WEB_CONCURRENCY=${workers} needs REDIS_URL: each worker would keep its own OTP budgets, idempotency keys and consents in memory, so every budget would be multiplied by ${workers}; set REDIS_URL, or ${oneProcess}`,
    );
  }
  if (workers > 1 && mode === "simulator") {
    problems.push(
      `WEB_CONCURRENCY=${workers} needs AOPAY_BASE_URL: each worker would start its own built-in simulator, with its own OTPs; set AOPAY_BASE_URL, or ${oneProcess}`,
    );
  }
  const hmacSecret = hmacRaw === undefined ? randomBytes(32) : Buffer.from(hmacRaw, "utf8");
  // A rotation (docs/security.md "Rotating the HMAC secret"): the secrets replaced, the current one left out if listed.
  const previousRaw = protection.HMAC_SECRET_PREVIOUS ?? [];
  if (previousRaw.length > 0 && hmacRaw === undefined)
    problems.push("HMAC_SECRET_PREVIOUS needs HMAC_SECRET: it names the secrets HMAC_SECRET replaced");
  const hmacPreviousSecrets = [...new Set(previousRaw)]
    .filter((previous) => previous !== hmacRaw)
    .map((previous) => Buffer.from(previous, "utf8"));
  // Step 1 of a rolling rotation: the secret coming. Equal to HMAC_SECRET (step 2 done, the setting left): no rotation.
  const nextRaw = protection.HMAC_SECRET_NEXT;
  if (nextRaw !== undefined && hmacRaw === undefined)
    problems.push("HMAC_SECRET_NEXT needs HMAC_SECRET: it names the secret that will replace HMAC_SECRET");
  // A secret both coming and replaced is a mistake in one of the two lists (a secret once replaced is never used again).
  if (nextRaw !== undefined && nextRaw !== hmacRaw && previousRaw.includes(nextRaw))
    problems.push("HMAC_SECRET_NEXT names a secret HMAC_SECRET_PREVIOUS lists: a replaced secret never comes back");
  const hmacNextSecret = nextRaw === undefined || nextRaw === hmacRaw ? null : Buffer.from(nextRaw, "utf8");
  // The last step: replaced secrets read for registered mobiles only. Listed in HMAC_SECRET_PREVIOUS as well, they are
  // read there already (and the throttle still writes under them): left out here.
  const retiredRaw = protection.HMAC_SECRET_RETIRED ?? [];
  if (retiredRaw.length > 0 && hmacRaw === undefined)
    problems.push("HMAC_SECRET_RETIRED needs HMAC_SECRET: it names secrets HMAC_SECRET replaced");
  if (nextRaw !== undefined && nextRaw !== hmacRaw && retiredRaw.includes(nextRaw))
    problems.push("HMAC_SECRET_NEXT names a secret HMAC_SECRET_RETIRED lists: a replaced secret never comes back");
  const hmacRetiredSecrets = [...new Set(retiredRaw)]
    .filter((retired) => retired !== hmacRaw && !previousRaw.includes(retired))
    .map((retired) => Buffer.from(retired, "utf8"));

  const config: Config = {
    env: server.NODE_ENV,
    port: server.PORT,
    host: server.HOST,
    logLevel: server.LOG_LEVEL,
    logFormat:
      server.LOG_FORMAT ?? (server.NODE_ENV === "development" && context.stdoutIsTTY === true ? "pretty" : "json"),
    corsOrigins: server.CORS_ORIGINS ?? (production ? [] : [...DEFAULT_DEV_CORS_ORIGINS]),
    bodyLimitBytes: server.BODY_LIMIT_BYTES,
    listenBacklog: server.LISTEN_BACKLOG,
    admission: {
      maxInFlight,
      maxInFlightPerClient:
        admission.ADMISSION_MAX_IN_FLIGHT_PER_CLIENT ?? (oneClient ? 0 : Math.ceil(maxInFlight / 2)),
      maxEventLoopDelayMs: admission.ADMISSION_MAX_EVENT_LOOP_DELAY_MS,
      sampleIntervalMs: admission.ADMISSION_SAMPLE_INTERVAL_MS,
      retryAfterSeconds: admission.ADMISSION_RETRY_AFTER_SECONDS,
      refusedReadsPerTurn: admission.ADMISSION_REFUSED_READS_PER_TURN,
    },
    webConcurrency: workers,
    workerHangTimeoutMs: cluster.WORKER_HANG_TIMEOUT_MS,
    shutdownGraceMs: server.SHUTDOWN_GRACE_MS,
    shutdownDelayMs: server.SHUTDOWN_DELAY_MS,
    httpLimits: {
      headersTimeoutMs: server.HEADERS_TIMEOUT_MS,
      requestTimeoutMs: server.REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: server.KEEP_ALIVE_TIMEOUT_MS,
      maxHeaderBytes: server.MAX_HEADER_BYTES,
      responseWriteTimeoutMs: server.RESPONSE_WRITE_TIMEOUT_MS,
      maxUnauthenticatedConnectionsPerIp: server.MAX_UNAUTHENTICATED_CONNECTIONS_PER_IP,
      maxUnauthenticatedConnections: server.MAX_UNAUTHENTICATED_CONNECTIONS,
    },
    aopay,
    hmacSecret,
    hmacSecretEphemeral: hmacRaw === undefined,
    hmacPreviousSecrets,
    hmacNextSecret,
    hmacRetiredSecrets,
    redisUrl,
    ignoredRedisSettings,
    rawDebugSwitches: debugSwitches,
    redisKeyPrefix: protection.REDIS_KEY_PREFIX,
    redisEvictingPolicy: protection.REDIS_EVICTING_POLICY,
    redisPolicyCheckMs: protection.REDIS_POLICY_CHECK_SECONDS * 1000,
    redisMemoryPollMs: protection.REDIS_MEMORY_POLL_SECONDS * 1000,
    // Derived: the previous and retired secrets' keys open what they sealed, and the next secret's what the replicas
    // already switched to it seal (the same key id; StoreSealer tries each, the current one first).
    storeKeys: configuredStoreKeys?.length
      ? configuredStoreKeys
      : [hmacSecret, ...hmacPreviousSecrets, ...(hmacNextSecret ? [hmacNextSecret] : []), ...hmacRetiredSecrets].map(
          (secret) => deriveStoreKey(secret),
        ),
    storeKeysDerived: !configuredStoreKeys?.length,
    memoryLimits: {
      throttleMaxKeys: protection.MEMORY_THROTTLE_MAX_KEYS,
      throttleClientSharePercent: sharePercent(
        protection.MEMORY_THROTTLE_CLIENT_SHARE_PERCENT,
        DEFAULT_MEMORY_THROTTLE_CLIENT_SHARE_PERCENT,
      ),
      idempotencyMaxKeys: protection.MEMORY_IDEMPOTENCY_MAX_KEYS,
      idempotencyClientSharePercent: sharePercent(
        protection.MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT,
        DEFAULT_MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT,
      ),
      idempotencyMaxBytes: protection.MEMORY_IDEMPOTENCY_MAX_BYTES,
      consentMaxKeys: protection.MEMORY_CONSENT_MAX_KEYS,
      registeredMobileMaxKeys: protection.MEMORY_REGISTERED_MOBILE_MAX_KEYS,
      registeredMobileClientSharePercent: sharePercent(
        protection.MEMORY_REGISTERED_MOBILE_CLIENT_SHARE_PERCENT,
        DEFAULT_MEMORY_REGISTERED_MOBILE_CLIENT_SHARE_PERCENT,
      ),
    },
    throttle: throttleConfig(readGroup(throttleSettings, env, problems)),
    cibilConsentTtlSeconds: protection.CIBIL_CONSENT_TTL_SECONDS,
    cibilRegisteredMobileTtlSeconds: protection.CIBIL_REGISTERED_MOBILE_TTL_SECONDS,
    cibilRegisteredMobileRetrySeconds: protection.CIBIL_REGISTERED_MOBILE_RETRY_SECONDS,
    idempotencyTtlSeconds: protection.IDEMPOTENCY_TTL_SECONDS,
    idempotencyMaxResultBytes: protection.IDEMPOTENCY_MAX_RESULT_BYTES,
    trustedProxies: server.TRUSTED_PROXIES ?? [],
    auth,
    graphqlLimits: graphqlLimits(limits),
    trustedDocuments: limits.TRUSTED_DOCUMENTS,
    requestDeadlineMs: server.REQUEST_DEADLINE_MS,
    metrics: {
      enabled: metrics.METRICS_ENABLED,
      host: metrics.METRICS_HOST,
      port: metrics.METRICS_PORT,
      token: metrics.METRICS_TOKEN ?? null,
      previousToken: metrics.METRICS_TOKEN_PREVIOUS ?? null,
    },
    readinessIncludesRedis: server.READINESS_INCLUDES_REDIS,
    readinessIncludesBreaker: server.READINESS_INCLUDES_BREAKER,
    telemetry: telemetryConfig(readGroup(telemetrySettings, env, problems), problems),
    secretValues: secretValues(env),
  };

  // Alone it would be the only token accepted, under a name that says it is on its way out.
  if (metrics.METRICS_TOKEN_PREVIOUS !== undefined && metrics.METRICS_TOKEN === undefined)
    problems.push("METRICS_TOKEN_PREVIOUS needs METRICS_TOKEN: it names the token METRICS_TOKEN replaced");
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (
    value &&
    typeof value === "object" &&
    !(value instanceof URL) &&
    !Buffer.isBuffer(value) &&
    !(value instanceof Map)
  ) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
