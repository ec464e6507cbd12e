import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { request } from "undici";
import { runToExit } from "../helpers/run-to-exit";
import { spawnServerProcess } from "../helpers/server-process";

/**
 * The configuration as the real entry point (dist-test/index.js, built by test/global-setup.js) reads it: from the
 * environment and from a file given with `node --env-file`, stopping with exit code 78 and every problem on stderr.
 */
const ROOT = join(__dirname, "../..");

describe("configuration of the server process", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "aopay-config-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // On a Node older than 22.15 the server sent every OTP, then failed reading AOPay's answer (JSON.isRawJSON) and
  // answered INTERNAL_SERVER_ERROR after the SMS had gone: `node dist/index.js` never checked (npm start does).
  const OLD_NODE = join(ROOT, "test/fixtures/preload/node-version.cjs");
  it.each(["20.20.2", "22.14.0"])("refuses to start on Node %s (exit 78), nothing listening", async (version) => {
    const p = spawnServerProcess({ FAKE_NODE_VERSION: version, PORT: "0", METRICS_PORT: "0" }, [
      `--require=${OLD_NODE}`,
    ]);
    expect(await p.exited).toBe(78);
    expect(p.stderr()).toContain(`This is Node.js ${version}; the server needs Node.js 24 (or 22.15 and later)`);
    expect(p.stdout()).toContain('"msg":"unsupported Node.js: the server did not start"');
    expect(p.output()).not.toContain("ready");
  });

  it("starts on Node 22.15, the oldest the server supports", async () => {
    const p = spawnServerProcess({ FAKE_NODE_VERSION: "22.15.0", PORT: "0", METRICS_PORT: "0" }, [
      `--require=${OLD_NODE}`,
    ]);
    try {
      expect(await p.ready).toMatch(/^http:\/\/.+:\d+$/);
    } finally {
      await p.kill();
    }
  });

  it("reads a file given with node --env-file (the environment wins over it)", async () => {
    const file = join(dir, "dev.env");
    writeFileSync(
      file,
      "# a comment\nNODE_ENV=development\nPORT=0\nMETRICS_PORT=0\nLOG_LEVEL=debug\nTRUSTED_DOCUMENTS=enforce\n",
    );
    const p = spawnServerProcess({ LOG_LEVEL: "info" }, [`--env-file=${file}`]);
    try {
      const url = await p.ready;
      // TRUSTED_DOCUMENTS=enforce from the file: an ad-hoc document is refused.
      const res = await request(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ serviceInfo { upstream } }" }),
      });
      expect(res.statusCode).toBe(400);
      expect(await res.body.text()).toContain("UNTRUSTED_DOCUMENT");
      // LOG_LEVEL=info from the environment beat the file's debug: no debug line.
      expect(p.output()).not.toContain('"level":"debug"');
    } finally {
      await p.kill();
    }
  });

  it("starts with .env.example as its env file, unchanged (every setting commented out: all defaults)", async () => {
    const p = spawnServerProcess({ PORT: "0", METRICS_PORT: "0" }, [`--env-file=${join(ROOT, ".env.example")}`]);
    try {
      await expect(p.ready).resolves.toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+$/);
    } finally {
      await p.kill();
    }
  });

  it("names the setting whose port is taken (a second npm start beside a running one): exit 1", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const { port } = busy.address() as AddressInfo;
    try {
      for (const [setting, other] of [
        ["METRICS_PORT", "PORT"],
        ["PORT", "METRICS_PORT"],
      ]) {
        const p = spawnServerProcess({ HOST: "127.0.0.1", [setting]: String(port), [other]: "0" });
        expect(await p.exited).toBe(1);
        expect(p.output()).toContain(`Failed to start: ${setting}=${port}: the port is in use`);
        expect(p.output()).toContain(`Set ${setting} to a free port, or 0 for any`);
        // And in the JSON log, for whoever reads stdout only.
        expect(p.stdout()).toMatch(/"level":"fatal".*"exitCode":1,"msg":"the server did not start"/);
      }
    } finally {
      busy.close();
    }
  });

  it("names the setting whose address is not this machine's (a misspelt or foreign HOST): exit 1", async () => {
    // `.invalid` never resolves (RFC 2606); 192.0.2.1 is TEST-NET-1, an address no interface here has.
    for (const [setting, other, value] of [
      ["HOST", "METRICS_HOST", "api.nohost.invalid"],
      ["METRICS_HOST", "HOST", "api.nohost.invalid"],
      ["HOST", "METRICS_HOST", "192.0.2.1"],
    ]) {
      const p = spawnServerProcess({ [setting]: value, [other]: "127.0.0.1", PORT: "0", METRICS_PORT: "0" });
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain(`Failed to start: ${setting}=${value}: not an address of this machine`);
      expect(p.output()).toContain(`Set ${setting} to one of its addresses`);
    }
  });

  // A new operator's bad values, one at a time: each stops the start with exit 78 and one line naming its setting,
  // never a stack trace, never the value of a secret (the canary `hunter2`).
  it.each([
    ["PORT", { PORT: "99999" }],
    ["PORT", { PORT: "4000ms" }],
    ["HOST", { HOST: "http://0.0.0.0" }],
    ["HOST", { HOST: "0.0.0.0:4000" }],
    ["METRICS_HOST", { METRICS_HOST: "localhost:9464" }],
    ["REDIS_URL", { REDIS_URL: "redis://:hunter2-canary@redis:6379/0?tls=false" }],
    ["REDIS_URL", { REDIS_URL: "hunter2-canary@redis:6379" }],
    ["REDIS_URL", { REDIS_URL: "redis://:hunter2-canary@redis:6379/zero" }],
    ["HMAC_SECRET", { HMAC_SECRET: "hunter2-canary-too-short" }],
    ["METRICS_TOKEN", { METRICS_TOKEN: "hunter2-canary" }],
    // fetch refuses a URL with credentials on every request, quoting it whole in an error line: it started and
    // answered every bearer token 500 with the password logged.
    ["AUTH_JWKS_URL", { AUTH_JWKS_URL: "https://idp:hunter2-canary@login.example/jwks.json" }],
    ["AUTH_JWKS_URL", { AUTH_JWKS_URL: "https://hunter2-canary@login.example/jwks.json" }],
    ["WEB_CONCURRENCY", { WEB_CONCURRENCY: "2", AOPAY_BASE_URL: "http://127.0.0.1:9" }],
  ])("refuses a bad %s: exit 78, one line naming it, no stack, no secret", async (setting, env) => {
    const p = spawnServerProcess({
      PORT: "0",
      METRICS_PORT: "0",
      AOPAY_REGISTRATION_ID: "AOP-554",
      AOPAY_COMPANY_CODE: "CMP1045",
      ...env,
    });
    expect(await p.exited).toBe(78);
    const out = p.stderr();
    const problems = out.split("\n").filter((l) => l.startsWith("  - "));
    expect(out).toMatch(/^Invalid configuration:\n( {2}- .*\n)+$/);
    expect(problems.some((l) => l.startsWith(`  - ${setting} `) || l.startsWith(`  - ${setting}=`))).toBe(true);
    expect(out).not.toMatch(/^\s+at /m);
    expect(p.output()).not.toContain("hunter2");
  });

  // A line shifted in an env file puts a secret where an address goes: the start fails on the value and names it, and
  // stderr showed it whole (the JSON line on stdout hid it: its logger knew the secrets, stderr was written as is).
  it.each([
    ["HOST", "the HMAC secret", { HMAC_SECRET: "hunter2-canary-hmac-0123456789-abcdefgh" }],
    ["METRICS_HOST", "a metrics token", { METRICS_TOKEN: "hunter2-canary-metrics-token" }],
    [
      "HOST",
      "a Redis password",
      { REDIS_URL: "redis://:hunter2-canary-pw@127.0.0.1:9", HMAC_SECRET: "config-process-hmac-0123456789-abcdefgh" },
    ],
  ])("a start that failed on %s holding %s: exit 1, hidden on stderr as on stdout", async (setting, _what, env) => {
    const secret = /hunter2-canary[\w-]*/.exec(Object.values(env)[0])![0];
    const p = spawnServerProcess({ PORT: "0", METRICS_PORT: "0", ...env, [setting]: secret });
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toContain(`Failed to start: ${setting}=[REDACTED]: not an address of this machine`);
    expect(p.stdout()).toContain('"msg":"the server did not start"');
    expect(p.output()).not.toContain("hunter2");
  });

  it("stops on the typos an operator made (exit 78), naming each with a suggestion, secrets not echoed", async () => {
    const file = join(dir, "typos.env");
    writeFileSync(
      file,
      [
        "NODE_ENV=production",
        "AOPAY_BASE_URL=https://api.aopay.co.in",
        "AOPAY_REGISTRATION_ID=AOP-554",
        "AOPAY_COMPANY_CODE=CMP1045",
        "HMAC_SECRET=typo-test-hmac-secret-0123456789-abcdef",
        "API_KEYS=app:" + "a".repeat(64),
        "TRUSTED_DOCUMENT=enforce",
        "REDIS_URl=redis://:typo-test-password@redis:6379",
        "CORS_ORIGIN=https://app.example.com",
        "LOGLEVEL=debug",
      ].join("\n"),
    );
    const p = spawnServerProcess({}, [`--env-file=${file}`]);
    expect(await p.exited).toBe(78);
    const out = p.stderr();
    for (const [typo, meant] of [
      ["TRUSTED_DOCUMENT", "TRUSTED_DOCUMENTS"],
      ["REDIS_URl", "REDIS_URL"],
      ["CORS_ORIGIN", "CORS_ORIGINS"],
      ["LOGLEVEL", "LOG_LEVEL"],
    ]) {
      expect(out).toContain(`Unknown setting ${typo}: did you mean ${meant}?`);
    }
    expect(out).toMatch(/^Invalid configuration:\n( {2}- .*\n){4}$/);
    expect(p.output()).not.toContain("typo-test");
    expect(readFileSync(file, "utf8")).toContain("typo-test-password"); // the canary was there to leak
  });

  // An operator's bad deployment, several settings wrong at once, secrets among them (each with the canary in its
  // malformed value): every problem on stderr, and the same as one JSON line on stdout for the log shipper, exit 78,
  // no value of a secret anywhere.
  it("says each bad setting on stderr and in the JSON log (exit 78): name, what is wrong, accepted form", async () => {
    const canary = "Hx9CanaryQw";
    const p = spawnServerProcess({
      NODE_ENV: "production",
      AOPAY_BASE_URL: "https://api.aopay.co.in",
      AOPAY_REGISTRATION_ID: "AOP-554",
      AOPAY_COMPANY_CODE: "CMP1045",
      HMAC_SECRET: `${canary}-short`,
      API_KEYS: `mobile-app:${canary}-raw-key-not-its-hash`,
      METRICS_TOKEN: canary,
      STORE_ENCRYPTION_KEYS: `${canary}${Buffer.alloc(32, 7).toString("base64")}`,
      REDIS_URL: `redis://:${canary}@redis:6379/0?tls=false`,
      OTEL_EXPORTER_OTLP_HEADERS: `authorization: Bearer ${canary}`,
      PORT: "4000ms",
    });
    expect(await p.exited).toBe(78);
    const stderr = p.stderr();
    const lines = stderr
      .split("\n")
      .filter((l) => l.startsWith("  - "))
      .map((l) => l.slice(4));
    for (const [setting, form] of [
      ["HMAC_SECRET", /at least 32 characters \(e\.g\. `openssl rand -base64 48`\)/],
      ["API_KEYS", /clientId:sha256hex .*npm run api-key/],
      ["METRICS_TOKEN", /at least 16 characters \(e\.g\. `openssl rand -hex 24`\)/],
      ["STORE_ENCRYPTION_KEYS", /id:base64key/],
      ["REDIS_URL", /no query string .*redis:\/\/\[user:password@\]host\[:port\]/],
      ["OTEL_EXPORTER_OTLP_HEADERS", /key=value, comma-separated/],
      ["PORT", /whole number .*digits only/],
    ] as const)
      expect([setting, lines.find((l) => l.startsWith(`${setting} `))]).toEqual([setting, expect.stringMatching(form)]);
    const json = p
      .stdout()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json).toEqual([
      expect.objectContaining({
        level: "fatal",
        service: "aopay-graphql",
        msg: "invalid configuration: the server did not start",
        problems: lines,
        exitCode: 78,
      }),
    ]);
    expect(p.output()).not.toContain(canary.slice(0, 6));
    expect(p.output()).not.toContain(canary.slice(5));
  });

  it("the standalone simulator refuses a bad setting the same way: exit 78, stderr and the JSON log", async () => {
    const { code, stdout, stderr } = await runToExit("dist-test/simulator/main.js", {
      SIMULATOR_PORT: "4010ms",
      SIMULATOR_HOST: "http://0.0.0.0",
    });
    expect(code).toBe(78);
    expect(stderr).toMatch(/^Invalid configuration:\n {2}- SIMULATOR_HOST .*\n {2}- SIMULATOR_PORT .*\n$/);
    const json = stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { level: string; msg: string; problems: string[]; exitCode: number });
    expect(json).toEqual([
      expect.objectContaining({
        level: "fatal",
        exitCode: 78,
        msg: "invalid configuration: the simulator did not start",
      }),
    ]);
    expect(json[0].problems).toHaveLength(2);
  });

  // The simulator reads the server's .env (its names are checked as the server's), secrets included: a line shifted
  // there puts one in SIMULATOR_HOST, whose lookup error quotes it. The server's start hides it (above); the
  // simulator's said it whole on stderr and in the JSON line, its failStart given none of the environment's secrets.
  it.each([
    ["the HMAC secret", { HMAC_SECRET: "hunter2-canary-hmac-0123456789-abcdefgh" }],
    ["a metrics token", { METRICS_TOKEN: "hunter2-canary-metrics-token" }],
    ["a Redis password", { REDIS_URL: "redis://:hunter2-canary-pw@127.0.0.1:9" }],
  ])("the standalone simulator's start that failed on SIMULATOR_HOST holding %s: hidden", async (_what, env) => {
    const secret = /hunter2-canary[\w-]*/.exec(Object.values(env)[0])![0];
    const run = { SIMULATOR_PORT: "0", ...env, SIMULATOR_HOST: secret };
    const { code, stdout, stderr } = await runToExit("dist-test/simulator/main.js", run);
    expect(code).toBe(1);
    expect(stderr).toContain("Failed to start the simulator: getaddrinfo ENOTFOUND [REDACTED]");
    expect(stdout).toContain('"msg":"the simulator did not start"');
    expect(`${stdout}${stderr}`).not.toContain("hunter2");
  });

  // A number in a host name the start fails on, glued after a letter and `-` (`mob-98765-43210.example`): the JSON
  // line's scrubber (scrubLine) masks it, and stderr, a log too (`docker logs`), showed it whole: its text went
  // through the bare scrub, which leaves a run after `-` alone (a token's, a UUID's).
  it.each([
    ["the server", "dist-test/index.js", "HOST", "Failed to start: HOST=mob-XXXXX-XXXXX.example: not an address"],
    ["the simulator", "dist-test/simulator/main.js", "SIMULATOR_HOST", "getaddrinfo ENOTFOUND mob-XXXXX-XXXXX.example"],
  ])(
    "%s's start that failed on a host name holding a mobile: stderr masks it as the JSON line does",
    async (_who, entry, setting, said) => {
      const { code, stdout, stderr } = await runToExit(entry, {
        ...(setting === "HOST" ? { PORT: "0", METRICS_PORT: "0" } : { SIMULATOR_PORT: "0" }),
        [setting]: "mob-98765-43210.example",
      });
      expect(code).toBe(1);
      expect(stderr).toContain(said);
      expect(stdout).toContain("mob-XXXXX-XXXXX.example");
      expect(`${stdout}${stderr}`).not.toMatch(/98765|43210/);
    },
  );

  it("refuses production with REDIS_URL and no STORE_ENCRYPTION_KEYS (exit 78), saying why, before touching Redis", async () => {
    const p = spawnServerProcess({
      NODE_ENV: "production",
      AOPAY_BASE_URL: "https://api.aopay.co.in",
      AOPAY_REGISTRATION_ID: "AOP-554",
      AOPAY_COMPANY_CODE: "CMP1045",
      HMAC_SECRET: "store-key-test-hmac-secret-0123456789-abc",
      API_KEYS: "app:" + "a".repeat(64),
      REDIS_URL: "redis://127.0.0.1:1",
    });
    expect(await p.exited).toBe(78);
    expect(p.output()).toMatch(
      /STORE_ENCRYPTION_KEYS is required in production with REDIS_URL: idempotency results stored in Redis are encrypted with it/,
    );
    expect(p.output()).not.toContain("store-key-test");
  });
  // A .env shared with a bitnami/redis container (its REDIS_PASSWORD) and with apps that read REDIS_HOST/REDIS_PORT.
  const BITNAMI_ENV = [
    "REDIS_HOST=redis",
    "REDIS_PORT=6379",
    "REDIS_PASSWORD=bitnami-pw-canary-Zq7",
    "ALLOW_EMPTY_PASSWORD=no",
  ];

  it("Redis parts without REDIS_URL (a .env shared with a Redis container): refused (exit 78), saying how to write REDIS_URL", async () => {
    const file = join(dir, "bitnami.env");
    writeFileSync(file, ["PORT=0", "METRICS_PORT=0", ...BITNAMI_ENV].join("\n"));
    const p = spawnServerProcess({}, [`--env-file=${file}`]);
    expect(await p.exited).toBe(78);
    const out = p.stderr();
    expect(out).toMatch(/^Invalid configuration:\n( {2}- .*\n){1}$/);
    expect(out).toContain(
      "Unknown settings REDIS_HOST, REDIS_PASSWORD, REDIS_PORT: this server connects to Redis by REDIS_URL alone.",
    );
    expect(out).toContain("REDIS_URL=redis://:<the password>@redis:6379/0");
    // Before: three lines "not a setting of this server", no word of REDIS_URL.
    expect(out).not.toContain("not a setting of this server");
    expect(p.output()).not.toContain("bitnami-pw-canary");
  });

  it("Redis parts beside REDIS_URL: another program's, ignored with a warning naming them (no value)", async () => {
    const file = join(dir, "bitnami-url.env");
    writeFileSync(
      file,
      [
        "PORT=0",
        "METRICS_PORT=0",
        "REDIS_URL=redis://127.0.0.1:6379/0",
        `REDIS_KEY_PREFIX=test-bitnami-${process.pid}:`,
        "HMAC_SECRET=bitnami-test-hmac-secret-0123456789-abcdef",
        ...BITNAMI_ENV,
      ].join("\n"),
    );
    const p = spawnServerProcess({}, [`--env-file=${file}`]);
    try {
      await expect(p.ready).resolves.toMatch(/^http:/);
      const warning = p
        .stdout()
        .split("\n")
        .find((l) => l.includes("REDIS_URL is where this server connects to Redis"));
      expect(JSON.parse(warning as string)).toMatchObject({
        level: "warn",
        settings: ["REDIS_HOST", "REDIS_PASSWORD", "REDIS_PORT"],
      });
      expect(p.output()).not.toContain("bitnami-pw-canary");
    } finally {
      await p.kill();
    }
  });

  // The standalone simulator reads the same .env and checks names as the server does, but it connects to no Redis:
  // the parts are neither refused nor warned about, with or without REDIS_URL (which it does not read either).
  // Before: without REDIS_URL it stopped (exit 78) with the server's advice to write a REDIS_URL it would not read.
  it.each([
    ["without REDIS_URL", []],
    ["beside REDIS_URL", ["REDIS_URL=redis://127.0.0.1:6379/0"]],
  ])(
    "the standalone simulator with a bitnami .env's Redis parts %s: starts, says nothing of them, no value",
    async (_name, extra) => {
      const file = join(dir, `simulator-bitnami-${extra.length}.env`);
      writeFileSync(file, ["SIMULATOR_PORT=0", ...extra, ...BITNAMI_ENV].join("\n"));
      const child = spawn(process.execPath, [`--env-file=${file}`, join(ROOT, "dist-test/simulator/main.js")], {
        env: { PATH: process.env.PATH ?? "" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (c: Buffer) => (output += c.toString()));
      child.stderr.on("data", (c: Buffer) => (output += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
      try {
        const started = await Promise.race([
          exited.then((code) => `exit ${code}`),
          new Promise<string>((resolve) =>
            child.stdout.on("data", () => {
              if (output.includes("AOPay simulator listening")) resolve("listening");
            }),
          ),
        ]);
        expect([started, output]).toEqual(["listening", expect.any(String)]);
        const url = /"url":"(http:\/\/[^"]+)"/.exec(output)?.[1];
        expect((await request(`${url}/`)).statusCode).toBeGreaterThanOrEqual(200);
        expect(output).not.toMatch(/REDIS_(HOST|PORT|PASSWORD)/);
        expect(output).not.toContain("bitnami-pw-canary");
        expect(output.split("\n").filter((l) => l.includes('"level":"warn"'))).toEqual([]);
      } finally {
        child.kill("SIGTERM");
        await exited;
      }
    },
  );
});
