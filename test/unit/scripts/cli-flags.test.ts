import { spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Every script package.json runs with the arguments after `npm run <name> --` (scripts/cli.js): `-h`/`--help` print
 * its usage on stdout and exit 0, an unknown flag says so with the usage on stderr and exits 2, and neither does
 * what the script does. `npm run api-key -- --help` made a key for a client named `--help`; `npm run dev -- --help`,
 * `npm start -- --help` and `npm run simulator -- --help` started a server. Each runs as a real process (its group
 * killed if it has not ended in 20 s: a server that started); what it would have done is checked not to have
 * happened (a key printed, a folder built, a file written, a port opened).
 */
const REPO = join(__dirname, "../../..");

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(argv: string[], cwd: string, env: Record<string, string> = {}): Promise<Ran> {
  const child = spawn(process.execPath, argv, {
    cwd,
    detached: true,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const killer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 20_000);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe("the arguments of every script package.json runs", () => {
  let scratch: string;
  /** A scratch project for the scripts that build (build-if-stale, dev): the real dist/ is never touched. */
  let project: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), "aopay-cli-flags-"));
    project = join(scratch, "project");
    mkdirSync(join(project, "scripts"), { recursive: true });
    for (const file of ["build-if-stale.js", "build-lock.js", "check-node.js", "cli.js", "dev.js"])
      if (existsSync(join(REPO, "scripts", file)))
        copyFileSync(join(REPO, "scripts", file), join(project, "scripts", file));
    symlinkSync(join(REPO, "node_modules"), join(project, "node_modules"));
    mkdirSync(join(project, "src"));
    writeFileSync(join(project, "src/index.ts"), "setInterval(() => undefined, 1000);\n");
    const compilerOptions = { outDir: "dist", rootDir: "src", module: "commonjs", target: "es2022", types: [] };
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["src"] }));
    writeFileSync(join(project, "tsconfig.build.json"), JSON.stringify({ extends: "./tsconfig.json" }));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** Nothing built in the scratch project, nothing written in scratch/out. */
  const nothingBuilt = () => {
    expect(existsSync(join(project, "dist"))).toBe(false);
    expect(existsSync(join(scratch, "out"))).toBe(false);
  };
  const script = (name: string) => join(REPO, "scripts", name);
  const dist = (name: string) => join(REPO, "dist-test", name);

  /** [npm script, argv before the flag, cwd, env, a check that it did nothing]. */
  const SCRIPTS: [string, () => string[], () => string, Record<string, string>, (ran: Ran) => void][] = [
    ["api-key", () => [script("api-key.js")], () => REPO, {}, (r) => expect(r.stdout).not.toContain("aopk_")],
    ["customer-ref", () => [script("customer-ref.js")], () => REPO, { HMAC_SECRET: "x".repeat(40) }, () => {}],
    [
      "explorer:build",
      () => [join(project, "scripts/build-if-stale.js"), "--only", "server", "--force"],
      () => project,
      {},
      nothingBuilt,
    ],
    ["dev", () => [join(project, "scripts/dev.js")], () => project, {}, nothingBuilt],
    ["client:build", () => [script("client-build.js"), "--out", join(scratch, "out")], () => REPO, {}, nothingBuilt],
    ["client:pack", () => [script("client-pack.js"), "--out", join(scratch, "out")], () => REPO, {}, nothingBuilt],
    [
      "schema:check",
      () => [script("schema-check.js")],
      () => REPO,
      {},
      (r) => expect(r.stdout).not.toContain("schema:check:"),
    ],
    ["layers", () => [script("import-layers.js")], () => REPO, {}, (r) => expect(r.stdout).not.toContain("circles")],
    ["codegen:check", () => [script("codegen-check.js")], () => REPO, {}, () => {}],
    ["config:docs", () => [script("config-docs.js")], () => REPO, {}, (r) => expect(r.stdout).not.toContain("wrote")],
    ["soak", () => [script("soak.js"), "--requests", "0"], () => REPO, {}, () => {}],
    ["soak:memory", () => [script("memory-soak.js")], () => REPO, {}, () => {}],
    ["bench:callgrind", () => [join(REPO, "bench/callgrind.js"), "--no-build"], () => REPO, {}, () => {}],
    ["bench:syscalls", () => [join(REPO, "bench/syscalls.js"), "--no-build"], () => REPO, {}, () => {}],
    ["start", () => [dist("index.js")], () => REPO, { PORT: "0", METRICS_PORT: "0" }, () => {}],
    ["simulator", () => [dist("simulator/main.js")], () => REPO, { SIMULATOR_PORT: "0" }, () => {}],
    [
      "schema:emit",
      () => [dist("emit-schema.js")],
      () => scratch,
      {},
      () => expect(existsSync(join(scratch, "schema"))).toBe(false),
    ],
  ];

  describe.each(SCRIPTS)("npm run %s", (_name, argv, cwd, env, didNothing) => {
    it.each(["--help", "-h"])("%s: the usage on stdout, exit 0, nothing done", async (flag) => {
      const ran = await run([...argv(), flag], cwd(), env);
      expect(ran).toMatchObject({ code: 0, stderr: "" });
      expect(ran.stdout).toMatch(/^usage: /);
      didNothing(ran);
    });

    it("an unknown flag: said, with the usage, on stderr; exit 2, nothing done", async () => {
      const ran = await run([...argv(), "--bogus-flag"], cwd(), env);
      expect(ran.code).toBe(2);
      // customer-ref's flag unshown: a mistyped argument there may be a customer's identifier.
      const said =
        _name === "customer-ref"
          ? /^an unknown flag, or a flag without its value \(the arguments are not shown\)\nusage: /
          : /^Unknown option '--bogus-flag'.*\nusage: /s;
      expect(ran.stderr).toMatch(said);
      expect(_name === "customer-ref" && ran.stderr.includes("bogus")).toBe(false);
      expect(ran.stdout).toBe("");
      didNothing(ran);
    });

    // A setting written after the command instead of before it (`npm start -- HMAC_SECRET=…`, a container's
    // command): parseArgs said `Unexpected argument 'HMAC_SECRET=…'`, the secret whole on stderr, a log store's.
    const takesArguments = ["api-key", "customer-ref"].includes(_name);
    (takesArguments ? it.skip : it)("an argument where none is taken: refused, exit 2, not quoted", async () => {
      const ran = await run([...argv(), "--", "HMAC_SECRET=s3cr3t-in-argv"], cwd(), env);
      expect(ran.code).toBe(2);
      expect(ran.stderr).toMatch(/^this command takes no arguments \(not shown: .*\)\nusage: /s);
      expect(`${ran.stdout}${ran.stderr}`).not.toContain("s3cr3t");
      didNothing(ran);
    });
  });

  it.each(["client-build.js", "client-pack.js"])(
    "%s --out= (an empty value): refused, exit 2; the folder it was run in is not removed",
    async (file) => {
      // parseArgs takes `--out=` as the value "": path.resolve("") is the working directory, which client:build
      // removed whole before building into it (npm runs scripts in the checkout's root: the checkout).
      const cwd = mkdtempSync(join(tmpdir(), "aopay-cli-empty-"));
      writeFileSync(join(cwd, "sentinel"), "");
      try {
        const ran = await run([script(file), "--out="], cwd);
        expect(ran.code).toBe(2);
        expect(ran.stderr).toMatch(/^Option '--out' needs a value, not an empty one\nusage: /);
        expect(existsSync(join(cwd, "sentinel"))).toBe(true);
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    },
  );

  it("api-key: a value starting with '-' is refused, after `--` too (`-- --help` made a key named --help)", async () => {
    for (const args of [
      ["--", "--help"],
      ["--", "-svc"],
      ["--", "-h"],
    ]) {
      const ran = await run([script("api-key.js"), ...args], REPO);
      expect(ran.code).toBe(2);
      expect(ran.stderr).toMatch(/^a value may not start with '-' \(not shown\).*\nusage: npm run api-key/);
      expect(ran.stdout).toBe("");
    }
    // A client id as usual, after `--` or not: a key made.
    for (const args of [["--", "svc-1"], ["svc-1"]]) {
      const ran = await run([script("api-key.js"), ...args], REPO);
      expect(ran.code).toBe(0);
      expect(ran.stdout).toMatch(/^ {2}svc-1:[0-9a-f]{64}$/m);
    }
    // A second client id: refused, nothing made.
    const two = await run([script("api-key.js"), "a", "b"], REPO);
    expect(two.code).toBe(2);
    expect(two.stdout).not.toContain("aopk_");
    expect(readdirSync(scratch)).toEqual(["project"]);
  });

  /**
   * [npm script, a flag taking a value, a value for it, argv before the flags, cwd, env]: every such flag of every
   * script. A folder's value is scratch/out, which nothingBuilt checks (the same flag twice once built into it).
   */
  const out = () => join(scratch, "out");
  const VALUED: [string, string, () => string, () => string[], () => string, Record<string, string>][] = [
    ["client:build", "out", out, () => [script("client-build.js")], () => REPO, {}],
    ["client:pack", "out", out, () => [script("client-pack.js")], () => REPO, {}],
    ["layers", "src", out, () => [script("import-layers.js")], () => REPO, {}],
    ["schema:check", "baseline", out, () => [script("schema-check.js")], () => REPO, {}],
    ["schema:check", "schema", out, () => [script("schema-check.js")], () => REPO, {}],
    [
      "customer-ref",
      "consent",
      () => "svc",
      () => [script("customer-ref.js")],
      () => REPO,
      { HMAC_SECRET: "x".repeat(40) },
    ],
    ["explorer:build", "only", () => "server", () => [join(project, "scripts/build-if-stale.js")], () => project, {}],
    ["bench:callgrind", "dist", out, () => [join(REPO, "bench/callgrind.js"), "--no-build"], () => REPO, {}],
    ["bench:syscalls", "requests", () => "0", () => [join(REPO, "bench/syscalls.js"), "--no-build"], () => REPO, {}],
    ["soak", "requests", () => "0", () => [script("soak.js")], () => REPO, {}],
    ["soak:memory", "sends", () => "0", () => [script("memory-soak.js")], () => REPO, {}],
  ];

  // parseArgs kept the last of `--out a --out b` silently: which of two folders was meant is not the script's to guess.
  it.each(VALUED)(
    "%s --%s given twice: refused, naming it; exit 2, nothing done",
    async (_n, flag, value, argv, cwd, env) => {
      for (const twice of [
        [`--${flag}`, value(), `--${flag}`, value()],
        [`--${flag}=${value()}`, `--${flag}`, value()],
      ]) {
        const ran = await run([...argv(), ...twice], cwd(), env);
        expect(ran.code).toBe(2);
        expect(ran.stderr).toMatch(new RegExp(`^Option '--${flag}' given more than once: give it once\\nusage: `));
        expect(ran.stdout).toBe("");
        nothingBuilt();
      }
    },
  );

  it.each(VALUED)(
    "%s --%s=--help (a flag as its value): refused, not shown; exit 2",
    async (_n, flag, _v, argv, cwd, env) => {
      const ran = await run([...argv(), `--${flag}=--help`], cwd(), env);
      expect(ran.code).toBe(2);
      expect(ran.stderr).toMatch(/^a value may not start with '-' \(not shown\)/);
      expect(ran.stderr).not.toContain("--help");
      expect(ran.stdout).toBe("");
      expect(existsSync(join(cwd(), "--help"))).toBe(false);
      nothingBuilt();
    },
  );
});
