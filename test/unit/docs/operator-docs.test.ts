import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import type Redis from "ioredis";
import { join } from "node:path";
import { AOPAY_ENDPOINT_NAMES, AOPAY_OUTCOMES } from "../../../src/aopay/client";
import { knownSeries } from "../../../src/app";
import { loadConfig, SETTINGS_GROUPS, upstreamOf } from "../../../src/config";
import { TRUSTED_DOCUMENTS } from "../../../src/generated/trusted-documents";
import { ALLOW_ASTERISK, allowedMethods } from "../../../src/http/http-server";
import { REFUSED_STATUSES } from "../../../src/http/metrics-server";
import { Metrics } from "../../../src/observability/metrics";
import { NOT_ON_A_SERVER_PAGE, rules, selectorsOf } from "../../helpers/alert-rules";
import { inlineCodeSpans } from "../../helpers/doc-citations";
import { connectRedis, deleteKeys, describeWithRedis, uniquePrefix } from "../../helpers/redis";
import { ProtectionStoreError } from "../../../src/protection/errors";
import { KeyHasher } from "../../../src/protection/key-hasher";
import { RedisRegisteredMobileStore } from "../../../src/protection/redis-registered-mobiles";
import {
  recordKey,
  REGISTERED_MOBILE_DIMENSION,
  REGISTERED_PAN_DIMENSION,
  sealMobiles,
  tokenLinkKey,
} from "../../../src/protection/registered-mobiles";
import { deriveStoreKey, StoreSealer } from "../../../src/protection/store-sealer";

/**
 * What an operator reads (README.md, docs/deploying.md, docs/operations.md, docs/configuration.md, docs/security.md)
 * names things that must exist as named: settings, metrics and the labels written beside them, the npm scripts and
 * the files it runs; and each shipped alert has a runbook entry. The other halves are tested elsewhere:
 * docs/configuration.md's tables equal the declarations (test/unit/settings/settings.test.ts), the metrics table's
 * types and labels are those of a real page (test/e2e/alert-rules.test.ts).
 */
const ROOT = join(__dirname, "..", "..", "..");
const PAGES = ["README.md", "docs/deploying.md", "docs/operations.md", "docs/configuration.md", "docs/security.md"];
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");
/**
 * The text of every `code span` of a page, and of every fenced block. Spans are read as CommonMark reads them
 * (inlineCodeSpans): prose is wrapped by hand at 120 columns, and a span wrapped across lines is one, its line break a
 * space (read line by line, as it once was, `docker compose exec -T graphql node scripts/customer-ref.js` and several
 * log messages were never checked; read over two lines at most, a span over three was not either).
 */
const codeOf = (doc: string): string[] => [
  ...[...doc.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]),
  ...inlineCodeSpans(doc).map((span) => span.text),
];

function sourceText(dir: string): string {
  return readdirSync(dir, { withFileTypes: true })
    .map((e) =>
      e.isDirectory()
        ? sourceText(join(dir, e.name))
        : /\.[cm]?[jt]s$/.test(e.name)
          ? readFileSync(join(dir, e.name), "utf8")
          : "",
    )
    .join("\n");
}

