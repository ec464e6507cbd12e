import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig, NODE_VARIABLES_READ, SETTINGS_GROUPS, settingsTaken } from "../../../src/config";
import { loadSimulatorConfig } from "../../../src/simulator/config";
import { renderEnvExample, renderTable, withTable } from "../../../src/settings/docs";
import { closestName, editDistance, unknownNames } from "../../../src/settings/names";
import { type AnySetting, readGroup, type SettingsGroup } from "../../../src/settings/schema";

/** Configuration by schema: every name known, typos caught, real environments left alone, docs generated. */
const ROOT = join(__dirname, "../../..");

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};
const allNames = SETTINGS_GROUPS.flatMap((g) => [...Object.keys(g.settings), ...(g.passThrough?.names ?? [])]);

/** Every `*.settings.ts` under src/, relative to the repository. */
function settingsFiles(dir = "src"): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? settingsFiles(`${dir}/${e.name}`) : e.name.endsWith(".settings.ts") ? [`${dir}/${e.name}`] : [],
  );
}

/**
 * docs/contributing.md "Adding a setting": a new concern's defineSettings group is listed in SETTINGS_GROUPS. A group
 * left out is read by nobody's typo check and in no docs: its variables stop the start as "not a setting" and neither
 * .env.example nor docs/configuration.md names them, while tsc, config:docs and the drift checks all pass.
 */
describe("every settings group declared in src/ is listed in SETTINGS_GROUPS", () => {
  it("holds for each *.settings.ts export built by defineSettings", () => {
    const listed = new Set<unknown>(SETTINGS_GROUPS);
    const unlisted: string[] = [];
    let groups = 0;
    for (const file of settingsFiles()) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const exports = require(join(ROOT, file)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(exports)) {
        const group = value as { title?: unknown; settings?: unknown } | null;
        if (typeof group !== "object" || group === null || typeof group.title !== "string" || !group.settings) continue;
        groups++;
        if (!listed.has(value)) unlisted.push(`${file} ${name}`);
      }
    }
    if (unlisted.length > 0)
      throw new Error(`not in SETTINGS_GROUPS (src/config.ts), so not settings at all: ${unlisted.join(", ")}`);
    // Not vacuous: every listed group was found in a file.
    expect(groups).toBe(SETTINGS_GROUPS.length);
  });
});

