/**
 * How a module declares the environment variables it reads: one `defineSettings` group per concern, next to the module
 * it configures (`src/aopay/transport.settings.ts` for src/aopay/transport.ts, ...). Each setting is a zod schema for
 * its text value plus what the docs need (meaning, default, secret). src/config.ts reads every group, checks the
 * names (settings/names.ts) and assembles the `Config` object; settings/docs.ts renders .env.example and the table in
 * docs/configuration.md from the same groups.
 *
 * zod (over envalid and env-schema): its schemas compose (a list of CIDRs is a pipe into an array of checked
 * entries), every check takes our own message so no value is ever echoed by a library default, the parsed types are
 * inferred, and it has no dependencies. envalid's built-in messages print the value and its dev defaults follow
 * NODE_ENV's own rules; env-schema validates with JSON Schema and would need a second, hand-kept TypeScript type.
 */
import { z } from "zod";

export interface SettingOptions<T> {
  /** What it does: one line for the docs table and .env.example (markdown). */
  doc: string;
  /** The value when unset (or empty). Omit for "unset" (the module decides). */
  default?: T;
  /** The default as the docs show it, when `default` alone does not say it (or depends on other settings). */
  defaultDoc?: string;
  /** A credential: never shown in an error; .env.example leaves it empty. */
  secret?: boolean;
  /** A sample value for .env.example where there is no default. */
  example?: string;
  /** `""` is a value (CORS_ORIGINS: empty means none), not "unset". */
  emptyIsValue?: boolean;
}

export interface Setting<T> extends Readonly<SettingOptions<T>> {
  /**
   * Parses a set value. Messages follow the setting's name ("must be ..."), and never contain the value of a secret.
   * A secret's value is also blanked out of any message after the fact (config.ts), as a second line of defence.
   */
  readonly schema: z.ZodType<T>;
  /**
   * The values the schema takes, as the docs show them beside the meaning (an `int`'s range, such as
   * `` `1024` to `1048576` ``): a value outside it stops the start, so the page must say it.
   */
  readonly accepts?: string;
}

/** A setting's parsed type: T when it has a default, else T | undefined. */
type Parsed<T, O> = O extends { default: T } ? T : T | undefined;

/**
 * A whole number in [min, max]. Blanks around it are ignored (an unquoted `.env` value keeps a trailing space in some
 * loaders). A negative number is reported against the range and a decimal as not whole, each with the value (a number
 * is never a secret); anything else is "non-numeric" without it (a misplaced credential must not be echoed).
 */
export function int<const O extends SettingOptions<number> & { min: number; max: number }>(
  o: O,
): Setting<Parsed<number, O>> {
  const range = `must be between ${o.min} and ${o.max}`;
  const schema = z.string().transform((raw, ctx) => {
    const text = raw.trim();
    if (!NUMBER.test(text)) {
      ctx.addIssue({ code: "custom", message: NON_NUMERIC });
      return z.NEVER;
    }
    const value = Number(text);
    if (!Number.isInteger(value)) {
      ctx.addIssue({ code: "custom", message: `must be a whole number (got ${text})` });
      return z.NEVER;
    }
    if (value < o.min || value > o.max) {
      ctx.addIssue({ code: "custom", message: `${range} (got ${text})` });
      return z.NEVER;
    }
    return value === 0 ? 0 : value; // "-0" is 0, not -0
  });
  return { ...o, defaultDoc: o.defaultDoc ?? code(o.default), accepts: `\`${o.min}\` to \`${o.max}\``, schema };
}

/** What `int` reads as a number: optional minus, digits, optional decimals (`1e3`, `0x10`, `1_000` are not). */
const NUMBER = /^-?[0-9]+(?:\.[0-9]+)?$/;
const NON_NUMERIC = "must be a whole number (got a non-numeric value; write digits only, no unit)";

/** One of a fixed list of words. */
export function oneOf<const V extends string, const O extends SettingOptions<V>>(
  values: readonly V[],
  o: O,
): Setting<Parsed<V, O>> {
  const schema = z.enum(values as [V, ...V[]], { error: `must be one of ${values.join(", ")}` });
  return { ...o, defaultDoc: o.defaultDoc ?? code(o.default), schema };
}

