import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registrationInput } from "../helpers/identifiers";
import { REGISTER_CIBIL_CUSTOMER } from "../helpers/operations";
import { deletePrefixes, itWithRedis, REDIS_URL, uniquePrefix } from "../helpers/redis";
import { type ServerProcess, spawnServerProcess, startServerProcess } from "../helpers/server-process";
import { postGraphQL } from "../helpers/stack";

/** A production configuration that starts on loopback (AOPAY_BASE_URL is not called before a request). */
const PRODUCTION = {
  NODE_ENV: "production",
  AOPAY_BASE_URL: "http://127.0.0.1:1",
  AOPAY_REGISTRATION_ID: "AOP-554",
  AOPAY_COMPANY_CODE: "CMP1045",
  HMAC_SECRET: "debug-switch-test-hmac-secret-0123456789",
  API_KEYS: "app:" + "a".repeat(64),
};

/** Where a server started with trace events writes them (not the repository, Node's default, the current folder). */
const TRACE_DIR = mkdtempSync(join(tmpdir(), "debug-switches-trace-"));
const TRACE_FILES = join(TRACE_DIR, "node_trace.${rotation}.log");
afterAll(() => rmSync(TRACE_DIR, { recursive: true, force: true }));

/** Exit code, or "ready" when the server started instead. */
async function startOrExit(p: ServerProcess): Promise<number | null | "ready"> {
  return Promise.race([p.ready.then(() => "ready" as const), p.exited]);
}

/**
 * The debugging switches an operator turns on (docs/operations.md "Debugging switches"): what each printed went to
 * stderr raw, past the logger's scrubber. Measured against the built server with every mutation: `DEBUG=ioredis:*`
 * wrote REDIS_URL's password (AUTH's argument); `NODE_DEBUG=stream` the first 50 bytes of every chunk read, in hex (a
 * client's variables, an AOPay answer's access token); Node's report every environment variable, HMAC_SECRET first;
 * `DEBUG_COLORS=true` ANSI escapes in the debug lines' `msg`; `--trace-event-categories=node.http` each request's URL
 * (a GET's variables) to a file. `--inspect*` and SIGUSR1 opened Node's inspector, a port that runs code.
 */