describe("a set variable that is not a setting", () => {
  // The four from the operator's report: each started the server silently with the feature off.
  it.each([
    ["TRUSTED_DOCUMENT", "enforce", "TRUSTED_DOCUMENTS"],
    ["REDIS_URl", "redis://127.0.0.1:6379", "REDIS_URL"],
    ["CORS_ORIGIN", "https://app.example.com", "CORS_ORIGINS"],
    ["LOGLEVEL", "debug", "LOG_LEVEL"],
    ["log_level", "debug", "LOG_LEVEL"],
    ["HMAC_SECRTE", "x".repeat(40), "HMAC_SECRET"],
    ["PROT", "4001", "PORT"],
    ["OTEL_EXPORTER_OTLP_ENDPIONT", "http://c:4318", "OTEL_EXPORTER_OTLP_ENDPOINT"],
    // Next to the names of other software left alone (OTHERS in src/settings/names.ts), still ours.
    ["API_KEY", "app:k", "API_KEYS"],
    ["NODE_EVN", "production", "NODE_ENV"],
    ["OTEL_RESOURCE_ATTRIBUTE", "a=b", "OTEL_RESOURCE_ATTRIBUTES"],
    ["OTEL_EXPORTER_OTLP_TRACE_ENDPOINT", "http://c:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"],
    ["MEMORY_THROTTLE_MAX_KEY", "1000", "MEMORY_THROTTLE_MAX_KEYS"],
  ])("%s stops the start with a suggestion", (name, value, meant) => {
    expect(problemsOf({ [name]: value })).toEqual([`Unknown setting ${name}: did you mean ${meant}?`]);
  });

  // A setting with its unit left off or in another unit: too far for the edit rule. Without one of our prefixes
  // (the first four) such a name was ignored and the server started on the default.
  it.each([
    ["SHUTDOWN_GRACE", "5000", "SHUTDOWN_GRACE_MS"],
    ["HEADERS_TIMEOUT", "10000", "HEADERS_TIMEOUT_MS"],
    ["REQUEST_TIMEOUT_SECONDS", "30", "REQUEST_TIMEOUT_MS"],
    ["request_deadline", "5000", "REQUEST_DEADLINE_MS"],
    ["KEEP_ALIVE_TIMEOUT_SECONDS", "75", "KEEP_ALIVE_TIMEOUT_MS"],
    ["OTP_COOLDOWN", "30", "OTP_COOLDOWN_SECONDS"],
    ["OTP_COOLDOWN_MS", "30000", "OTP_COOLDOWN_SECONDS"],
    ["BREAKER_ERROR_PCT", "50", "BREAKER_ERROR_PERCENT"],
    ["AOPAY_DEADLINE_SECS", "8", "AOPAY_DEADLINE_MS"],
  ])("%s (a setting but for its unit) stops the start with a suggestion", (name, value, meant) => {
    expect(problemsOf({ [name]: value })).toEqual([`Unknown setting ${name}: did you mean ${meant}?`]);
  });

  it.each([
    "AOPAY_TIMEOUT",
    "OTP_BUDGET",
    "GRAPHQL_INTROSPECTION",
    "AUTH_TOKEN",
    "BREAKER_ENABLED",
    "METRICS_PATH",
    "OTEL_TRACES_SAMPLING_RATE",
    "SIMULATOR_SEED",
    "MEMORY_AVAILABLE_MB",
    "REDIS_ENV_REDIS_VERSION", // a Docker link's, but without the link's REDIS_NAME beside it
    "OTEL_CONFIG_FILE",
  ])("%s (under one of our prefixes, close to nothing) stops the start", (name) => {
    expect(problemsOf({ [name]: "1" })).toEqual([
      `Unknown setting ${name}: not a setting of this server (every setting is listed in .env.example and docs/configuration.md)`,
    ]);
  });

  it("is reported with every other problem at once, and no value of any unknown variable is echoed", () => {
    const problems = problemsOf({ LOGLEVEL: "secret-looking-value-1", AOPAY_FOO: "secret-looking-value-2", PORT: "x" });
    expect(problems).toHaveLength(3);
    expect(problems.join("\n")).not.toContain("secret-looking-value");
  });
});

/**
 * The ready line (config.ts settingsTaken) names exactly the settings the reader (settings/schema.ts readGroup) took
 * from the environment: one that was read as unset (empty, a service link) and still listed would tell the newcomer
 * it was taken while its default ran. "Read" is seen where it happens: the setting's schema was asked to parse.
 */
