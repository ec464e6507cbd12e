/**
 * The only reader of `process.env`. Every setting is parsed and validated once at startup; a bad or unknown value
 * stops the start with one message listing every problem (stripe-node's ALLOWED_CONFIG_PROPERTIES, applied to env).
 * Defaults are named constants below and listed in the README's Configuration table.
 */
import type { Level } from "pino";

export type Environment = "development" | "production" | "test";

/** Upstream (AOPay) connection settings. All times in milliseconds. */
export interface AopayConfig {
  /** `live`: AOPAY_BASE_URL is set. `simulator`: the built-in simulator is started in-process (development only). */
  mode: "live" | "simulator";
  /** Origin plus optional base path, e.g. `https://api.aopay.co.in`. Null in simulator mode until the simulator listens. */
  baseUrl: URL | null;
  /** Path prefix of the partner's API family. `/api/AOP` on api.aopay.co.in; `/api/BOS` on the white-label host (aopay-api.md §0). */
  apiPrefix: string;
  /** Partner credentials (aopay-api.md §4): server-side only, never sent to or accepted from GraphQL clients. */
  registrationId: string;
  companyCode: string;
  /** AEPS `Pipe`: the ResendOTP page says "Must Be bank6". */
  aepsPipe: string;
  /** AEPS `AccessModeType`: the page's example is `SITE`; its description row is cut off in the stored copy. */
  aepsAccessModeType: string;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** Whole-call deadline for one upstream call, from dispatch to the last body byte. */
  deadlineMs: number;
  maxResponseBytes: number;
  /** Upper bound of sockets to AOPay. */
  connections: number;
  keepAliveTimeoutMs: number;
}

export interface Config {
  env: Environment;
  port: number;
  host: string;
  logLevel: Level;
  /** Browser origins allowed by CORS. Empty: no cross-origin browser access. */
  corsOrigins: string[];
  bodyLimitBytes: number;
  /** How long SIGTERM waits for in-flight requests before closing connections. */
  shutdownGraceMs: number;
  aopay: AopayConfig;
}

export const DEFAULT_PORT = 4000;
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_LOG_LEVEL: Level = "info";
/** Vite's dev server, so the example app works out of the box in development. Production default: none. */
export const DEFAULT_DEV_CORS_ORIGINS = ["http://localhost:5173", "http://127.0.0.1:5173"];
/** 32 KiB: a GraphQL document for these operations is well under 2 KiB (SECURITY.md A4 proposes 16-64 KB). */
export const DEFAULT_BODY_LIMIT_BYTES = 32 * 1024;
export const DEFAULT_SHUTDOWN_GRACE_MS = 15_000;
export const DEFAULT_API_PREFIX = "/api/AOP";
export const DEFAULT_AEPS_PIPE = "bank6";
export const DEFAULT_AEPS_ACCESS_MODE_TYPE = "SITE";
/** undici defaults are 10 s connect and 300 s headers/body (SECURITY.md E1); ours are below a typical 30 s LB timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
export const DEFAULT_HEADERS_TIMEOUT_MS = 8_000;
export const DEFAULT_BODY_TIMEOUT_MS = 8_000;
export const DEFAULT_DEADLINE_MS = 10_000;
/** 1 MiB: the documented bodies are a few hundred bytes; undici's default is unlimited (SECURITY.md D6). */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
export const DEFAULT_CONNECTIONS = 128;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 4_000;

/** Credentials the built-in simulator accepts. They are not secrets: the simulator is a development tool. */
export const SIMULATOR_REGISTRATION_ID = "SIM-REG-0001";
export const SIMULATOR_COMPANY_CODE = "SIMCO01";

const KNOWN_AOPAY_VARS = new Set([
  "AOPAY_BASE_URL",
  "AOPAY_API_PREFIX",
  "AOPAY_REGISTRATION_ID",
  "AOPAY_COMPANY_CODE",
  "AOPAY_AEPS_PIPE",
  "AOPAY_AEPS_ACCESS_MODE_TYPE",
  "AOPAY_CONNECT_TIMEOUT_MS",
  "AOPAY_HEADERS_TIMEOUT_MS",
  "AOPAY_BODY_TIMEOUT_MS",
  "AOPAY_DEADLINE_MS",
  "AOPAY_MAX_RESPONSE_BYTES",
  "AOPAY_CONNECTIONS",
  "AOPAY_KEEP_ALIVE_TIMEOUT_MS",
]);