describe("the operator's pages name what exists", () => {
  const SETTINGS = new Set(SETTINGS_GROUPS.flatMap((g) => Object.keys(g.settings)));
  const SRC = sourceText(join(ROOT, "src"));

  it("every UPPER_SNAKE name in code is a setting, a code the server uses, or the named tool's", () => {
    /** Names of other tools, each checked in that tool's files ("": a tool not installed here). */
    const elsewhere: Record<string, string> = {
      BUILDAH_FORMAT: "", // buildah's and podman's (their `build` man pages)
      NODE_IMAGE: "Dockerfile",
      UND_ERR_CONNECT_TIMEOUT: "node_modules/undici/lib/core/errors.js",
      ERR_JOSE_ALG_NOT_ALLOWED: "node_modules/jose/dist/webapi/util/errors.js",
      ERR_JWKS_MULTIPLE_MATCHING_KEYS: "node_modules/jose/dist/webapi/util/errors.js",
      ERR_JWS_SIGNATURE_VERIFICATION_FAILED: "node_modules/jose/dist/webapi/util/errors.js",
    };
    const problems: string[] = [];
    for (const page of PAGES)
      for (const code of codeOf(read(page)))
        for (const [name] of code.matchAll(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9*]+)+\b/g)) {
          if (name.includes("*")) {
            // A family (`MEMORY_*_MAX_KEYS`): at least one setting of that shape.
            const re = new RegExp(`^${name.replace(/\*/g, "[A-Z0-9_]+")}$`);
            if (![...SETTINGS].some((s) => re.test(s))) problems.push(`${page}: ${name} matches no setting`);
          } else if (name in elsewhere) {
            if (elsewhere[name] !== "" && !read(elsewhere[name]).includes(name))
              problems.push(`${page}: ${name} not in ${elsewhere[name]}`);
          } else if (!SETTINGS.has(name) && !new RegExp(`["'\`]${name}["'\`]|\\b${name}\\s*[=:]`).test(SRC)) {
            problems.push(`${page}: ${name} is neither a setting nor a code of src/`);
          }
        }
    expect(problems).toEqual([]);
  });

  it("every metric is registered, with the labels the metrics table gives it", async () => {
    const metrics = new Metrics(() => ({ inFlight: 0, queued: 0 }));
    // With REDIS_URL only (app.ts): registered here as a process with Redis has it.
    metrics.watchRedis(async () => true);
    // With REDIS_URL and REDIS_MEMORY_POLL_SECONDS above 0, from the poll's start (protection/redis-memory.ts).
    metrics.redisMemory({ usedBytes: 1, maxBytes: 2 });
    const registered = new Set(
      (await metrics.registry.getMetricsAsJSON()).flatMap((m) =>
        String(m.type) === "histogram" ? [m.name, `${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name],
      ),
    );
    metrics.close();
    const ops = read("docs/operations.md");
    const table = ops.slice(ops.indexOf("| metric | labels | what |"), ops.indexOf("## Sample alerts"));
    /** The label names the table's row gives a metric (its second column's first backticked word per part). */
    const labelsOf = (metric: string): string[] | undefined => {
      const row = table.split("\n").find((l) => l.startsWith("| ") && l.split(" | ")[0].includes(`\`${metric}\``));
      if (!row) return undefined;
      const labels = row.split(" | ")[1];
      return labels === "–" ? [] : labels.split(/,(?![^(]*\))/).map((part) => /`([a-z_]+)`/.exec(part)?.[1] ?? part);
    };
    const problems: string[] = [];
    let seen = 0;
    for (const page of PAGES)
      for (const code of codeOf(read(page)))
        for (const m of code.matchAll(/\b((?:aopay|graphql|log_lines|nodejs|process)_[a-z0-9_*]+)(\{[^}]*\})?/g)) {
          const [, name, selector] = m;
          seen += 1;
          if (name.includes("*")) {
            const re = new RegExp(`^${name.replace(/\*/g, "[a-z0-9_]*")}$`);
            if (![...registered].some((r) => re.test(r))) problems.push(`${page}: ${name} matches no metric`);
            continue;
          }
          if (!registered.has(name)) {
            problems.push(`${page}: ${name} is not a metric`);
            continue;
          }
          const family = name.replace(/_(bucket|sum|count)$/, "");
          const documented = labelsOf(family) ?? labelsOf(name);
          for (const [, label] of (selector ?? "").matchAll(/([a-zA-Z_]+)\s*(?:=~|!~|!=|=)/g)) {
            if (label === "le" && name.endsWith("_bucket")) continue;
            if (documented && !documented.includes(label))
              problems.push(
                `${page}: ${name}{${label}} but the metrics table gives ${family} ${documented.join(", ") || "no labels"}`,
              );
          }
        }
    expect(seen).toBeGreaterThan(40);
    expect(problems).toEqual([]);
  });

  it("each page starts with its title (a paragraph above it was one moved out of its section by a merge)", () => {
    // docs/operations.md began with the newer "HMAC_SECRET rotation" paragraph, while the one in its section still
    // said a rotation starts every budget afresh, which HMAC_SECRET_PREVIOUS no longer does.
    expect(PAGES.filter((page) => !read(page).startsWith("# "))).toEqual([]);
  });

  it("every npm script and file it runs exists", () => {
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
    const problems: string[] = [];
    for (const page of PAGES)
      for (const code of codeOf(read(page))) {
        for (const [, name] of code.matchAll(/\bnpm run (?:-s )?([a-z][a-z:-]*)/g))
          if (!(name in scripts)) problems.push(`${page}: npm run ${name}`);
        for (const [, name] of code.matchAll(/\bnpm (start|test)\b/g))
          if (!(name in scripts)) problems.push(`${page}: npm ${name}`);
        for (const [, file] of code.matchAll(/\bnode (?:--[a-z-]+=\S+ )*((?:dist|scripts|bench)\/[\w./-]+\.js)/g)) {
          // dist/ is built from src/ (`npm run build`).
          const source = file.startsWith("dist/") ? file.replace(/^dist\//, "src/").replace(/\.js$/, ".ts") : file;
          if (!existsSync(join(ROOT, source))) problems.push(`${page}: node ${file} (no ${source})`);
        }
      }
    expect(problems).toEqual([]);
  });

  it("counts the upstream series at 0 as the code does (docs/architecture.md, new endpoint step 8)", () => {
    // A new endpoint adds one series per outcome; the count was written by hand in two places that nothing compared.
    const series = AOPAY_ENDPOINT_NAMES.length * AOPAY_OUTCOMES.length;
    const operations = /for every endpoint and outcome \((\d+) series\)/.exec(read("docs/operations.md"));
    const comment = /(\d+) upstream series \((\d+) endpoints, (\d+)[\s*]+outcomes\)/.exec(
      read("src/observability/metrics.ts"),
    );
    expect({
      operationsMd: Number(operations?.[1]),
      startAtZeroComment: comment?.slice(1).map(Number),
    }).toEqual({
      operationsMd: series,
      startAtZeroComment: [series, AOPAY_ENDPOINT_NAMES.length, AOPAY_OUTCOMES.length],
    });
  });

  it("says what a new endpoint and its operation add to the first page, as the code does (step 8)", async () => {
    // A newcomer who added a read by the guide found the page's count 30 series off: the guide counted the endpoint's
    // series and not those of its operation in graphql_operation_duration_seconds.
    const metrics = new Metrics(() => ({ inFlight: 0, queued: 0 }));
    metrics.startAtZero(
      knownSeries({ circuits: { cibil: "closed", aeps: "closed" }, listeners: ["api", "metrics"], redis: false }),
    );
    const page = await metrics.registry.getMetricsAsJSON();
    metrics.close();
    const valuesOf = (name: string) => page.find((m) => m.name === name)?.values ?? [];
    const labelSets = (values: ReturnType<typeof valuesOf>) =>
      new Set(values.map((v) => JSON.stringify({ ...v.labels, le: undefined }))).size;
    const upstreamSet = valuesOf("aopay_upstream_request_duration_seconds").filter(
      (v) => v.labels.endpoint === AOPAY_ENDPOINT_NAMES[0] && v.labels.outcome === AOPAY_OUTCOMES[0],
    );
    const perLabelSet = upstreamSet.length;
    const operation = TRUSTED_DOCUMENTS.operations[0].name;
    const operationSets = labelSets(
      valuesOf("graphql_operation_duration_seconds").filter((v) => v.labels.operation === operation),
    );
    const guide = read("docs/architecture.md").replace(/\s+/g, " ");
    const endpoint = /A new endpoint adds (\d+) upstream counter series .*? \((\d+) series each\)/.exec(guide);
    const op = /adds (\d+) label sets of `graphql_operation_duration_seconds` \(ok and error, (\d+) series each\)/.exec(
      guide,
    );
    const total = /\+(\d+) for an endpoint with its operation/.exec(guide);
    expect({
      endpointSeries: endpoint?.slice(1).map(Number),
      operationLabelSets: op?.slice(1).map(Number),
      pageGrowth: Number(total?.[1]),
    }).toEqual({
      endpointSeries: [AOPAY_OUTCOMES.length, perLabelSet],
      operationLabelSets: [operationSets, perLabelSet],
      pageGrowth: AOPAY_OUTCOMES.length * (1 + perLabelSet) + operationSets * perLabelSet,
    });
  });
});