describe("the ready line lists a setting iff the reader read it", () => {
  /** The names readGroup parses from `env`, over every group. */
  function namesRead(env: Record<string, string>): string[] {
    const read: string[] = [];
    for (const group of SETTINGS_GROUPS) {
      const watched = Object.fromEntries(
        Object.entries(group.settings).map(([name, setting]): [string, AnySetting] => {
          const safeParse = (raw: unknown) => (read.push(name), setting.schema.safeParse(raw));
          return [name, { ...setting, schema: { safeParse } as unknown as AnySetting["schema"] }];
        }),
      );
      readGroup({ ...group, settings: watched } as SettingsGroup, env, []);
    }
    return read.sort();
  }
  const settings = SETTINGS_GROUPS.flatMap((g) => Object.entries(g.settings));
  const ports = settings.map(([name]) => name).filter((name) => name.endsWith("_PORT"));
  const every = (value: (name: string) => string) => Object.fromEntries(settings.map(([name]) => [name, value(name)]));
  const link = (name: string) => `tcp://10.96.7.${ports.indexOf(name)}:9464`;
  // Kubernetes: <SERVICE>_SERVICE_HOST beside it; Docker --link: <NAME>_<port>_TCP holding the same address.
  const kubernetesLinks = Object.fromEntries(
    ports.flatMap((n) => [
      [n, link(n)],
      [`${n.slice(0, -"_PORT".length)}_SERVICE_HOST`, `10.96.7.${ports.indexOf(n)}`],
    ]),
  );
  const dockerLinks = Object.fromEntries(
    ports.flatMap((n) => [
      [n, link(n)],
      [`${n}_9464_TCP`, link(n)],
    ]),
  );

  it.each<[string, Record<string, string>]>([
    ["every setting set", every(() => "1")],
    ["every setting empty", every(() => "")],
    ["every port a Kubernetes service link", kubernetesLinks],
    ["every port a Docker link", dockerLinks],
    [
      "every port a lone tcp:// value (the operator's: read, and refused)",
      Object.fromEntries(ports.map((n) => [n, link(n)])),
    ],
  ])("%s", (_, env) => {
    expect(Object.keys(settingsTaken(env)).sort()).toEqual(namesRead(env));
  });

  it("is not vacuous: an empty value is read only where it is a value, a service link never", () => {
    const emptyIsValue = settings.filter(([, s]) => s.emptyIsValue).map(([name]) => name);
    expect(emptyIsValue.length).toBeGreaterThan(0);
    expect(namesRead(every(() => ""))).toEqual(emptyIsValue.sort());
    expect(ports).toEqual(expect.arrayContaining(["METRICS_PORT", "SIMULATOR_PORT"]));
    expect(namesRead(kubernetesLinks)).toEqual([]);
    expect(namesRead(dockerLinks)).toEqual([]);
    expect(namesRead(every(() => "1"))).toHaveLength(settings.length);
  });
});

