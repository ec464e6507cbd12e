import { serviceLink, type SettingsGroup } from "./schema";

/**
 * Names in the environment that are not settings. A real environment holds many (PATH, HOME, npm_*, KUBERNETES_*,
 * a platform's own), so an unknown name stops the start only when it is ours by its shape:
 * - it is close to a known name: the same but for case (`REDIS_URl`), or a small edit away (`CORS_ORIGIN`,
 *   `LOGLEVEL`, `TRUSTED_DOCUMENT`): at most 1 edit for names of up to 8 characters, 2 for longer ones (so `HOME` is
 *   not taken for `HOST`, 2 edits away, nor Laravel's `APP_KEY` or the Docker images' `GPG_KEYS` for `API_KEYS`);
 * - or it is a setting with its unit left off or spelled otherwise (`SHUTDOWN_GRACE`, `HEADERS_TIMEOUT`,
 *   `OTP_COOLDOWN_MS` for `SHUTDOWN_GRACE_MS`, `HEADERS_TIMEOUT_MS`, `OTP_COOLDOWN_SECONDS`): too many edits away
 *   for the rule above, and without one of our prefixes such a name was ignored and the default used;
 * - or it starts with a prefix a settings group owns (`AOPAY_`, `OTP_`, `OTEL_` ...).
 * Never flagged: what Kubernetes and Docker put in a container for the Services and containers it may reach
 * (isLinkVariable: a Service named `otp` or `aopay` would otherwise stop every pod), and the names other software
 * sets or reads that fall under those rules (OTHERS). test/unit/settings/settings.test.ts runs the check over the
 * environments of Docker, Kubernetes, npm, CI runners, systemd and platforms, and over this machine's own.
 * The value of an unknown variable is never read into a message.
 */
export function unknownNames(
  env: Readonly<Record<string, string | undefined>>,
  groups: readonly SettingsGroup[],
  /** Receives the names accepted as another program's connection settings (REDIS_CONNECTION_PARTS), to warn about. */
  ignored: string[] = [],
  /**
   * Whether the program checked connects to Redis (by REDIS_URL). The server does (its default). The standalone
   * simulator does not: the parts are never refused, never in `ignored`, as REDIS_URL itself means nothing to it.
   */
  connectsToRedis = true,
): string[] {
  const known = new Set<string>();
  for (const group of groups) {
    for (const name of Object.keys(group.settings)) known.add(name);
    for (const name of group.passThrough?.names ?? []) known.add(name);
  }
  const prefixes = groups.flatMap((g) => g.prefixes);
  const problems: string[] = [];
  const redisParts: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || known.has(name) || isLinkVariable(name, value, env)) continue;
    if (OTHERS.some((other) => (typeof other === "string" ? other === name : other.test(name)))) continue;
    if (REDIS_CONNECTION_PARTS.has(name)) {
      if (connectsToRedis) redisParts.push(name);
      continue;
    }
    const suggestion = closestName(name, known);
    if (suggestion) problems.push(`Unknown setting ${name}: did you mean ${suggestion}?`);
    else if (prefixes.some((p) => name.toUpperCase().startsWith(p))) {
      problems.push(
        `Unknown setting ${name}: not a setting of this server (every setting is listed in .env.example and docs/configuration.md)`,
      );
    }
  }
  if (redisParts.length > 0) {
    redisParts.sort();
    // With REDIS_URL set, where to connect is said: the parts are another program's (a Redis container's own, in an
    // env file shared with it). Without it this server would run on its in-memory stores, each replica with budgets
    // of its own, while the operator meant the Redis those parts name: refused, saying how to write them as one URL.
    // Names only: never a value (REDIS_PASSWORD's least of all).
    if (env.REDIS_URL !== undefined && env.REDIS_URL !== "") ignored.push(...redisParts);
    else
      problems.push(
        `Unknown settings ${redisParts.join(", ")}: this server connects to Redis by REDIS_URL alone. Write them as ` +
          "one URL, REDIS_URL=redis://[username]:[password]@host:port/db (the password percent-encoded), e.g. " +
          "REDIS_URL=redis://:<the password>@redis:6379/0; if they are another program's (a Redis container's own), " +
          "set REDIS_URL and they are ignored",
      );
  }
  return problems;
}

/**
 * Redis connection settings other programs read or set, one part each (the bitnami/redis image's REDIS_PASSWORD and
 * REDIS_PORT_NUMBER, most clients' REDIS_HOST, REDIS_PORT, REDIS_USERNAME, REDIS_DB): under our REDIS_ prefix, so
 * unknown, but refused with a message of their own or ignored by whether REDIS_URL is set (unknownNames). A Kubernetes
 * or Docker link's REDIS_PORT=tcp://... is a link, ignored before this (isLinkVariable).
 */
const REDIS_CONNECTION_PARTS: ReadonlySet<string> = new Set([
  "REDIS_HOST",
  "REDIS_PORT",
  "REDIS_PORT_NUMBER",
  "REDIS_PASSWORD",
  "REDIS_USERNAME",
  "REDIS_USER",
  "REDIS_DB",
  "REDIS_DATABASE",
]);

/**
 * Names that other software sets in a process's environment, or commonly reads, and that the rules above would take
 * for ours (each found refusing a start: test/unit/settings/settings.test.ts has them). Exact names, or patterns for
 * a family; as narrow as the source names them, so that a typo of ours next to them is still caught.
 */