describe("docs/simulator.md's ready line", () => {
  // It explains the `upstream` of the ready line, quoting each: a wording changed in config.ts and not there fails.
  it("quotes each upstream the ready line can say, as upstreamOf says it", () => {
    const page = read("docs/simulator.md").replace(/\s+/g, " ");
    const base = { AOPAY_BASE_URL: "http://127.0.0.1:4010", AOPAY_REGISTRATION_ID: "SIM-REG-0001" };
    for (const env of [{}, { ...base, AOPAY_COMPANY_CODE: "SIMCO01" }, { ...base, AOPAY_COMPANY_CODE: "CMP1045" }])
      expect(page).toContain(`"upstream":"${upstreamOf(loadConfig(env).aopay)}"`);
  });
});

describe("docs/operations.md's size of the first page", () => {
  it("counts this service's own series before any request as the code lists them (without API_KEYS or Redis)", async () => {
    // Before, the figure was the upstream counter's alone; the page's size is what a scrape costs.
    const metrics = new Metrics(() => ({ inFlight: 0, queued: 0 }));
    metrics.startAtZero(
      knownSeries({ circuits: { cibil: "closed", aeps: "closed" }, listeners: ["api", "metrics"], redis: false }),
    );
    let series = 0;
    for (const m of await metrics.registry.getMetricsAsJSON())
      if (!/^(?:nodejs|process)_/.test(m.name)) series += m.values.length;
    metrics.close();
    const documented = /the page's size is fixed: without `API_KEYS`, (\d+)\s+series of this service's own/.exec(
      read("docs/operations.md"),
    );
    expect(Number(documented?.[1])).toBe(series);
  });
});