describe("the rest of a real environment is left alone", () => {
  /** What a container on Kubernetes sees: the node image's, the kubelet's (with service links), the platform's. */
  const REAL: Record<string, string> = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: "/home/node",
    HOSTNAME: "aopay-graphql-7d9c5b7f9-x2x8q",
    TERM: "xterm",
    LANG: "C.UTF-8",
    TZ: "UTC",
    PWD: "/app",
    SHLVL: "1",
    USER: "node",
    SHELL: "/bin/sh",
    NODE_VERSION: "24.22.3",
    YARN_VERSION: "1.22.22",
    NODE_OPTIONS: "--max-old-space-size=512",
    NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt",
    NODE_PATH: "/app/node_modules",
    UV_THREADPOOL_SIZE: "8",
    KUBERNETES_SERVICE_HOST: "10.96.0.1",
    KUBERNETES_SERVICE_PORT: "443",
    KUBERNETES_SERVICE_PORT_HTTPS: "443",
    KUBERNETES_PORT: "tcp://10.96.0.1:443",
    KUBERNETES_PORT_443_TCP: "tcp://10.96.0.1:443",
    KUBERNETES_PORT_443_TCP_PROTO: "tcp",
    KUBERNETES_PORT_443_TCP_PORT: "443",
    KUBERNETES_PORT_443_TCP_ADDR: "10.96.0.1",
    // Service links of Services named redis, otp, aopay, graphql and otel-collector in the same namespace.
    REDIS_SERVICE_HOST: "10.96.12.7",
    REDIS_SERVICE_PORT: "6379",
    REDIS_PORT: "tcp://10.96.12.7:6379",
    REDIS_PORT_6379_TCP: "tcp://10.96.12.7:6379",
    REDIS_PORT_6379_TCP_ADDR: "10.96.12.7",
    OTP_SERVICE_HOST: "10.96.3.3",
    OTP_PORT: "tcp://10.96.3.3:80",
    OTP_PORT_80_TCP_PROTO: "tcp",
    AOPAY_SERVICE_HOST: "10.96.4.4",
    AOPAY_SERVICE_PORT_HTTP: "80",
    AOPAY_PORT: "tcp://10.96.4.4:80",
    GRAPHQL_PORT: "tcp://10.96.5.5:4000",
    OTEL_COLLECTOR_SERVICE_HOST: "10.96.6.6",
    OTEL_COLLECTOR_PORT: "tcp://10.96.6.6:4318",
    OTEL_COLLECTOR_PORT_4318_TCP_PORT: "4318",
    // npm run, CI, cloud platforms
    npm_lifecycle_event: "start",
    npm_package_name: "aopay-graphql",
    npm_config_cache: "/home/node/.npm",
    npm_node_execpath: "/usr/local/bin/node",
    npm_config_user_agent: "npm/11.6.2 node/v24.11.1 linux x64",
    npm_config_metrics_registry: "https://registry.npmjs.org/",
    npm_config_loglevel: "warn",
    npm_command: "run-script",
    npm_execpath: "/usr/local/lib/node_modules/npm/bin/npm-cli.js",
    NODE: "/usr/local/bin/node",
    INIT_CWD: "/app",
    HTTP_PROXY: "http://proxy:3128",
    https_proxy: "http://proxy:3128",
    NO_PROXY: "localhost,.svc",
    NODE_NAME: "node-1",
    POD_IP: "10.1.3.9",
    HOST_IP: "10.2.0.4",
    GITHUB_TOKEN: "ghs_x",
    GITHUB_WORKSPACE: "/home/runner/work/x/x",
    RUNNER_TEMP: "/home/runner/work/_temp",
    ACTIONS_RUNNER_DEBUG: "true",
    ImageOS: "ubuntu24",
    GITLAB_CI: "true",
    CI_JOB_ID: "1",
    HEROKU_APP_NAME: "aopay",
    NODE_HOME: "/app/.heroku/node",
    CI: "true",
    GITHUB_ACTIONS: "true",
    GITHUB_SHA: "0123abc",
    RUNNER_OS: "Linux",
    K_SERVICE: "aopay-graphql",
    K_REVISION: "aopay-graphql-00001",
    DYNO: "web.1",
    WEB_CONCURRENCY: "1",
    AWS_REGION: "ap-south-1",
    ECS_CONTAINER_METADATA_URI_V4: "http://169.254.170.2/v4/abc",
    FLY_APP_NAME: "aopay",
    JEST_WORKER_ID: "1",
    COLORTERM: "truecolor",
    EDITOR: "vi",
  };

  it("Docker, Kubernetes (service links included), npm, CI and platform variables are not settings and not flagged", () => {
    expect(unknownNames(REAL, SETTINGS_GROUPS)).toEqual([]);
    expect(loadConfig({ ...REAL, NODE_ENV: "development" }).port).toBe(4000);
  });

  it("neither is anything in this machine's own environment (the one the suite runs in)", () => {
    expect(unknownNames(process.env, SETTINGS_GROUPS)).toEqual([]);
  });

  it("a service link that lands on a setting is named as one (its address is not echoed)", () => {
    const problems = problemsOf({ METRICS_PORT: "tcp://10.96.7.7:9464" });
    expect(problems).toEqual([
      'METRICS_PORT must be a whole number (got a non-numeric value; write digits only, no unit) (a Kubernetes Service named "metrics" sets METRICS_PORT to its address: set enableServiceLinks: false in the pod spec, or rename the Service)',
    ]);
  });

  it("only tcp://host:port is a service link, for every reader (one pattern: isLinkAddress, the hint, the names)", () => {
    // Kubernetes and Docker write host:port (an IPv6 host in brackets); anything else after tcp:// is the operator's.
    expect(unknownNames({ OTP_PORT: "tcp://otp", AOPAY_PORT: "tcp://10.96.4.4:80/x" }, SETTINGS_GROUPS)).toEqual([
      "Unknown setting OTP_PORT: not a setting of this server (every setting is listed in .env.example and docs/configuration.md)",
      "Unknown setting AOPAY_PORT: not a setting of this server (every setting is listed in .env.example and docs/configuration.md)",
    ]);
    expect(unknownNames({ OTP_PORT: "tcp://[fd00::3]:80", AOPAY_PORT: "udp://aopay:53" }, SETTINGS_GROUPS)).toEqual([]);
    expect(problemsOf({ METRICS_PORT: "tcp://10.96.7.7:9464/metrics" })).toEqual([
      "METRICS_PORT must be a whole number (got a non-numeric value; write digits only, no unit)",
    ]);
  });

  it("HOME is not taken for HOST, nor PATH for PORT (short names allow one edit)", () => {
    const known = new Set(allNames);
    expect(closestName("HOME", known)).toBeNull();
    expect(closestName("PATH", known)).toBeNull();
    expect(closestName("HOTS", known)).toBe("HOST");
    expect(editDistance("PROT", "PORT")).toBe(1);
    expect(editDistance("LOGLEVEL", "LOG_LEVEL")).toBe(1);
  });
});