const OTHERS: readonly (string | RegExp)[] = [
  // Heroku's Node.js buildpack (profile/nodejs.sh) and Cloud Foundry's: the dyno's memory; CF's own limit (`1024m`).
  "MEMORY_AVAILABLE",
  "MEMORY_LIMIT",
  // systemd 254+ (MemoryPressureWatch=, on by default with memory accounting): every service gets both.
  "MEMORY_PRESSURE_WATCH",
  "MEMORY_PRESSURE_WRITE",
  // Marathon (Mesos, DC/OS): the ports it allocated, PORT0, PORT1 ... and PORTS (PORT itself is PORT0, ours).
  /^PORT[0-9]+$/,
  "PORTS",
  // Common settings of other Node servers (express' `limit: process.env.BODY_LIMIT || '1mb'`, timeouts in seconds or
  // milliseconds) in an env file or ConfigMap shared with them: no unit of ours missing, the name is theirs.
  "BODY_LIMIT",
  "REQUEST_TIMEOUT",
  "KEEP_ALIVE_TIMEOUT",
  // The OpenTelemetry Operator's inject-sdk/inject-nodejs (the downward API values it builds OTEL_RESOURCE_ATTRIBUTES
  // from: `OTEL_RESOURCE_ATTRIBUTES_POD_NAME` ...), and the specification's variables for the signals and exporters
  // this server does not export with (metrics are Prometheus, logs stdout: OTEL_METRICS_EXPORTER and
  // OTEL_LOGS_EXPORTER still refuse anything but `none`), set for every service in a shared ConfigMap.
  /^OTEL_RESOURCE_ATTRIBUTES_[A-Z0-9_]+$/,
  "OTEL_NODE_IP",
  "OTEL_POD_IP",
  /^OTEL_EXPORTER_OTLP_(METRICS|LOGS)_[A-Z_]+$/,
  /^OTEL_EXPORTER_OTLP(_TRACES)?_INSECURE$/,
  /^OTEL_(METRIC_EXPORT|METRICS_EXEMPLAR|BLRP|LOGRECORD)_[A-Z_]+$/,
  /^OTEL_EXPORTER_(PROMETHEUS|ZIPKIN|JAEGER)_[A-Z_]+$/,
  "OTEL_SEMCONV_STABILITY_OPT_IN",
  /^OTEL_NODE_(ENABLED|DISABLED)_INSTRUMENTATIONS$/,
];

/**
 * What Kubernetes and Docker put in a container's environment for what it can reach:
 * - Kubernetes' service links (`<SERVICE>_SERVICE_HOST`, `<SERVICE>_SERVICE_PORT[_<NAME>]`,
 *   `<SERVICE>_PORT=tcp://...`, `<SERVICE>_PORT_4000_TCP[_PROTO|_PORT|_ADDR]`: a Service named `redis` gives
 *   `REDIS_SERVICE_HOST`, `REDIS_PORT=tcp://10.96.12.7:6379` ...), the same from Docker's `--link`;
 * - Docker's `--link` (and GitLab CI's `services:` on its Docker executor) also sets
 *   `<ALIAS>_NAME=/<container>/<alias>` and `<ALIAS>_ENV_<VARIABLE>` for each variable of the linked container: a
 *   `redis` service gave `REDIS_NAME`, `REDIS_ENV_REDIS_VERSION` ... under our `REDIS_` prefix.
 */
function isLinkVariable(name: string, value: string, env: Readonly<Record<string, string | undefined>>): boolean {
  if (
    /_SERVICE_(HOST|PORT)(_[A-Z0-9_]+)?$/.test(name) ||
    /_PORT_[0-9]+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?$/.test(name) ||
    serviceLink(name, value) !== null
  )
    return true;
  if (name.endsWith("_NAME") && DOCKER_LINK_NAME.test(value)) return true;
  const alias = /^(.+?)_ENV_/.exec(name)?.[1];
  return alias !== undefined && DOCKER_LINK_NAME.test(env[`${alias}_NAME`] ?? "");
}

/** A Docker link's `<ALIAS>_NAME`: `/<this container>/<alias>`. */
const DOCKER_LINK_NAME = /^\/[\w.-]+\/[\w.-]+$/;

/** The known name `name` most likely meant, or null. */
export function closestName(name: string, known: ReadonlySet<string>): string | null {
  const upper = name.toUpperCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of known) {
    if (candidate === upper) return candidate; // differs only in case
    const allowed = candidate.length <= 8 ? 1 : 2;
    if (Math.abs(candidate.length - upper.length) > allowed) continue;
    const d = editDistance(upper, candidate, allowed);
    if (d <= allowed && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best) return best;
  const stem = upper.replace(UNIT_SUFFIX, "");
  for (const candidate of known) {
    if (UNIT_SUFFIX.test(candidate) && candidate.replace(UNIT_SUFFIX, "") === stem) return candidate;
  }
  return null;
}

/** The ways a unit ends a name: ours (`_MS`, `_SECONDS`, `_BYTES`, `_PERCENT`) and their usual other spellings. */
const UNIT_SUFFIX =
  /_(MS|MILLIS|MILLISECONDS|S|SEC|SECS|SECOND|SECONDS|MIN|MINS|MINUTES|B|BYTE|BYTES|KB|PCT|PERCENT|PERCENTAGE)$/;

/**
 * Optimal string alignment distance (Levenshtein plus adjacent transpositions, so `PROT` is 1 from `PORT`), stopping
 * early once every path exceeds `limit`. Hand-written: 20 lines for names of a few dozen characters, checked once at
 * startup; fastest-levenshtein, the usual package, counts a transposition as 2.
 */
export function editDistance(a: string, b: string, limit = Infinity): number {
  let prevPrev: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prevPrev[j - 2] + 1);
      row.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > limit) return rowMin;
    prevPrev = prev;
    prev = row;
  }
  return prev[b.length];
}
