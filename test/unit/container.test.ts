import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { loadConfig, SETTINGS_GROUPS } from "../../src/config";
import { loadSimulatorConfig } from "../../src/simulator/config";
import { unknownNames } from "../../src/settings/names";
import { PRODUCTION_SECURITY } from "../helpers/stack";

/**
 * The image's environment against the configuration schema: the Dockerfile's ENV lines and compose.yaml's
 * `environment` (its commented production block too) may hold only names the server reads, and what they set must
 * start the server. A misspelt name here would otherwise ship a feature silently off.
 */
const root = join(__dirname, "../..");

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions of the last stage (the image that ships), continuation lines joined. */
function runtimeStage(text: string): Instruction[] {
  const joined = text.replace(/\\\r?\n/g, " ");
  const instructions = joined
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    });
  const lastFrom = instructions.map((i) => i.keyword).lastIndexOf("FROM");
  return instructions.slice(lastFrom);
}

/** `ENV A=1 B=2` (and the legacy `ENV A 1`) into a record. */
function envOf(stage: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of stage.filter((i) => i.keyword === "ENV")) {
    if (!args.includes("=")) {
      const [name, ...value] = args.split(/\s+/);
      env[name] = value.join(" ");
      continue;
    }
    for (const pair of args.split(/\s+/)) {
      const eq = pair.indexOf("=");
      env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"(.*)"$/, "$1");
    }
  }
  return env;
}

const stage = runtimeStage(readFileSync(join(root, "Dockerfile"), "utf8"));
const imageEnv = envOf(stage);
const composeText = readFileSync(join(root, "compose.yaml"), "utf8");
const compose = parseYaml(composeText) as {
  services: Record<
    string,
    {
      environment?: Record<string, string | number | boolean>;
      command?: string[];
      ports?: string[];
      stop_grace_period?: string;
    }
  >;
};
const stringsOf = (env: Record<string, string | number | boolean> = {}) =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
const graphqlEnv = stringsOf(compose.services.graphql.environment);
const simulatorEnv = stringsOf(compose.services.simulator.environment);