/**
 * Environments that were refused a start (each found by an audit of what Docker, Kubernetes, npm, CI runners, systemd
 * and platforms set), and must start: none of these names was written by the operator for this server.
 */
describe("realistic environments start", () => {
  const ENVIRONMENTS: Record<string, Record<string, string>> = {
    // `docker run --link redis:redis`, and GitLab CI's `services: [redis, otel/opentelemetry-collector]` on its Docker
    // executor (links): the linked container's own variables come as <ALIAS>_ENV_*.
    "Docker links (GitLab CI services)": {
      REDIS_NAME: "/runner-x1-project-7-concurrent-0-build/redis",
      REDIS_PORT: "tcp://172.17.0.3:6379",
      REDIS_PORT_6379_TCP: "tcp://172.17.0.3:6379",
      REDIS_PORT_6379_TCP_ADDR: "172.17.0.3",
      REDIS_ENV_REDIS_VERSION: "7.2.4",
      REDIS_ENV_GOSU_VERSION: "1.17",
      REDIS_ENV_REDIS_DOWNLOAD_URL: "http://download.redis.io/releases/redis-7.2.4.tar.gz",
      OTEL__OPENTELEMETRY_COLLECTOR_NAME: "/runner-x1-project-7-concurrent-0-build/otel__opentelemetry-collector",
      OTEL__OPENTELEMETRY_COLLECTOR_ENV_PATH: "/usr/bin",
      METRICS_NAME: "/runner-x1-project-7-concurrent-0-build/metrics",
      METRICS_PORT: "tcp://172.17.0.5:9464",
      METRICS_PORT_9464_TCP: "tcp://172.17.0.5:9464",
    },
    // Services named `metrics` and `simulator` in the namespace: their links land on METRICS_PORT and SIMULATOR_PORT.
    "Kubernetes Services named after settings": {
      METRICS_SERVICE_HOST: "10.96.7.7",
      METRICS_SERVICE_PORT: "9464",
      METRICS_PORT: "tcp://10.96.7.7:9464",
      METRICS_PORT_9464_TCP_PORT: "9464",
      SIMULATOR_SERVICE_HOST: "fd00::5",
      SIMULATOR_PORT: "tcp://[fd00::5]:4010",
    },
    // `instrumentation.opentelemetry.io/inject-sdk: "true"` (the OpenTelemetry Operator), and a ConfigMap giving every
    // service the collector's endpoints for all signals.
    "OpenTelemetry Operator and a shared OTel ConfigMap": {
      OTEL_SERVICE_NAME: "aopay-graphql",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel-collector:4318",
      OTEL_NODE_IP: "10.2.0.4",
      OTEL_POD_IP: "10.1.3.9",
      OTEL_RESOURCE_ATTRIBUTES_POD_NAME: "aopay-graphql-7d9c5b7f9-x2x8q",
      OTEL_RESOURCE_ATTRIBUTES_NODE_NAME: "node-1",
      OTEL_RESOURCE_ATTRIBUTES_POD_UID: "6f1c",
      OTEL_RESOURCE_ATTRIBUTES: "k8s.pod.name=aopay-graphql-7d9c5b7f9-x2x8q",
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://otel-collector:4318/v1/metrics",
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: "http://otel-collector:4318/v1/logs",
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: "delta",
      OTEL_EXPORTER_OTLP_INSECURE: "true",
      OTEL_METRIC_EXPORT_INTERVAL: "60000",
      OTEL_BLRP_SCHEDULE_DELAY: "1000",
      OTEL_SEMCONV_STABILITY_OPT_IN: "http",
      OTEL_NODE_DISABLED_INSTRUMENTATIONS: "fs",
    },
    // Heroku's Node.js buildpack (.profile.d), Cloud Foundry's.
    "Heroku and Cloud Foundry": {
      DYNO: "web.1",
      MEMORY_AVAILABLE: "512",
      WEB_MEMORY: "512",
      WEB_CONCURRENCY: "1",
      NODE_HOME: "/app/.heroku/node",
      VCAP_APPLICATION: "{}",
      MEMORY_LIMIT: "1024m",
      CF_INSTANCE_PORT: "61001",
    },
    systemd: {
      INVOCATION_ID: "0f3c",
      JOURNAL_STREAM: "8:12345",
      LISTEN_PID: "1",
      LISTEN_FDS: "1",
      LISTEN_FDNAMES: "http",
      NOTIFY_SOCKET: "/run/systemd/notify",
      WATCHDOG_USEC: "30000000",
      RUNTIME_DIRECTORY: "/run/aopay",
      STATE_DIRECTORY: "/var/lib/aopay",
      LOGS_DIRECTORY: "/var/log/aopay",
      CREDENTIALS_DIRECTORY: "/run/credentials/aopay.service",
      SYSTEMD_EXEC_PID: "1",
      MEMORY_PRESSURE_WATCH: "/sys/fs/cgroup/system.slice/aopay.service/memory.pressure",
      MEMORY_PRESSURE_WRITE: "c29tZSAyMDAwMDAgMjAwMDAwMAA=",
    },
    Marathon: { PORT: "31000", PORT0: "31000", PORT1: "31001", PORTS: "31000,31001", PORT_HTTP: "31000" },
    // A .env shared with a bitnami/redis container and apps reading REDIS_HOST ...: with REDIS_URL, theirs (a warning).
    "a .env shared with a Redis container, REDIS_URL set": {
      REDIS_URL: "redis://redis:6379/0",
      HMAC_SECRET: "shared-env-hmac-secret-0123456789-abcdef",
      REDIS_HOST: "redis",
      REDIS_PORT: "6379",
      REDIS_PORT_NUMBER: "6379",
      REDIS_PASSWORD: "pw",
      REDIS_USERNAME: "default",
      REDIS_DB: "0",
    },
    // Other servers' settings in an env file or ConfigMap shared with them (values in their own units).
    "a ConfigMap shared with other apps": {
      REQUEST_TIMEOUT: "30",
      KEEP_ALIVE_TIMEOUT: "5",
      BODY_LIMIT: "1mb",
      DB_TIMEOUT: "30",
      APP_KEY: "base64:abc",
      GPG_KEYS: "A1B2",
      SERVER_PORT: "8080",
      HTTP_PROXY: "http://proxy:3128",
      NO_PROXY: "localhost",
    },
  };

  it.each(Object.entries(ENVIRONMENTS))("%s", (_, env) => {
    expect(problemsOf({ ...env, NODE_ENV: "development" })).toEqual([]);
    expect(() => loadSimulatorConfig(env)).not.toThrow();
  });

  it("Redis connection parts: ignored beside REDIS_URL (named for the warning), refused without it, no value shown", () => {
    const parts = { REDIS_PASSWORD: "pw-canary", REDIS_HOST: "redis", REDIS_DB: "2" };
    expect(
      loadConfig({ ...parts, REDIS_URL: "redis://redis:6379/2", HMAC_SECRET: "h".repeat(32) }).ignoredRedisSettings,
    ).toEqual(["REDIS_DB", "REDIS_HOST", "REDIS_PASSWORD"]);
    const problems = problemsOf(parts);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^Unknown settings REDIS_DB, REDIS_HOST, REDIS_PASSWORD: this server connects to Redis by REDIS_URL alone/,
    );
    expect(problems.join()).not.toContain("pw-canary");
    // Another REDIS_ name is still unknown, and a typo of REDIS_URL still gets its suggestion.
    expect(problemsOf({ REDIS_TIMEOUT: "5", REDIS_URl: "redis://redis:6379" })).toEqual([
      "Unknown setting REDIS_TIMEOUT: not a setting of this server (every setting is listed in .env.example and docs/configuration.md)",
      "Unknown setting REDIS_URl: did you mean REDIS_URL?",
    ]);
  });

  it("a service link's address is the default, not a value: METRICS_PORT and SIMULATOR_PORT keep theirs", () => {
    const env = ENVIRONMENTS["Kubernetes Services named after settings"];
    expect(loadConfig(env).metrics.port).toBe(9464);
    expect(loadSimulatorConfig(env).port).toBe(4010);
    // One the operator set wins, as Kubernetes lets a container's own env win over the links.
    expect(loadConfig({ ...env, METRICS_PORT: "9500" }).metrics.port).toBe(9500);
  });
});