/** `true` or `false`. */
export function bool<const O extends SettingOptions<boolean>>(o: O): Setting<Parsed<boolean, O>> {
  const schema = z.enum(["true", "false"], { error: "must be one of true, false" }).transform((v) => v === "true");
  return { ...o, defaultDoc: o.defaultDoc ?? code(o.default), schema };
}

/**
 * Free text, optionally with a pattern (whose message must not echo the value) and a minimum length, whose message
 * ends with `howToMake` (how to make a good value: `openssl rand -base64 48`), so that the operator reads the accepted
 * form as well as what was wrong.
 */
export function text<
  const O extends SettingOptions<string> & {
    pattern?: RegExp;
    mustBe?: string;
    minLength?: number;
    howToMake?: string;
  },
>(o: O): Setting<Parsed<string, O>> {
  let schema = z.string();
  if (o.pattern) schema = schema.regex(o.pattern, { error: o.mustBe ?? "is not in the expected form" });
  if (o.minLength)
    schema = schema.min(o.minLength, {
      error: `must be at least ${o.minLength} characters${o.howToMake ? ` (e.g. ${o.howToMake})` : ""}`,
    });
  return { ...o, defaultDoc: o.defaultDoc ?? code(o.default), schema };
}

/** Any zod schema from a string (lists, URLs ...). */
export function custom<T, const O extends SettingOptions<T>>(schema: z.ZodType<T>, o: O): Setting<Parsed<T, O>> {
  return { ...o, defaultDoc: o.defaultDoc ?? code(o.default), schema };
}

/** A comma-separated list: blanks around entries and empty entries are dropped, then each entry is checked. */
export function listOf<T>(entry: z.ZodType<T, string>): z.ZodType<T[]> {
  const entries = z.array(entry) as unknown as z.ZodType<T[], string[]>;
  return z
    .string()
    .transform((raw) =>
      raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(entries);
}

/** Any setting (a group mixes types; `any` keeps each one's own type in the group's inferred values). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above: `unknown` would erase each setting's type
export type AnySetting = Setting<any>;

export interface SettingsGroup<S extends Record<string, AnySetting> = Record<string, AnySetting>> {
  /** The concern, as the docs title it. */
  readonly title: string;
  /** The module these settings configure (shown in the docs; test/unit/settings/settings.test.ts checks it exists). */
  readonly module: string;
  /** Name prefixes owned by this group: any other name under them is unknown and stops the start. */
  readonly prefixes: readonly string[];
  readonly settings: S;
  /**
   * Names read by a library, not by us (the OTel SDK's own variables): known, so not typos, and documented together.
   */
  readonly passThrough?: { readonly names: readonly string[]; readonly doc: string };
}

export function defineSettings<const S extends Record<string, AnySetting>>(group: SettingsGroup<S>): SettingsGroup<S> {
  return group;
}

/** The parsed values of a group: one property per setting, its default applied. */
export type ValuesOf<G extends SettingsGroup> = {
  readonly [K in keyof G["settings"]]: G["settings"][K] extends Setting<infer T> ? T : never;
};

/**
 * The value of setting `name` that readGroup reads from `env`, or undefined when it reads the setting as unset (its
 * default applies): absent, empty (unless the setting takes an empty value: `emptyIsValue`), or a service link
 * (isLinkAddress). The one test of "unset": config.ts settingsTaken lists on the ready line exactly what this reads,
 * so that line never names a setting the server took as unset (test/unit/settings/settings.test.ts ties the two).
 */
export function valueRead(
  name: string,
  setting: AnySetting,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const raw = env[name];
  if (raw === undefined || (raw === "" && !setting.emptyIsValue) || isLinkAddress(name, raw, env)) return undefined;
  return raw;
}

/**
 * Reads a group from `env`: each set value through its schema, unset (or empty) ones as their default. A bad value
 * becomes a problem ("NAME must ...") and its default is used, so that the rest of the configuration is still
 * checked and every problem is reported at once.
 */