describe("the PromQL an operator is given (alert rules, runbook, metrics pages)", () => {
  /** Every PromQL expression: the shipped rules', and each code span of a page with a metric and a selector or call. */
  const expressions = [
    ...rules.map((r) => ({ where: `alerts.yml ${r.alert}`, expr: r.expr })),
    ...PAGES.flatMap((page) =>
      codeOf(read(page))
        .filter(
          (code) => /\b(?:aopay|graphql|http|log_lines|nodejs|process)_[a-z0-9_]+/.test(code) && /[({]/.test(code),
        )
        .flatMap((code) => (code.includes("expr:") ? [] : [{ where: page, expr: code }])),
    ),
  ];

  /**
   * A page as the server lists it before any event (metrics.ts startAtZero, with the label values the process wiring
   * gives it, without Redis: its judgement at 0): every label value the server can count is on it, except those of
   * labels whose values are not a list (UNLISTED).
   */
  async function firstPage(): Promise<Map<string, Map<string, Set<string>>>> {
    const metrics = new Metrics(() => ({ inFlight: 0, queued: 0 }));
    metrics.startAtZero(
      knownSeries({ circuits: { cibil: "closed", aeps: "closed" }, listeners: ["api", "metrics"], redis: false }),
    );
    const byMetric = new Map<string, Map<string, Set<string>>>();
    for (const m of await metrics.registry.getMetricsAsJSON())
      for (const v of m.values as Array<{ labels: Record<string, string | number> }>) {
        // A histogram's values are named by series (`_bucket`, `_sum`, `_count`), as a selector names them.
        const name = (v as { metricName?: string }).metricName ?? m.name;
        for (const [label, value] of Object.entries(v.labels)) {
          const labels = byMetric.get(name) ?? new Map<string, Set<string>>();
          byMetric.set(name, labels);
          labels.set(label, (labels.get(label) ?? new Set()).add(String(value)));
        }
      }
    metrics.close();
    // The metrics listener's own refusals, written by it (http/metrics-server.ts), not by the registry: every status
    // it counts is on its page from the start (test/e2e/first-scrape.test.ts).
    byMetric.set("metrics_requests_refused_total", new Map([["status", new Set(REFUSED_STATUSES.map(String))]]));
    return byMetric;
  }
  /**
   * Metrics with label values that come from requests (operation names other than the generated clients', `other`
   * and `anonymous`), not from a list of the code's, so not all on a first page: their label names only.
   */
  const UNLISTED = new Map([["graphql_operation_duration_seconds_bucket", ["operation", "type", "result"]]]);

  it("matches only label values the server counts (each alternative of a regex: a typo, a renamed code)", async () => {
    const page = await firstPage();
    const problems: string[] = [];
    let matchers = 0;
    for (const { where, expr } of expressions)
      for (const { metric, matchers: ms } of selectorsOf(expr).selectors) {
        // `up{job=...}`: Prometheus' label, the scrape job's name (docs/operations.md "Sample alerts").
        if (UNLISTED.has(metric) || NOT_ON_A_SERVER_PAGE.has(metric)) continue;
        for (const { label, value } of ms) {
          if (label === "le") continue;
          matchers += 1;
          const known = page.get(metric)?.get(label);
          if (!known) {
            problems.push(`${where}: ${metric}{${label}} is not a label the server sets`);
            continue;
          }
          // A plain alternation (`MOBILE_PREFIX|GLOBAL`): each word; anything else must match some value.
          const words = /^[A-Za-z0-9_.]+(?:\|[A-Za-z0-9_.]+)*$/.test(value) ? value.split("|") : null;
          if (words) for (const w of words) if (!known.has(w)) problems.push(`${where}: ${metric}{${label}="${w}"}`);
          if (!words && ![...known].some((k) => new RegExp(`^(?:${value})$`).test(k)))
            problems.push(`${where}: ${metric}{${label}=~"${value}"} matches nothing`);
        }
      }
    expect(matchers).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });

  it("groups only by labels its metrics have (`by (...)`)", async () => {
    const page = await firstPage();
    const problems: string[] = [];
    let groupings = 0;
    for (const { where, expr } of expressions) {
      const { selectors, groupBy } = selectorsOf(expr);
      for (const label of groupBy) {
        groupings += 1;
        const has = selectors.some(
          (s) =>
            (label === "le" && s.metric.endsWith("_bucket")) ||
            page.get(s.metric)?.has(label) ||
            UNLISTED.get(s.metric)?.includes(label),
        );
        if (!has) problems.push(`${where}: by (${label}) over ${selectors.map((s) => s.metric).join(", ")}`);
      }
    }
    expect(groupings).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });

  it("names only routes the servers answer (/readyz, /healthz, /metrics ...)", () => {
    const SRC = sourceText(join(ROOT, "src"));
    const problems: string[] = [];
    for (const page of PAGES)
      for (const code of codeOf(read(page)))
        for (const [, path] of code.matchAll(/(?:^|[\s:0-9])(\/(?:readyz|healthz|metrics|graphql|graphiql)[a-z/]*)/g))
          if (!SRC.includes(`"${path.replace(/\/$/, "")}`) && !SRC.includes(`\`${path.replace(/\/$/, "")}`))
            problems.push(`${page}: ${path}`);
    expect(problems).toEqual([]);
  });
});

/**
 * The `Allow` a page says a 405 or an OPTIONS carries. docs/api.md and docs/security.md said `allow: POST` for a
 * mutation over GET and `Allow: GET, POST` for a HEAD, Apollo's own values, which the server replaces with the path's
 * (src/http/http-server.ts ALLOWED_METHODS); docs/security.md also kept a 404 for an OPTIONS without Origin, answered
 * 204 since. docs/security-requirements.md quotes Apollo's documentation as it stands, and is not read here.
 */
describe("the Allow values the pages give", () => {
  it("are those the servers send (a path's methods, `GET, POST, OPTIONS` or `GET, HEAD, OPTIONS`)", () => {
    const sent = new Set(
      ["/graphql", "/healthz", "/readyz", "/graphiql/", "*"].map((path) => allowedMethods(path, () => true)),
    );
    expect([...sent].sort()).toEqual(["GET, HEAD, OPTIONS", "GET, HEAD, POST, OPTIONS", "GET, POST, OPTIONS"]);
    // Another method than OPTIONS on `*`: a 405 naming OPTIONS alone.
    sent.add(ALLOW_ASTERISK);
    const pages = [
      "README.md",
      "client/README.md",
      ...readdirSync(join(ROOT, "docs"))
        .filter((f) => f.endsWith(".md") && !f.startsWith("security-requirements"))
        .map((f) => `docs/${f}`),
    ];
    const given: string[] = [];
    const problems: string[] = [];
    for (const page of pages)
      for (const code of codeOf(read(page))) {
        const value = /^allow: (.+)$/i.exec(code)?.[1] ?? (/^[A-Z]{3,7}(?:, [A-Z]{3,7})+$/.test(code) ? code : null);
        if (value === null) continue;
        given.push(value);
        if (!sent.has(value)) problems.push(`${page}: ${code}`);
      }
    expect(given.length).toBeGreaterThan(4);
    expect(problems).toEqual([]);
  });
});

describe("docs/operations.md's runbook", () => {
  const ops = read("docs/operations.md");
  const runbook = ops.slice(ops.indexOf("\n## Runbook\n"), ops.indexOf("\n## ", ops.indexOf("\n## Runbook\n") + 1));

  it("has an entry for each shipped alert, and none for an alert not shipped", () => {
    expect(runbook.length).toBeGreaterThan(100);
    const entries = [...runbook.matchAll(/^### (\S+)$/gm)].map((m) => m[1]);
    expect(entries).toEqual(rules.map((r) => r.alert));
  });

  it("quotes (as the whole page does) only log messages the server writes (`...` for the part it fills in)", () => {
    const SRC = sourceText(join(ROOT, "src"));
    /** Code spans that are commands or code, not messages. */
    const COMMAND = /^(?:redis-cli|kubectl|npm|node|docker|podman|grep|curl|promtool|CONFIG|INFO)\b|[({[=]/;
    // A field and its value (`idempotency: replayed`) is not a message.
    const quoted = codeOf(ops).filter(
      (c) => /^[a-z][^`]* [^`]*[a-z.]$/.test(c) && !COMMAND.test(c) && !/^\w+: \w+$/.test(c),
    );
    const problems = quoted.filter((message) => {
      const re = new RegExp(
        message
          .split("...")
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
          .join("[^\\n]*?"),
      );
      return !re.test(SRC);
    });
    expect(quoted.length).toBeGreaterThan(5);
    expect(problems).toEqual([]);
  });

  it("says in each entry what to look at and what to do", () => {
    const entries = runbook.split(/^### /m).slice(1);
    const problems = entries
      .filter((e) => !/^- \*\*Look at\*\*: \S/m.test(e) || !/^- \*\*Do\*\*: \S/m.test(e))
      .map((e) => e.split("\n")[0]);
    expect(problems).toEqual([]);
  });
});

// docs/operations.md "A stored record that does not open": its command, run as written against real Redis (REDIS_URL)
// over records a store wrote and bytes planted beside them. It lists exactly the planted ones, and each registered
// mobile it lists is one the store refuses (recall: ProtectionStoreError), each it does not list one the store opens.
// Before, its check (a value not starting with `s1.`) missed the `malformed` values, a value over two lines, a
// record of another type and every token link.
describeWithRedis("docs/operations.md's command for records the service refuses (real Redis at REDIS_URL)", () => {
  const ops = read("docs/operations.md");
  const at = ops.indexOf("Every record the service would refuse by its shape");
  const script = /```sh\n([\s\S]*?)```/.exec(ops.slice(at))?.[1] ?? "";
  const prefix = uniquePrefix();
  const hasher = new KeyHasher(Buffer.from("d".repeat(32)));
  const sealer = new StoreSealer([deriveStoreKey(Buffer.from("d".repeat(32)))]);
  let redis: Redis;
  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  it("lists every record and token link the service would refuse by its shape, and nothing else", async () => {
    expect(at).toBeGreaterThan(0);
    expect(script).toContain("prefix='aopay-gql:'");
    const store = new RedisRegisteredMobileStore(redis, prefix, hasher, sealer, 60_000);
    const good = ["7000001001", "7000001002"];
    for (const [i, id] of good.entries()) await store.remember(id, "9123400001", `ABCPE100${i}F`, undefined, `t-${i}`);
    const key = (id: string) => recordKey(hasher, id);
    const value = sealMobiles(sealer, key("7000001003"), ["9123400001"]);
    const [s1, keyId, iv, tag, body] = value.split(".");
    const ownValue = (id: string) => sealMobiles(sealer, key(id), ["9123400001"]);
    // Bytes no version writes at a record's key (the first open: the legacy key's sealed mobile, nothing wrong).
    await redis.set(
      store.legacyRedisKey("7000001003"),
      sealer.seal("9123400001", [REGISTERED_MOBILE_DIMENSION, key("7000001003")]),
    );
    const planted: Array<[string, (k: string) => Promise<unknown>]> = [
      ["7000001011", (k) => redis.set(k, "x")],
      ["7000001012", (k) => redis.set(k, "")],
      ["7000001013", (k) => redis.set(k, [s1, keyId, iv.slice(1), tag, body].join("."))],
      ["7000001014", (k) => redis.set(k, [s1, keyId, iv, `${tag}A`, body].join("."))],
      ["7000001015", (k) => redis.set(k, [s1, keyId, iv, tag].join("."))],
      ["7000001016", (k) => redis.set(k, `${value}\nx`)],
      ["7000001017", (k) => redis.set(k, `${value}.x`)],
      ["7000001018", (k) => redis.set(k, `s2.${value.slice(3)}`)],
      ["7000001019", (k) => redis.hset(k, "n", "1")],
      ["7000001020", (k) => redis.rpush(k, value)],
      ["7000001021", (k) => redis.xadd(k, "*", "n", value)],
      // Read by grep as a binary file, its part before the NUL matched (not listed); refused by the store.
      ["7000001022", (k) => redis.set(k, `${value}\0x`)],
      // Sealed for their own keys, then reshaped: listed, and opened by the store before (Node's base64url reads past
      // a 17th character of the iv, or a newline).
      ["7000001023", (k) => redis.set(k, ownValue("7000001023").replace(/^(s1\.[^.]+\.[^.]+)/, "$1A"))],
      ["7000001024", (k) => redis.set(k, `${ownValue("7000001024")}\n`)],
    ];
    for (const [id, plant] of planted) await plant(store.redisKey(id));
    const tokenLink = `${prefix}regtoken:${tokenLinkKey(hasher, "t-bad")}`;
    await redis.set(tokenLink, `${key("7000001001")}/x`);
    const bareLink = `${prefix}regtoken:${tokenLinkKey(hasher, "t-bare")}`;
    await redis.set(bareLink, value);
    // PAN links: a record key's length but not base64url, a record key and more, a set.
    const panLinks = ["ABCPE1101F", "ABCPE1102F", "ABCPE1103F"].map(
      (pan) => `${prefix}regpan:${hasher.hash(REGISTERED_PAN_DIMENSION, pan)}`,
    );
    await redis.set(panLinks[0], "!".repeat(43));
    await redis.set(panLinks[1], `${key("7000001001")}:`);
    await redis.sadd(panLinks[2], key("7000001001"));
    const listed = execFileSync(
      "bash",
      [
        "-c",
        `redis-cli() { command redis-cli -u "$REDIS_URL" "$@"; }\n${script.replace("'aopay-gql:'", `'${prefix}'`)}`,
      ],
      { encoding: "utf8" },
    )
      .split("\n")
      .filter(Boolean)
      .sort();
    expect(listed).toEqual([...planted.map(([id]) => store.redisKey(id)), tokenLink, bareLink, ...panLinks].sort());
    // The store's answers: each listed record refused, the rest opened.
    for (const [id] of planted)
      expect([id, await store.recall(id).then(String, (e: Error) => e.name)]).toEqual([id, "ProtectionStoreError"]);
    for (const pan of ["ABCPE1101F", "ABCPE1102F", "ABCPE1103F"])
      await expect(store.registering(pan, "9123400002", "first")).rejects.toThrow(ProtectionStoreError);
    for (const id of [...good, "7000001003"]) expect(await store.recall(id)).toEqual(["9123400001"]);
    // A listed token link is refused by every send naming its token, its own id's included (`<own key>/x`: before, a
    // send to 7000001001 compared the record key alone and went out, the link never read further); a good one opens.
    for (const [id, token] of [
      ["7000001001", "t-bad"],
      ["7000001001", "t-bare"],
      ["7000001002", "t-bad"],
    ] as const) {
      const answer = await store.sending(id, token).then(String, (e: Error) => e.name);
      await store.sent(id);
      expect([id, token, answer]).toEqual([id, token, "ProtectionStoreError"]);
    }
    expect(await store.sending("7000001001", "t-0")).toEqual(["9123400001"]);
    await store.sent("7000001001");
  });
});