describe("the settings declarations", () => {
  it("name each variable once, across every group", () => {
    expect(new Set(allNames).size).toBe(allNames.length);
    expect(allNames.length).toBeGreaterThan(80);
  });

  it("name the module each group configures, and it exists", () => {
    for (const group of SETTINGS_GROUPS)
      expect({ group: group.title, exists: existsSync(join(ROOT, group.module)) }).toEqual({
        group: group.title,
        exists: true,
      });
  });

  it("cover every variable loadConfig reads (a recording environment sees only declared names)", () => {
    const read = new Set<string>();
    const recording = (base: Record<string, string>) =>
      new Proxy(base, {
        get(target, key) {
          if (typeof key === "string") read.add(key);
          return Reflect.get(target, key);
        },
      });
    loadConfig(recording({}));
    loadConfig(
      recording({
        AOPAY_BASE_URL: "https://a.example",
        AOPAY_REGISTRATION_ID: "R",
        AOPAY_COMPANY_CODE: "C",
        AUTH_JWKS_URL: "https://j.example/jwks",
      }),
    );
    loadSimulatorConfig(recording({}));
    // Node's own variables, read for the debugging switches they turn on (config.ts rawDebugSwitches), are not ours.
    const known = new Set([...allNames, ...NODE_VARIABLES_READ]);
    expect([...read].filter((name) => !known.has(name))).toEqual([]);
    expect(read.size).toBeGreaterThan(70);
  });

  it("no problem message carries a secret's value, whatever is wrong with it", () => {
    const canaries = {
      HMAC_SECRET: "short-canary-1",
      HMAC_SECRET_PREVIOUS: "previous-canary-9",
      REDIS_URL: "http://user:canary-pass-2@redis:6379",
      METRICS_TOKEN: "canary-3",
      AOPAY_REGISTRATION_ID: "canary 4 with spaces",
      AOPAY_COMPANY_CODE: "canary/5",
      API_KEYS: "app:canary-raw-key-6",
      OTEL_EXPORTER_OTLP_ENDPOINT: "otel:4318?token=canary-7",
      AOPAY_BASE_URL: "https://api.aopay.co.in/?key=canary-8",
    };
    const problems = problemsOf(canaries);
    expect(problems.length).toBeGreaterThanOrEqual(9);
    for (const value of Object.values(canaries)) expect(problems.join("\n")).not.toContain(value);
    expect(problems.join("\n")).not.toMatch(/canary/);
  });
});