const LEVELS: readonly Level[] = ["fatal", "error", "warn", "info", "debug", "trace"];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  string(name: string, fallback: string): string {
    const raw = this.env[name];
    return raw === undefined || raw === "" ? fallback : raw;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    if (!/^[0-9]+$/.test(raw)) {
      this.problems.push(`${name} must be a whole number (got a non-numeric value)`);
      return fallback;
    }
    const n = Number(raw);
    if (n < min || n > max) this.problems.push(`${name} must be between ${min} and ${max} (got ${n})`);
    return n;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name} must be one of ${allowed.join(", ")}`);
      return fallback;
    }
    return raw as T;
  }

  /** A short printable identifier: letters, digits and `-_.`. Used for credentials and AEPS constants. */
  token(name: string, fallback: string): string {
    const value = this.string(name, fallback);
    if (value !== "" && !/^[A-Za-z0-9._-]{1,64}$/.test(value)) {
      // Never echo the value: it may be a credential.
      this.problems.push(`${name} must be 1-64 characters of letters, digits, '.', '_' or '-'`);
    }
    return value;
  }
}

function parseBaseUrl(r: Reader, raw: string | undefined, env: Environment): URL | null {
  if (raw === undefined || raw === "") return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    r.problems.push("AOPAY_BASE_URL must be an absolute URL such as https://api.aopay.co.in");
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") r.problems.push("AOPAY_BASE_URL must use https (or http outside production)");
  // SECURITY.md D5: partner credentials and Aadhaar numbers travel in the body; never in clear text in production.
  // Loopback is the one exception (an egress proxy or TLS sidecar on the same host): nothing crosses a network.
  const loopback = ["127.0.0.1", "[::1]", "localhost"].includes(url.hostname);
  if (env === "production" && url.protocol !== "https:" && !loopback) {
    r.problems.push("AOPAY_BASE_URL must use https in production (plain http is allowed only to a loopback address)");
  }
  if (url.search || url.hash || url.username || url.password) r.problems.push("AOPAY_BASE_URL must not carry a query, fragment or credentials");
  return url;
}

function parseOrigins(r: Reader, raw: string | undefined, fallback: string[]): string[] {
  if (raw === undefined) return fallback;
  const origins = raw.split(",").map((s) => s.trim()).filter(Boolean);
  for (const origin of origins) {
    let ok = false;
    try {
      const u = new URL(origin);
      ok = (u.protocol === "http:" || u.protocol === "https:") && u.origin === origin;
    } catch {
      ok = false;
    }
    if (!ok) r.problems.push(`CORS_ORIGINS entries must be exact origins like https://app.example.com (bad entry: ${JSON.stringify(origin)})`);
  }
  return origins;
}