export function readGroup<G extends SettingsGroup>(
  group: G,
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): ValuesOf<G> {
  const values: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(group.settings)) {
    const raw = valueRead(name, setting, env);
    if (raw === undefined) {
      values[name] = setting.default;
      continue;
    }
    const parsed = setting.schema.safeParse(raw);
    if (parsed.success) {
      values[name] = parsed.data;
      continue;
    }
    values[name] = setting.default;
    // Once each: a list's entries all wrong the same way (two short secrets) are one problem, not a line per entry.
    for (const issue of parsed.error.issues) {
      const text = problemText(name, setting, raw, issue.message);
      if (!problems.includes(text)) problems.push(text);
    }
  }
  return values as ValuesOf<G>;
}

/**
 * A listen address as node's `listen(port, host)` takes it: an IPv4 or IPv6 literal (two colons at least, an IPv6
 * zone allowed) or a host name, and nothing else. A URL (`http://0.0.0.0`), a port (`0.0.0.0:4000`) or a path got as
 * far as listen(), after the simulator and the metrics listener had started, and stopped there with exit 1 as a name
 * that does not resolve; its shape is a configuration error like any other (exit 78, before anything starts).
 */
export const LISTEN_ADDRESS = {
  pattern:
    /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(?:%[\w.-]+)?)$/,
  mustBe:
    "must be an address or a host name of this machine (127.0.0.1, 0.0.0.0, ::, localhost), without a scheme, port or path",
} as const;

/**
 * `<NAME>_PORT=tcp://host:port`, the shape Kubernetes' service links (a Service named `metrics` sets
 * METRICS_PORT=tcp://10.0.0.7:9464 in every pod; an IPv6 host in brackets) and Docker's `--link` give. One pattern for
 * every reader (isLinkAddress, problemText's hint, names.ts isLinkVariable): before, names.ts and the hint took any
 * `tcp://` followed by anything for a link, isLinkAddress only `host:port`.
 */
const SERVICE_LINK = /^(tcp|udp|sctp):\/\/(\[[0-9a-fA-F:.]+\]|[^:/\s]+):([0-9]+)$/;

/** A service link's parts, `name` without `_PORT` (`service`), the host without brackets. */
export interface ServiceLink {
  service: string;
  protocol: "TCP" | "UDP" | "SCTP";
  host: string;
  port: string;
}

/** `<NAME>_PORT=tcp://host:port` read as a service link's parts (SERVICE_LINK), or null for any other name or value. */
export function serviceLink(name: string, value: string): ServiceLink | null {
  if (!name.endsWith("_PORT")) return null;
  const m = SERVICE_LINK.exec(value);
  if (m === null) return null;
  return {
    service: name.slice(0, -"_PORT".length),
    protocol: m[1].toUpperCase() as ServiceLink["protocol"],
    host: m[2].replace(/^\[|\]$/g, ""),
    port: m[3],
  };
}

/**
 * Whether `<NAME>_PORT=tcp://host:port` is the address of a Service (or a Docker link) that Kubernetes or Docker put
 * there beside the rest of its links, not the operator: Kubernetes sets `<SERVICE>_SERVICE_HOST` to the same host,
 * Docker's `--link` (and GitLab CI's services on its Docker executor) `<ALIAS>_PORT_<port>_TCP` to the same address.
 * Such a value is read as unset (the default applies, as it would without that Service): a Service named `metrics`
 * or `simulator` in the namespace stopped every pod (METRICS_PORT and SIMULATOR_PORT are settings). A lone `tcp://`
 * value is still refused, with a hint (problemText): the operator wrote it.
 */
export function isLinkAddress(name: string, raw: string, env: Readonly<Record<string, string | undefined>>): boolean {
  const link = serviceLink(name, raw);
  if (link === null) return false;
  return env[`${link.service}_SERVICE_HOST`] === link.host || env[`${name}_${link.port}_${link.protocol}`] === raw;
}

function problemText(name: string, setting: AnySetting, raw: string, message: string): string {
  let text = `${name} ${message}`;
  if (setting.secret) text = text.split(raw).join("[hidden]");
  const link = serviceLink(name, raw);
  if (link !== null) {
    const service = link.service.toLowerCase().replace(/_/g, "-");
    text += ` (a Kubernetes Service named "${service}" sets ${name} to its address: set enableServiceLinks: false in the pod spec, or rename the Service)`;
  }
  return text;
}

function code(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.length === 0 ? "none" : `\`${value.join(",")}\``;
  return `\`${String(value)}\``;
}
