import { SERVICE_LINK_VALUE, type SettingsGroup } from "./schema";

/**
 * Names in the environment that are not settings. A real environment holds many (PATH, HOME, npm_*, KUBERNETES_*,
 * a platform's own), so an unknown name stops the start only when it is ours by its shape:
 * - it is close to a known name: the same but for case (`REDIS_URl`), or a small edit away (`CORS_ORIGIN`,
 *   `LOGLEVEL`, `TRUSTED_DOCUMENT`): at most 1 edit for names of up to 7 characters, 2 for longer ones (so `HOME` is
 *   not taken for `HOST`, 2 edits away);
 * - or it is a setting with its unit left off or spelled otherwise (`SHUTDOWN_GRACE`, `BODY_LIMIT`,
 *   `OTP_COOLDOWN_MS` for `SHUTDOWN_GRACE_MS`, `BODY_LIMIT_BYTES`, `OTP_COOLDOWN_SECONDS`): too many edits away
 *   for the rule above, and without one of our prefixes such a name was ignored and the default used;
 * - or it starts with a prefix a settings group owns (`AOPAY_`, `OTP_`, `OTEL_` ...).
 * Kubernetes' service links (`<SERVICE>_SERVICE_HOST`, `<SERVICE>_PORT=tcp://...`, `<SERVICE>_PORT_4000_TCP...`)
 * are never flagged: a Service named `otp` or `metrics` would otherwise stop every pod. test/unit/settings/settings.test.ts
 * runs the check over a Docker, Kubernetes, npm and CI environment, and over this machine's own.
 * The value of an unknown variable is never read into a message.
 */
export function unknownNames(
  env: Readonly<Record<string, string | undefined>>,
  groups: readonly SettingsGroup[],
): string[] {
  const known = new Set<string>();
  for (const group of groups) {
    for (const name of Object.keys(group.settings)) known.add(name);
    for (const name of group.passThrough?.names ?? []) known.add(name);
  }
  const prefixes = groups.flatMap((g) => g.prefixes);
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || known.has(name) || isServiceLink(name, value)) continue;
    const suggestion = closestName(name, known);
    if (suggestion) problems.push(`Unknown setting ${name}: did you mean ${suggestion}?`);
    else if (prefixes.some((p) => name.toUpperCase().startsWith(p))) {
      problems.push(
        `Unknown setting ${name}: not a setting of this server (every setting is listed in .env.example and docs/configuration.md)`,
      );
    }
  }
  return problems;
}

function isServiceLink(name: string, value: string): boolean {
  return (
    /_SERVICE_(HOST|PORT)(_[A-Z0-9_]+)?$/.test(name) ||
    /_PORT_[0-9]+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?$/.test(name) ||
    (name.endsWith("_PORT") && SERVICE_LINK_VALUE.test(value))
  );
}

/** The known name `name` most likely meant, or null. */
export function closestName(name: string, known: ReadonlySet<string>): string | null {
  const upper = name.toUpperCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of known) {
    if (candidate === upper) return candidate; // differs only in case
    const allowed = candidate.length <= 7 ? 1 : 2;
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
