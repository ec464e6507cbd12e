import { z } from "zod";
import { bool, custom, defineSettings, int, text } from "../settings/schema";

export const DEFAULT_API_PREFIX = "/api/AOP";
/** undici defaults are 10 s connect and 300 s headers/body (docs/security-requirements.md E1); ours are below a typical 30 s LB timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
export const DEFAULT_HEADERS_TIMEOUT_MS = 8_000;
export const DEFAULT_BODY_TIMEOUT_MS = 8_000;
export const DEFAULT_DEADLINE_MS = 10_000;
/** The longest AOPAY_DEADLINE_MS may be: what bounds a mark in Redis of any replica (registered-mobiles.ts). */
export const MAX_AOPAY_DEADLINE_MS = 120_000;
/** 1 MiB: the documented bodies are a few hundred bytes; undici's default is unlimited (docs/security-requirements.md D6). */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
export const DEFAULT_CONNECTIONS = 128;
export const DEFAULT_QUEUE_LIMIT = 256;
export const DEFAULT_RETRY_MAX = 2;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 4_000;

/**
 * AOPAY_BASE_URL: an absolute http(s) URL with no query, fragment or credentials. Whether plain http is allowed
 * depends on NODE_ENV (config.ts). The value is never echoed.
 */
const baseUrl = z.string().transform((raw, ctx) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    ctx.addIssue({ code: "custom", message: "must be an absolute URL such as https://api.aopay.co.in" });
    return z.NEVER;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    ctx.addIssue({ code: "custom", message: "must use https (or http outside production)" });
  if (url.search || url.hash || url.username || url.password)
    ctx.addIssue({ code: "custom", message: "must not carry a query, fragment or credentials" });
  return url;
});

/** The HTTP exchange with AOPay (src/aopay/transport.ts): where, how long, how many at once. */
export const transportSettings = defineSettings({
  title: "AOPay connection",
  module: "src/aopay/transport.ts",
  prefixes: ["AOPAY_"],
  settings: {
    AOPAY_BASE_URL: custom(baseUrl, {
      defaultDoc: "unset: the built-in simulator",
      doc: "AOPay origin, e.g. `https://api.aopay.co.in`. Must be https in production (plain http only to a loopback address)",
      example: "https://api.aopay.co.in",
    }),
    AOPAY_API_PREFIX: text({
      default: DEFAULT_API_PREFIX,
      pattern: /^(\/[A-Za-z0-9._-]+)+$/,
      mustBe: "must look like /api/AOP",
      doc: "path prefix; the white-label host uses `/api/BOS`",
    }),
    AOPAY_CONNECT_TIMEOUT_MS: int({
      default: DEFAULT_CONNECT_TIMEOUT_MS,
      min: 50,
      max: 60_000,
      doc: "TCP/TLS connect timeout (undici's default is 10 s)",
    }),
    AOPAY_HEADERS_TIMEOUT_MS: int({
      default: DEFAULT_HEADERS_TIMEOUT_MS,
      min: 50,
      max: 120_000,
      doc: "time to the response headers (undici's default is 300 s)",
    }),
    AOPAY_BODY_TIMEOUT_MS: int({
      default: DEFAULT_BODY_TIMEOUT_MS,
      min: 50,
      max: 120_000,
      doc: "maximum gap between body chunks (undici's default is 300 s)",
    }),
    AOPAY_DEADLINE_MS: int({
      default: DEFAULT_DEADLINE_MS,
      min: 100,
      max: MAX_AOPAY_DEADLINE_MS,
      doc: "cap on one upstream attempt, from dispatch to the last byte",
    }),
    AOPAY_MAX_RESPONSE_BYTES: int({
      default: DEFAULT_MAX_RESPONSE_BYTES,
      min: 1024,
      max: 64 * 1024 * 1024,
      doc:
        "largest accepted AOPay response body (undici's default is unlimited); a credit report over it is `UPSTREAM_BAD_RESPONSE` " +
        "(see [the credit report](docs/api.md#cibilcredithistory-and-cibilotpverifiedcredithistory-the-credit-report))",
    }),
    AOPAY_CONNECTIONS: int({
      default: DEFAULT_CONNECTIONS,
      min: 1,
      max: 65_536,
      doc: "most sockets open to AOPay (bulkhead)",
    }),
    AOPAY_QUEUE_LIMIT: int({
      default: DEFAULT_QUEUE_LIMIT,
      min: 0,
      max: 1_000_000,
      doc: "calls allowed to wait for a socket; beyond that, `OVERLOADED` at once",
    }),
    AOPAY_RETRY_MAX: int({
      default: DEFAULT_RETRY_MAX,
      min: 0,
      max: 10,
      doc: "extra attempts for a call that provably never left (refused, DNS, connect/TLS failure)",
    }),
    AOPAY_KEEP_ALIVE_TIMEOUT_MS: int({
      default: DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
      min: 100,
      max: 600_000,
      doc: "idle time before a kept-alive socket to AOPay is closed",
    }),
    AOPAY_GET_BODY_KEEP_ALIVE: bool({
      default: true,
      doc:
        "reuse the connection after a GET with a body (AOPay's CIBIL calls). undici closes it by default because a server that ignores GET " +
        "bodies would read the body as the next request; AOPay documents GET with a body, so its server reads it. Set `false` if a proxy in between drops GET bodies",
    }),
  },
});