describe("debugging switches (src/early-faults.ts, config.ts rawDebugSwitches)", () => {
  const prefixes: string[] = [];
  afterAll(async () => {
    if (REDIS_URL) await deletePrefixes(prefixes);
  });

  const colourCases: Array<[string, Record<string, string>]> = [
    ["", {}],
    // Before: `%o` coloured what it inspected, `auth([ \u001b[32m'[REDACTED]'\u001b[39m ])` in the JSON `msg`.
    [" (DEBUG_COLORS=true: no ANSI escape in a line)", { DEBUG_COLORS: "true" }],
  ];
  for (const [what, colours] of colourCases)
    itWithRedis(
      `DEBUG=ioredis:*${what}: every line through the logger, scrubbed; REDIS_URL's password nowhere`,
      async () => {
        const url = new URL(REDIS_URL as string);
        // The canary is the URL's password: the test Redis's own, or one it is given (a Redis with none only warns).
        if (url.password === "") url.password = "redisPwCanary0417";
        const password = decodeURIComponent(url.password);
        const prefix = uniquePrefix();
        prefixes.push(prefix);
        const p = startServerProcess({
          NODE_ENV: "development",
          LOG_LEVEL: "debug",
          DEBUG: "ioredis:*",
          REDIS_URL: url.href,
          REDIS_KEY_PREFIX: prefix,
          HMAC_SECRET: "debug-switch-test-hmac-secret-0123456789",
          ...colours,
        });
        try {
          const base = await p.ready;
          const res = await postGraphQL(`${base}/graphql`, {
            query: REGISTER_CIBIL_CUSTOMER,
            variables: { input: registrationInput() },
          });
          expect(res.status).toBe(200);
          await p.printed("regmobiles:");
        } finally {
          await p.kill();
        }
        expect(p.output()).not.toContain(password);
        // Before: `2026-… ioredis:redis write command[…]: 0 -> auth([ '<password>' ])` on stderr.
        expect(p.stderr()).not.toMatch(/ioredis:/);
        const lines = p
          .stdout()
          .split("\n")
          .filter((line) => line !== "")
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        const debug = lines.filter((line) => line.component === "debug");
        expect(debug.length).toBeGreaterThan(0);
        expect(debug.every((line) => line.level === "debug" && String(line.namespace).startsWith("ioredis:"))).toBe(
          true,
        );
        expect(debug.map((line) => line.msg)).toContainEqual(expect.stringMatching(/-> auth\(\[ '\[REDACTED\]' \]\)$/));
        expect(debug.filter((line) => String(line.msg).includes("\u001b"))).toEqual([]);
      },
      30_000,
    );

  it.each([
    ["NODE_DEBUG=stream", { NODE_DEBUG: "stream" }, "NODE_DEBUG=stream"],
    [
      "--heapsnapshot-signal in NODE_OPTIONS",
      { NODE_OPTIONS: "--heapsnapshot-signal=SIGUSR2" },
      "--heapsnapshot-signal",
    ],
    // Before: production started with Node's inspector listening (a debugger's port: code run in the process).
    ["--inspect in NODE_OPTIONS", { NODE_OPTIONS: "--inspect=127.0.0.1:0" }, "--inspect"],
    ["--inspect-port in NODE_OPTIONS", { NODE_OPTIONS: "--inspect-port=127.0.0.1:0" }, "--inspect-port"],
    // Before: production started; an uncaught fault was printed raw to stderr before our listener, then a core dump.
    [
      "--abort-on-uncaught-exception in NODE_OPTIONS",
      { NODE_OPTIONS: "--abort-on-uncaught-exception" },
      "--abort-on-uncaught-exception",
    ],
    // Before: production started, and node.http wrote each request's URL (a GET's variables) to the trace file.
    [
      "--trace-event-categories in NODE_OPTIONS",
      { NODE_OPTIONS: `--trace-event-categories=node.http --trace-event-file-pattern=${TRACE_FILES}` },
      "--trace-event-categories",
    ],
  ])(
    "production refuses %s (exit 78) unless ALLOW_RAW_DEBUG_OUTPUT=true, which warns",
    async (_what, env, named) => {
      const refused = startServerProcess({ ...PRODUCTION, ...env });
      try {
        expect(await startOrExit(refused)).toBe(78);
      } finally {
        await refused.kill();
      }
      expect(refused.output()).toContain(`${named}: writes what no scrubber reads`);
      expect(refused.output()).toContain("ALLOW_RAW_DEBUG_OUTPUT=true");

      const accepted = startServerProcess({ ...PRODUCTION, ...env, ALLOW_RAW_DEBUG_OUTPUT: "true" });
      try {
        expect(await startOrExit(accepted)).toBe("ready");
      } finally {
        await accepted.kill();
      }
      const warning = accepted
        .stdout()
        .split("\n")
        .find((line) => line.includes('"switches"'));
      expect(JSON.parse(warning ?? "{}")).toMatchObject({ level: "warn", switches: [named] });
    },
    30_000,
  );

  it("production refuses V8's output flags and an options file in Node's arguments, and --env-file's NODE_OPTIONS", async () => {
    const dir = mkdtempSync(join(tmpdir(), "debug-switches-env-"));
    const envFile = join(dir, "inspect.env");
    writeFileSync(envFile, 'NODE_OPTIONS="--inspect=127.0.0.1:0"\n');
    const optionsFile = join(dir, "node.config.json");
    writeFileSync(optionsFile, JSON.stringify({ nodeOptions: { "heapsnapshot-signal": "SIGUSR2" } }));
    const env = { ...PRODUCTION, PORT: "0", HOST: "127.0.0.1", METRICS_PORT: "0" };
    // Before: `--trace-deopt-verbose` started, printing the strings held in optimized frames to stdout (measured).
    // `--env-file`: Node applies its NODE_OPTIONS and process.env holds it (held before this change too).
    for (const [args, named] of [
      [["--trace-deopt-verbose"], "--trace-deopt-verbose"],
      [[`--env-file=${envFile}`], "--inspect"],
      // Before: started, a heap dump on SIGUSR2, though neither execArgv nor NODE_OPTIONS named the flag.
      [[`--experimental-config-file=${optionsFile}`], "--experimental-config-file"],
    ] as const) {
      const refused = spawnServerProcess(env, [...args]);
      try {
        expect([args, await startOrExit(refused)]).toEqual([args, 78]);
      } finally {
        await refused.kill();
      }
      expect(refused.output()).toContain(`${named}: writes what no scrubber reads`);
    }
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("production takes SIGUSR1 (one warn line, no inspector); with ALLOW_RAW_DEBUG_OUTPUT=true Node opens it", async () => {
    const p = startServerProcess(PRODUCTION);
    try {
      const base = await p.ready;
      p.child.kill("SIGUSR1");
      await p.printed('"signal":"SIGUSR1"');
      // Still serving: the signal changed nothing else.
      expect((await fetch(`${base}/graphql`, { method: "POST" })).status).toBeGreaterThanOrEqual(400);
    } finally {
      await p.kill();
    }
    // Before: `Debugger listening on ws://127.0.0.1:9229/…` on stderr (or, the port taken, that it failed).
    expect(p.output()).not.toMatch(/debugger|inspector on/i);
    const warnings = p
      .stdout()
      .split("\n")
      .filter((line) => line.includes('"signal":"SIGUSR1"'));
    expect(warnings.map((line) => JSON.parse(line) as unknown)).toEqual([
      expect.objectContaining({ level: "warn", msg: expect.stringContaining("ALLOW_RAW_DEBUG_OUTPUT=true") }),
    ]);

    // Node's own behaviour, kept where asked for: the port is `--inspect-port`'s (0: any free one, not 9229).
    const allowed = startServerProcess({
      ...PRODUCTION,
      ALLOW_RAW_DEBUG_OUTPUT: "true",
      NODE_OPTIONS: "--inspect-port=127.0.0.1:0",
    });
    try {
      await allowed.ready;
      allowed.child.kill("SIGUSR1");
      await allowed.printed("Debugger listening on ws://127.0.0.1:");
    } finally {
      await allowed.kill();
    }
  }, 30_000);

  it("development starts with NODE_DEBUG=stream and says once that its output is not scrubbed", async () => {
    const p = startServerProcess({ NODE_ENV: "development", NODE_DEBUG: "stream" });
    try {
      expect(await startOrExit(p)).toBe("ready");
    } finally {
      await p.kill();
    }
    const warnings = p
      .stdout()
      .split("\n")
      .filter((line) => line.includes('"switches":["NODE_DEBUG=stream"]'));
    expect(warnings).toHaveLength(1);
  }, 30_000);

  it("Node's report (--report-on-signal) leaves out the environment: no secret in it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "report-"));
    const secret = "report-canary-hmac-secret-0123456789-abcdefgh";
    const p = startServerProcess({
      NODE_ENV: "development",
      HMAC_SECRET: secret,
      NODE_OPTIONS: `--report-on-signal --report-signal=SIGUSR2 --report-directory=${dir}`,
    });
    try {
      await p.ready;
      p.child.kill("SIGUSR2");
      await p.printed("Node.js report completed");
      const [file] = readdirSync(dir);
      const report = JSON.parse(readFileSync(join(dir, file), "utf8")) as Record<string, unknown>;
      expect(report).toHaveProperty("javascriptStack");
      // Before: `environmentVariables` held every variable, HMAC_SECRET's value among them.
      expect(report).not.toHaveProperty("environmentVariables");
      expect(JSON.stringify(report)).not.toContain(secret);
    } finally {
      await p.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
