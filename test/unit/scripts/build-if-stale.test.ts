import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * README.md's quick start: the first `npm start` compiles the server, later starts compile only what changed
 * (scripts/build-if-stale.js, npm start's prestart). Run on a copy of the script in a scratch project of one source
 * file (its ROOT is the folder above the script), with the repository's TypeScript: the real dist/ is never touched.
 * `--only server`: the explorer's Vite build is the same stamp logic and takes far longer.
 */
const REPO = join(__dirname, "../../..");

describe("scripts/build-if-stale.js", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "aopay-build-if-stale-"));
    mkdirSync(join(root, "scripts"));
    for (const file of ["build-if-stale.js", "build-lock.js", "check-node.js", "cli.js", "dev.js"])
      if (existsSync(join(REPO, "scripts", file)))
        copyFileSync(join(REPO, "scripts", file), join(root, "scripts", file));
    symlinkSync(join(REPO, "node_modules"), join(root, "node_modules"));
    mkdirSync(join(root, "src"));
    writeFileSync(join(root, "src/a.ts"), "export const a: number = 1;\n");
    const compilerOptions = { outDir: "dist", rootDir: "src", module: "commonjs", target: "es2022", types: [] };
    writeFileSync(join(root, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["src"] }));
    writeFileSync(join(root, "tsconfig.build.json"), JSON.stringify({ extends: "./tsconfig.json" }));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const build = () => {
    const run = spawnSync(process.execPath, [join(root, "scripts/build-if-stale.js"), "--only", "server"], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status).toBe(0);
    return { stdout: run.stdout, stderr: run.stderr };
  };
  /** The one line on stderr before a build (a silent first start looks hung): what, why, how long, and no more. */
  const announced = (why: string) =>
    `build: compiling the server into dist/ (${why}), about 10 s, longer on a busy machine; later starts skip it until a source changes\n`;

  it("compiles the first time, then nothing until a source changes", () => {
    const first = build();
    expect(first.stderr).toBe(announced("not built yet"));
    expect(first.stdout).toMatch(/^build: server \(dist\/\) built in \d+\.\d s\n$/);
    const compiled = statSync(join(root, "dist/a.js")).mtimeMs;

    // Nothing changed: no compile, no word, dist/ as it was.
    expect(build()).toEqual({ stdout: "", stderr: "" });
    expect(statSync(join(root, "dist/a.js")).mtimeMs).toBe(compiled);

    // Touched, its content the same: nothing to compile.
    const later = new Date(Date.now() + 10_000);
    utimesSync(join(root, "src/a.ts"), later, later);
    expect(build()).toEqual({ stdout: "", stderr: "" });

    // A source saved after the build: compiled again.
    writeFileSync(join(root, "src/a.ts"), "export const a: number = 3;\n");
    const again = build();
    expect(again.stderr).toBe(announced("sources changed since the last build"));
    expect(again.stdout).toMatch(/^build: server \(dist\/\) built in/);
    expect(statSync(join(root, "dist/a.js")).mtimeMs).toBeGreaterThan(compiled);
  });

  it("compiles a source whose time is older than the last build (a checkout, cp -p or tar of older files)", () => {
    build();
    // Another content, its time set an hour back: older than the stamp, yet not what dist/ was built from.
    writeFileSync(join(root, "src/a.ts"), "export const a: number = 2;\n");
    const earlier = new Date(Date.now() - 3_600_000);
    utimesSync(join(root, "src/a.ts"), earlier, earlier);
    const run = build();
    expect(run.stderr).toBe(announced("sources changed since the last build"));
    expect(readFileSync(join(root, "dist/a.js"), "utf8")).toContain("exports.a = 2;");
    // And a file removed (its folder's list changed, whatever the times): compiled again too.
    writeFileSync(join(root, "src/b.ts"), "export const b = 1;\n");
    build();
    rmSync(join(root, "src/b.ts"));
    utimesSync(join(root, "src"), earlier, earlier);
    expect(build().stderr).toBe(announced("sources changed since the last build"));
    expect(build()).toEqual({ stdout: "", stderr: "" });
  });

  it("without TypeScript (npm ci --omit=dev): a dist/ built from these sources starts; none, or a stale one, stops", () => {
    build();
    // The same project, its dependencies installed without dev ones: no node_modules/typescript.
    const prod = mkdtempSync(join(tmpdir(), "aopay-build-if-stale-prod-"));
    try {
      for (const entry of ["scripts", "src", "dist", "tsconfig.json", "tsconfig.build.json"])
        cpSync(join(root, entry), join(prod, entry), { recursive: true });
      mkdirSync(join(prod, "node_modules"));
      const start = () =>
        spawnSync(process.execPath, [join(prod, "scripts/build-if-stale.js"), "--only", "server"], {
          cwd: prod,
          encoding: "utf8",
        });
      // dist/ copied with its stamp, times all new: built from these contents, so nothing to compile.
      expect(start()).toMatchObject({ status: 0, stdout: "", stderr: "" });
      writeFileSync(join(prod, "src/a.ts"), "export const a: number = 4;\n");
      const stale = start();
      expect(stale.status).toBe(1);
      // One line saying what to do, not Node's stack for a missing module.
      expect(stale.stderr).toBe(
        "build: the server in dist/ is not up to date (sources changed since the last build) and TypeScript, a dev " +
          "dependency, is not installed here (`npm ci --omit=dev`): run `npm ci` to compile it, or bring a dist/ " +
          "built from these sources\n",
      );
      rmSync(join(prod, "dist"), { recursive: true });
      expect(start()).toMatchObject({ status: 1, stderr: expect.stringContaining("(not built yet)") });
    } finally {
      rmSync(prod, { recursive: true, force: true });
    }
  });

  it("jest's dist-test/ (test/global-setup.js) compiles a source whose time is older than its last build too", () => {
    mkdirSync(join(root, "test"), { recursive: true });
    copyFileSync(join(REPO, "test/global-setup.js"), join(root, "test/global-setup.js"));
    const setup = () => {
      const run = spawnSync(process.execPath, ["-e", "require('./test/global-setup.js')()"], {
        cwd: root,
        encoding: "utf8",
      });
      expect(run.status).toBe(0);
      return readFileSync(join(root, "dist-test/a.js"), "utf8");
    };
    writeFileSync(join(root, "src/a.ts"), "export const a: number = 5;\n");
    expect(setup()).toContain("exports.a = 5;");
    writeFileSync(join(root, "src/a.ts"), "export const a: number = 6;\n");
    const earlier = new Date(Date.now() - 3_600_000);
    utimesSync(join(root, "src/a.ts"), earlier, earlier);
    expect(setup()).toContain("exports.a = 6;");
  });

  /** Starts the script without waiting; resolves with its exit and output once it exits. */
  const started = () => {
    const child = spawn(process.execPath, [join(root, "scripts/build-if-stale.js"), "--only", "server"], { cwd: root });
    const out = { stdout: "", stderr: "" };
    child.stdout.on("data", (chunk: Buffer) => (out.stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (out.stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; at: number } & typeof out>((resolve) =>
      child.on("exit", (code) => resolve({ code, at: Date.now(), ...out })),
    );
    return { out, exited };
  };

  it("two starts at once (npm start beside npm run simulator): one compiles, the other waits and compiles nothing", async () => {
    // Two tsc writing one dist/ at once: the first to finish starts its server while the other rewrites the files
    // under it (seen: files read empty or cut short). The second waits for the first instead, then finds it fresh.
    rmSync(join(root, "dist"), { recursive: true, force: true });
    const first = started();
    while (!first.out.stderr.includes("build: compiling")) await new Promise((resolve) => setTimeout(resolve, 20));
    const second = started();
    const [a, b] = await Promise.all([first.exited, second.exited]);
    expect(a).toMatchObject({ code: 0, stderr: announced("not built yet") });
    expect(a.stdout).toMatch(/^build: server \(dist\/\) built in/);
    expect(b.code).toBe(0);
    expect(b.stderr).toMatch(/^build: waiting for another build of this folder to finish \(pid \d+\)\n$/);
    expect(b.stdout).toBe("");
    expect(b.at).toBeGreaterThanOrEqual(a.at - 50);
    expect(build()).toEqual({ stdout: "", stderr: "" });
  });

  it("a lock left by a build that died (its process gone) is taken over, not waited on for ever", () => {
    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    writeFileSync(join(root, ".build-if-stale.lock"), `${gone}\n`);
    rmSync(join(root, "dist"), { recursive: true, force: true });
    expect(build().stderr).toBe(announced("not built yet"));
    expect(() => statSync(join(root, ".build-if-stale.lock"))).toThrow();
  });

  /**
   * A process started in the scratch project, its output and exit watched: when it said each thing (`at`), so that
   * two builds' times can be compared. `args` after node; or `shell`, a package.json command run by `sh -c` as npm
   * runs it (node_modules/.bin on PATH).
   */
  const watched = (args: string[], shell?: string, detached = false) => {
    const env = { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH ?? ""}` };
    const child =
      shell === undefined
        ? spawn(process.execPath, args, { cwd: root, env, detached })
        : spawn("sh", ["-c", shell], { cwd: root, env });
    const out = { stdout: "", stderr: "", said: [] as { text: string; at: number }[] };
    const hear = (chunk: Buffer) => out.said.push({ text: chunk.toString(), at: Date.now() });
    child.stdout.on("data", (chunk: Buffer) => ((out.stdout += chunk.toString()), hear(chunk)));
    child.stderr.on("data", (chunk: Buffer) => ((out.stderr += chunk.toString()), hear(chunk)));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      child.on("exit", (code) => resolve({ code, at: Date.now() })),
    );
    /** When it first said `text`. */
    const when = (text: string) => {
      let heard = "";
      for (const { text: chunk, at } of out.said) if ((heard += chunk).includes(text)) return at;
      return undefined;
    };
    const until = async (text: string) => {
      while (!`${out.stdout}${out.stderr}`.includes(text)) {
        if (child.exitCode !== null) throw new Error(`exited before saying ${text}: ${out.stdout}${out.stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    return { child, out, exited, when, until };
  };
  it("two jest runs at once (test/global-setup.js): one compiles dist-test/, the other waits for it", async () => {
    // Before: no lock; each removed dist-test/ and compiled into it, under the other's suites.
    mkdirSync(join(root, "test"), { recursive: true });
    copyFileSync(join(REPO, "test/global-setup.js"), join(root, "test/global-setup.js"));
    writeFileSync(join(root, "src/a.ts"), "export const a: number = 7;\n");
    const setup = () => watched(["-e", "require('./test/global-setup.js')()"]);
    const runs = [setup(), setup()];
    const exits = await Promise.all(runs.map((r) => r.exited));
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
    const waited = runs.filter((r) => r.out.stderr.includes("build: waiting"));
    expect(waited).toHaveLength(1);
    expect(waited[0].out.stderr).toMatch(/\(pid \d+, jest's dist-test\/\)\n$/);
    expect(readFileSync(join(root, "dist-test/a.js"), "utf8")).toContain("exports.a = 7;");
    expect(() => statSync(join(root, ".dist-test.lock"))).toThrow();
  });

  it("what a waiter or a taker killed with SIGKILL left is removed at the next lock, a live one's never", () => {
    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    const beside = (rest: string) => join(root, `.build-if-stale.lock.${rest}`);
    // A waiter's own file and a taker's ticket, each of a process gone and of one alive (this one).
    writeFileSync(beside(String(gone)), `${gone}\n`);
    writeFileSync(beside("takeover-1-2"), `${gone}\n`);
    writeFileSync(beside(String(process.pid)), `${process.pid}\n`);
    writeFileSync(beside("takeover-3-4"), `${process.pid} npm run dev\n`);
    try {
      build();
      expect(existsSync(beside(String(gone)))).toBe(false);
      expect(existsSync(beside("takeover-1-2"))).toBe(false);
      expect(existsSync(beside(String(process.pid)))).toBe(true);
      expect(existsSync(beside("takeover-3-4"))).toBe(true);
    } finally {
      for (const rest of [String(process.pid), "takeover-3-4"]) rmSync(beside(rest), { force: true });
    }
  });

  const pkgScript = (name: string) =>
    (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts[name];
  /**
   * That two builds did not run at once: the later one said "compiling" after the earlier one had exited (50 ms for
   * the order in which this process hears the two).
   */
  const oneAfterTheOther = (spans: { began: number; ended: number }[]) => {
    const [earlier, later] = [...spans].sort((x, y) => x.began - y.began);
    expect(later.began).toBeGreaterThanOrEqual(earlier.ended - 50);
  };

  it("two `npm run build` at once (package.json's own command): one builds, the other waits for it", async () => {
    const build = pkgScript("build");
    const first = watched([], build);
    const second = watched([], build);
    const [a, b] = await Promise.all([first.exited, second.exited]);
    expect([a.code, b.code]).toEqual([0, 0]);
    // Before: `tsc -p tsconfig.build.json`, no lock, both compiling into one dist/ at once, neither saying a word.
    const [waiter, other] = second.out.stderr.includes("waiting") ? [second, a] : [first, b];
    expect(waiter.out.stderr).toMatch(/^build: waiting for another build of this folder to finish \(pid \d+\)\n/);
    oneAfterTheOther([
      { began: waiter.when("build: compiling")!, ended: Infinity },
      { began: -Infinity, ended: other.at },
    ]);
    expect(() => statSync(join(root, ".build-if-stale.lock"))).toThrow();
  });

  it("`npm run build` while `npm start` builds: waits for it, then builds (never both writing dist/)", async () => {
    rmSync(join(root, "dist"), { recursive: true, force: true });
    const start = watched([join(root, "scripts/build-if-stale.js"), "--only", "server"]);
    await start.until("build: compiling");
    const build = watched([], pkgScript("build"));
    const [s, b] = await Promise.all([start.exited, build.exited]);
    expect([s.code, b.code]).toEqual([0, 0]);
    expect(build.out.stderr).toMatch(/^build: waiting for another build/);
    oneAfterTheOther([
      { began: start.when("build: compiling")!, ended: s.at },
      { began: build.when("build: compiling")!, ended: b.at },
    ]);
  });

  it("`npm run dev` holds the lock while it runs (its tsc --watch rewrites dist/): a start beside it waits", async () => {
    writeFileSync(join(root, "src/index.ts"), "setInterval(() => undefined, 1000);\n");
    // The explorer as built (a stamp of this project's inputs, none): dev builds the server alone, as with --only.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { fingerprint, writeStamp } = require(join(root, "scripts/build-if-stale.js")) as {
      fingerprint: (inputs: string[], skip?: string[]) => string;
      writeStamp: (stamp: string, inputs: string, began: number) => void;
    };
    const explorer = join(root, "explorer");
    mkdirSync(join(explorer, "dist"), { recursive: true });
    const inputs = fingerprint([explorer, join(root, "package-lock.json")], [join(explorer, "dist")]);
    writeStamp(join(explorer, "dist/.built"), inputs, Date.now());
    // Its own process group: its tsc and server are ended with it whatever happens here.
    const dev = watched([join(root, "scripts/dev.js")], undefined, true);
    try {
      await dev.until("Watching for file changes");
      const start = watched([join(root, "scripts/build-if-stale.js"), "--only", "server"]);
      await start.until("build: waiting for another build of this folder to finish");
      // Before: dev let the lock go after its first build, and this start ran beside its tsc --watch.
      expect(start.out.stderr).toMatch(/\(pid \d+, npm run dev\)\n$/);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(start.child.exitCode).toBeNull();
      dev.child.kill("SIGTERM");
      const [d, s] = await Promise.all([dev.exited, start.exited]);
      expect(s.code).toBe(0);
      expect(s.at).toBeGreaterThanOrEqual(d.at - 50);
    } finally {
      try {
        process.kill(-dev.child.pid!, "SIGKILL");
      } catch {
        // Ended already, with its children.
      }
      rmSync(join(root, "src/index.ts"), { force: true });
    }
  });

  it("a holder killed with SIGKILL mid-build: its tsc, still writing dist/, holds the lock until it ends", async () => {
    // kill -9 ends the build script, not the tsc it started: that tsc, orphaned, goes on writing dist/. Before, the
    // lock named the script alone, a waiter judged it left behind and its own tsc wrote dist/ beside the orphan.
    const bigger = Array.from({ length: 400 }, (_, i) => `export const v${i}: number = ${i};`).join("\n");
    writeFileSync(join(root, "src/many.ts"), `${bigger}\n`);
    try {
      const holder = watched([join(root, "scripts/build-if-stale.js"), "--only", "server", "--force"]);
      await holder.until("build: compiling");
      let tsc: number | undefined;
      while (tsc === undefined) {
        const found = spawnSync("pgrep", ["-P", String(holder.child.pid)], { encoding: "utf8" }).stdout.trim();
        if (found !== "") tsc = Number(found.split("\n")[0]);
        else await new Promise((resolve) => setTimeout(resolve, 5));
      }
      holder.child.kill("SIGKILL");
      await holder.exited;
      const orphanAlive = () => {
        try {
          process.kill(tsc, 0);
          return true;
        } catch {
          return false;
        }
      };
      expect(orphanAlive()).toBe(true);
      const waiter = watched([join(root, "scripts/build-if-stale.js"), "--only", "server", "--force"]);
      let orphanEnded = Infinity;
      const watching = (async () => {
        while (orphanAlive()) await new Promise((resolve) => setTimeout(resolve, 5));
        orphanEnded = Date.now();
      })();
      const w = await waiter.exited;
      await watching;
      expect(w.code).toBe(0);
      expect(waiter.when("build: compiling")!).toBeGreaterThanOrEqual(orphanEnded - 50);
      expect(() => statSync(join(root, ".build-if-stale.lock"))).toThrow();
    } finally {
      rmSync(join(root, "src/many.ts"), { force: true });
    }
  });

  it("two waiters taking over one dead holder's lock at the same instant: one builds at a time", async () => {
    // Widened: each removal of the lock waits 300 ms (the preload), as a descheduled waiter would between judging the
    // lock left behind and removing it. Before: both judged it dead, both removed it (the second removing the lock
    // the first had just taken) and both built at once.
    const preload = join(REPO, "test/fixtures/preload/slow-lock-removal.cjs");
    for (let round = 0; round < 2; round++) {
      const gone = spawnSync(process.execPath, ["-e", ""]).pid;
      writeFileSync(join(root, ".build-if-stale.lock"), `${gone}\n`);
      const args = ["--require", preload, join(root, "scripts/build-if-stale.js"), "--only", "server", "--force"];
      const takers = [watched(args), watched(args)];
      const exits = await Promise.all(takers.map((t) => t.exited));
      expect(exits.map((e) => e.code)).toEqual([0, 0]);
      const spans = takers.map((t, i) => ({ began: t.when("build: compiling")!, ended: exits[i].at }));
      expect(spans.every((span) => span.began !== undefined)).toBe(true);
      oneAfterTheOther(spans);
      expect(() => statSync(join(root, ".build-if-stale.lock"))).toThrow();
    }
    // Four builds one after another: about 20 s on a quiet CI box, over jest's 30 s once at a load of 12.
  }, 120_000);
});