/**
 * ioredis takes REDIS_URL's query parameters as connection options that win over the fail-closed ones
 * (src/protection/redis.ts): `?enableOfflineQueue=1&commandTimeout=20000` held a send 3.9 s on a stalled Redis
 * instead of refusing it after 1 s; a database path that is not a number crashed the process at connection.
 */
describe("REDIS_URL", () => {
  const base = { HMAC_SECRET: "h".repeat(40) };
  it.each([
    "redis://127.0.0.1:6379",
    "redis://127.0.0.1:6379/",
    "redis://127.0.0.1:6379/3",
    "rediss://default:pw-canary@redis.internal:6380/0",
    "redis://:pw-canary@redis",
  ])("takes %s", (url) => {
    expect(problemsOf({ ...base, REDIS_URL: url })).toEqual([]);
  });

  it.each([
    ["redis://:pw-canary@127.0.0.1:6379/0?enableOfflineQueue=1", /no query string/],
    ["redis://:pw-canary@127.0.0.1:6379?commandTimeout=20000&maxRetriesPerRequest=50", /no query string/],
    ["redis://:pw-canary@127.0.0.1:6379/0#frag", /no query string or fragment/],
    ["redis://:pw-canary@127.0.0.1:6379/abc", /database as a number/],
    ["redis://:pw-canary@127.0.0.1:6379/0/1", /database as a number/],
  ])("refuses %s, saying why without echoing it", (url, why) => {
    const problems = problemsOf({ ...base, REDIS_URL: url }).join("\n");
    expect(problems).toMatch(why);
    expect(problems).not.toContain("canary");
  });
});