/** Parses the environment into a frozen Config, or throws ConfigError naming every problem. */
export function loadConfig(env: Env = process.env): Config {
  const r = new Reader(env);
  const nodeEnv = r.oneOf<Environment>("NODE_ENV", "development", ["development", "production", "test"]);

  for (const key of Object.keys(env)) {
    if (key.startsWith("AOPAY_") && !KNOWN_AOPAY_VARS.has(key)) r.problems.push(`Unknown setting ${key} (misspelt?)`);
  }

  const baseUrl = parseBaseUrl(r, env.AOPAY_BASE_URL, nodeEnv);
  const mode: AopayConfig["mode"] = baseUrl || env.AOPAY_BASE_URL ? "live" : "simulator";
  if (mode === "simulator" && nodeEnv === "production") {
    r.problems.push(
      "AOPAY_BASE_URL is required when NODE_ENV=production: the built-in simulator is for development only and will not run in production",
    );
  }
  if (mode === "live") {
    if (!env.AOPAY_REGISTRATION_ID) r.problems.push("AOPAY_REGISTRATION_ID is required when AOPAY_BASE_URL is set");
    if (!env.AOPAY_COMPANY_CODE) r.problems.push("AOPAY_COMPANY_CODE is required when AOPAY_BASE_URL is set");
  }

  const apiPrefix = r.string("AOPAY_API_PREFIX", DEFAULT_API_PREFIX);
  if (!/^(\/[A-Za-z0-9._-]+)+$/.test(apiPrefix)) r.problems.push("AOPAY_API_PREFIX must look like /api/AOP");

  const deadlineMs = r.int("AOPAY_DEADLINE_MS", DEFAULT_DEADLINE_MS, 100, 120_000);
  const aopay: AopayConfig = {
    mode,
    baseUrl,
    apiPrefix,
    registrationId: r.token("AOPAY_REGISTRATION_ID", mode === "simulator" ? SIMULATOR_REGISTRATION_ID : ""),
    companyCode: r.token("AOPAY_COMPANY_CODE", mode === "simulator" ? SIMULATOR_COMPANY_CODE : ""),
    aepsPipe: r.token("AOPAY_AEPS_PIPE", DEFAULT_AEPS_PIPE),
    aepsAccessModeType: r.token("AOPAY_AEPS_ACCESS_MODE_TYPE", DEFAULT_AEPS_ACCESS_MODE_TYPE),
    connectTimeoutMs: r.int("AOPAY_CONNECT_TIMEOUT_MS", DEFAULT_CONNECT_TIMEOUT_MS, 50, 60_000),
    headersTimeoutMs: r.int("AOPAY_HEADERS_TIMEOUT_MS", DEFAULT_HEADERS_TIMEOUT_MS, 50, 120_000),
    bodyTimeoutMs: r.int("AOPAY_BODY_TIMEOUT_MS", DEFAULT_BODY_TIMEOUT_MS, 50, 120_000),
    deadlineMs,
    maxResponseBytes: r.int("AOPAY_MAX_RESPONSE_BYTES", DEFAULT_MAX_RESPONSE_BYTES, 1024, 64 * 1024 * 1024),
    connections: r.int("AOPAY_CONNECTIONS", DEFAULT_CONNECTIONS, 1, 65_536),
    keepAliveTimeoutMs: r.int("AOPAY_KEEP_ALIVE_TIMEOUT_MS", DEFAULT_KEEP_ALIVE_TIMEOUT_MS, 100, 600_000),
  };

  const config: Config = {
    env: nodeEnv,
    port: r.int("PORT", DEFAULT_PORT, 0, 65_535),
    host: r.string("HOST", DEFAULT_HOST),
    logLevel: r.oneOf<Level>("LOG_LEVEL", DEFAULT_LOG_LEVEL, LEVELS),
    corsOrigins: parseOrigins(r, env.CORS_ORIGINS, nodeEnv === "production" ? [] : DEFAULT_DEV_CORS_ORIGINS),
    bodyLimitBytes: r.int("BODY_LIMIT_BYTES", DEFAULT_BODY_LIMIT_BYTES, 1024, 1024 * 1024),
    shutdownGraceMs: r.int("SHUTDOWN_GRACE_MS", DEFAULT_SHUTDOWN_GRACE_MS, 0, 600_000),
    aopay,
  };

  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !(value instanceof URL)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Settings of `npm run simulator` (the simulator on its own). */
export interface SimulatorConfig {
  host: string;
  port: number;
  apiPrefix: string;
  registrationId: string;
  companyCode: string;
  logLevel: Level;
}

export const DEFAULT_SIMULATOR_PORT = 4010;

/** Parses the standalone simulator's settings: SIMULATOR_HOST, SIMULATOR_PORT, AOPAY_API_PREFIX, LOG_LEVEL. */
export function loadSimulatorConfig(env: Env = process.env): SimulatorConfig {
  const r = new Reader(env);
  const config: SimulatorConfig = {
    host: r.string("SIMULATOR_HOST", DEFAULT_HOST),
    port: r.int("SIMULATOR_PORT", DEFAULT_SIMULATOR_PORT, 0, 65_535),
    apiPrefix: r.string("AOPAY_API_PREFIX", DEFAULT_API_PREFIX),
    // The simulator accepts only its own development credentials (see README), never real ones.
    registrationId: SIMULATOR_REGISTRATION_ID,
    companyCode: SIMULATOR_COMPANY_CODE,
    logLevel: r.oneOf<Level>("LOG_LEVEL", DEFAULT_LOG_LEVEL, LEVELS),
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}