/** `# NAME: value` lines of the graphql service's environment: the production block operators uncomment. */
function commentedProductionBlock(): Record<string, string> {
  const lines = composeText.split("\n");
  const start = lines.findIndex((l) => /^\s+# --- production/.test(l));
  expect(start).toBeGreaterThan(0);
  const env: Record<string, string> = {};
  for (const line of lines.slice(start + 1)) {
    const m = /^\s+# ([A-Z][A-Z0-9_]*): (.*)$/.exec(line);
    if (!m) break;
    env[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return env;
}

/** Test values for compose's `${NAME:?message}` interpolations (what an operator's .env file would supply). */
const OPERATOR_VALUES: Record<string, string> = {
  AOPAY_REGISTRATION_ID: "AOP-554",
  AOPAY_COMPANY_CODE: "CMP1045",
  REDIS_URL: "rediss://redis.internal:6380",
  HMAC_SECRET: PRODUCTION_SECURITY.HMAC_SECRET,
  STORE_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString("base64")}`,
  API_KEYS: PRODUCTION_SECURITY.API_KEYS,
  METRICS_TOKEN: "scrape-token-0123456789abcdef",
};
function interpolate(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [
      k,
      v.replace(/\$\{([A-Z0-9_]+):\?[^}]*\}/g, (_, name: string) => {
        if (!(name in OPERATOR_VALUES))
          throw new Error(`compose.yaml interpolates ${name}: give the test a value for it`);
        return OPERATOR_VALUES[name];
      }),
    ]),
  );
}

describe("the container image's environment (Dockerfile, compose.yaml)", () => {
  it("sets only names the server reads (none unknown, none misspelt)", () => {
    const all = { ...imageEnv, ...graphqlEnv, ...commentedProductionBlock(), ...simulatorEnv };
    expect(Object.keys(all).length).toBeGreaterThan(15);
    expect(unknownNames(all, SETTINGS_GROUPS)).toEqual([]);
  });

  it("catches a misspelt or unknown name (the check above can fail)", () => {
    expect(
      unknownNames({ ...imageEnv, METRICS_HOTS: "0.0.0.0", TRUSTED_DOCUMENT: "enforce" }, SETTINGS_GROUPS),
    ).toEqual([
      "Unknown setting METRICS_HOTS: did you mean METRICS_HOST?",
      "Unknown setting TRUSTED_DOCUMENT: did you mean TRUSTED_DOCUMENTS?",
    ]);
  });

  it("serves metrics to the container network and exposes both ports", () => {
    const config = loadConfig({ ...imageEnv, NODE_ENV: "development" });
    expect(config.host).toBe("0.0.0.0");
    expect(config.metrics).toMatchObject({ enabled: true, host: "0.0.0.0", port: 9464 });
    const exposed = stage.filter((i) => i.keyword === "EXPOSE").flatMap((i) => i.args.split(/\s+/));
    expect(exposed).toEqual(expect.arrayContaining([String(config.port), String(config.metrics.port)]));
    expect(stage.find((i) => i.keyword === "HEALTHCHECK")?.args).toContain("process.env.PORT");
    expect(stage.find((i) => i.keyword === "USER")?.args).toBe("node");
  });

  it("refuses to start the image as it ships, naming every missing production setting", () => {
    expect(() => loadConfig(imageEnv)).toThrow(
      /AOPAY_BASE_URL is required[\s\S]*HMAC_SECRET is required[\s\S]*Authentication is required/,
    );
  });

  it("starts with compose's local environment over the image's (every required setting present)", () => {
    const config = loadConfig({ ...imageEnv, ...graphqlEnv });
    expect(config).toMatchObject({
      env: "development",
      host: "0.0.0.0",
      redisUrl: "redis://redis:6379",
      hmacSecretEphemeral: false,
    });
    expect(config.aopay).toMatchObject({ mode: "live", registrationId: "SIM-REG-0001", companyCode: "SIMCO01" });
    expect(config.aopay.baseUrl?.href).toBe(`http://simulator:${simulatorEnv.SIMULATOR_PORT}/`);
    expect(compose.services.graphql.ports).toEqual(["127.0.0.1:4000:4000", "127.0.0.1:9464:9464"]);
  });

  it("gives the server's stop time to its drain: compose's stop_grace_period covers the delay, the grace and 1 s", () => {
    // Docker's default of 10 s was below SHUTDOWN_GRACE_MS alone (15 s): a slow drain was SIGKILLed, its sends cut.
    const m = /^(\d+)s$/.exec(compose.services.graphql.stop_grace_period ?? "");
    expect(m).not.toBeNull();
    const stopMs = Number(m?.[1]) * 1000;
    for (const env of [graphqlEnv, interpolate(commentedProductionBlock())]) {
      const config = loadConfig({ ...imageEnv, ...env });
      // The watchdog's 1 s (src/index.ts) and 1 s more for the exit itself.
      expect(stopMs).toBeGreaterThanOrEqual(config.shutdownDelayMs + config.shutdownGraceMs + 2000);
    }
  });

  it("starts in production with the commented production block over the image's", () => {
    const config = loadConfig({ ...imageEnv, ...interpolate(commentedProductionBlock()) });
    expect(config).toMatchObject({
      env: "production",
      trustedDocuments: "enforce",
      redisUrl: OPERATOR_VALUES.REDIS_URL,
    });
    expect(config.auth.required).toBe(true);
    expect(config.metrics.token).toBe(OPERATOR_VALUES.METRICS_TOKEN);
    expect(config.aopay.baseUrl?.href).toBe("https://api.aopay.co.in/");
    expect(config.telemetry).toMatchObject({ enabled: true, sampler: "parentbased_traceidratio" });
  });

  it("runs the server with the same node flags as npm start (the flags the bench measures)", () => {
    const cmd = stage.filter((i) => i.keyword === "CMD").at(-1);
    const start = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: { start: string } })
      .scripts.start;
    expect(start).toMatch(/^exec node (--\S+ )*dist\/index\.js$/);
    expect(JSON.parse(cmd!.args)).toEqual(start.replace(/^exec /, "").split(" "));
  });

  it("ships the explorer that a development run advertises (/graphiql), built in the build stage", () => {
    const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
    // src/http/explorer.ts serves EXPLORER_DIST, dist/http/../../explorer/dist: /app/explorer/dist in the image.
    expect(
      stage.some(
        (i) => i.keyword === "COPY" && /--from=build\b.*\/app\/explorer\/dist \.\/explorer\/dist$/.test(i.args),
      ),
    ).toBe(true);
    expect(dockerfile).toMatch(/^RUN node node_modules\/vite\/bin\/vite\.js build explorer\b/m);
  });

  it("ships `node scripts/customer-ref.js`, which support runs where HMAC_SECRET is (docs/operations.md)", () => {
    expect(
      stage.some(
        (i) => i.keyword === "COPY" && /scripts\/customer-ref\.js scripts\/cli\.js \.\/scripts\/$/.test(i.args),
      ),
    ).toBe(true);
    // The script needs what the image holds: dist/ and production dependencies, nothing of scripts/ besides itself and
    // scripts/cli.js (its flags), which needs Node alone.
    const requires = (file: string) =>
      [...readFileSync(join(root, file), "utf8").matchAll(/require\(("[^"]+"|join\(ROOT, "[^"]+"\))\)/g)].map(
        (m) => m[1],
      );
    for (const target of requires("scripts/customer-ref.js"))
      expect(target).toMatch(/^"(node:[a-z]+|reflect-metadata|\.\/cli)"$|^join\(ROOT, "dist\//);
    expect(requires("scripts/cli.js")).toEqual(['"node:util"']);
    const dependencies = Object.keys(
      (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> })
        .dependencies,
    );
    expect(dependencies).toContain("reflect-metadata");
  });

  it("names no `# syntax=` frontend (BuildKit would pull it from Docker Hub whatever NODE_IMAGE says)", () => {
    expect(readFileSync(join(root, "Dockerfile"), "utf8")).not.toMatch(/^#\s*syntax\s*=/im);
  });

  it("keeps .env, where the docs put local secrets, out of the build context", () => {
    const ignored = readFileSync(join(root, ".dockerignore"), "utf8")
      .split(/\r?\n/)
      .map((l) => l.trim());
    expect(ignored).toContain(".env");
  });

  it("turns Redis's protected mode off itself, not through the official image's entrypoint", () => {
    // A Redis image without that entrypoint (a mirror's Debian build) keeps protected mode on and refuses the server's
    // connection from another container: found bringing compose.yaml up with podman-compose (docs/deploying.md).
    const args = compose.services.redis.command ?? [];
    expect(args[0]).toBe("redis-server");
    expect(args.slice(args.indexOf("--protected-mode"))).toEqual(["--protected-mode", "no"]);
    expect(compose.services.redis.ports).toBeUndefined();
  });

  it("runs the simulator from the same image, listening on the compose network", () => {
    expect(compose.services.simulator.command).toEqual(["node", "dist/simulator/main.js"]);
    expect(loadSimulatorConfig({ ...imageEnv, ...simulatorEnv })).toMatchObject({ host: "0.0.0.0", port: 4010 });
  });
});