describe("generated from the declarations (drift check; fix with `npm run config:docs`)", () => {
  it(".env.example", () => {
    expect(readFileSync(join(ROOT, ".env.example"), "utf8")).toBe(renderEnvExample(SETTINGS_GROUPS));
  });

  it("the tables of docs/configuration.md", () => {
    const page = readFileSync(join(ROOT, "docs/configuration.md"), "utf8");
    expect(page).toBe(withTable(page, renderTable(SETTINGS_GROUPS)));
    for (const name of allNames) expect(page).toContain(`\`${name}\``);
  });

  it("say which numbers each whole-number setting takes, as its check does (the table and .env.example)", () => {
    // BODY_LIMIT_BYTES=300, set from a page that gave no range, stopped the start: "must be between 1024 and 1048576".
    const table = renderTable(SETTINGS_GROUPS).split("\n");
    const env = renderEnvExample(SETTINGS_GROUPS).split("\n");
    const ranged = SETTINGS_GROUPS.flatMap((g) => Object.entries(g.settings)).flatMap(([name, setting]) => {
      const { min, max } = setting as AnySetting & { min?: number; max?: number };
      return min === undefined || max === undefined ? [] : [{ name, setting, min, max }];
    });
    expect(ranged.length).toBeGreaterThan(40);
    for (const { name, setting, min, max } of ranged) {
      const accepted = [min, max].map((n) => setting.schema.safeParse(String(n)).success);
      const refused = [min - 1, max + 1].map((n) => setting.schema.safeParse(String(n)).success);
      const row = table.find((line) => line.startsWith(`| \`${name}\` |`));
      // Its comment: the lines above its `# NAME=default` line, up to the one before (wrapped at 120 columns).
      const at = env.indexOf(`# ${name}=${setting.secret ? "" : String(setting.default ?? "")}`);
      let from = at;
      while (from > 0 && !/^(?:# [A-Z][A-Z0-9_]*=|# ----|$)/.test(env[from - 1])) from -= 1;
      const comment = env
        .slice(from, at)
        .map((line) => line.slice(2))
        .join(" ");
      expect({ name, accepted, refused, row: row?.includes(`\`${min}\` to \`${max}\``), comment }).toEqual({
        name,
        accepted: [true, true],
        refused: [false, false],
        row: true,
        comment: expect.stringContaining(`${min} to ${max}`),
      });
    }
  });

  it(".env.example starts the server as it is (every line a comment: all defaults)", () => {
    const text = readFileSync(join(ROOT, ".env.example"), "utf8");
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    expect(lines.every((l) => l.startsWith("#"))).toBe(true);
    // Uncommented, each `NAME=value` line is a valid setting with its default.
    const env = Object.fromEntries(
      lines
        .map((l) => /^# ([A-Z][A-Z0-9_]*)=(.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null && m[2] !== "")
        .map((m) => [m[1], m[2]]),
    );
    expect(Object.keys(env).length).toBeGreaterThan(50);
    // The random per-process HMAC secret, and the store key derived from it, differ between two loads.
    const { hmacSecret: _random1, storeKeys: _derived1, ...withFile } = loadConfig(env);
    const { hmacSecret: _random2, storeKeys: _derived2, ...withNothing } = loadConfig({});
    expect(withFile).toEqual(withNothing);
  });
});
