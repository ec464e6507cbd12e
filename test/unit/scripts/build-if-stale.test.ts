import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
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
    for (const file of ["build-if-stale.js", "check-node.js"])
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
    `build: compiling the server into dist/ (${why}), about 10 s; later starts skip it until a source changes\n`;

  it("compiles the first time, then nothing until a source is newer than the last build", () => {
    const first = build();
    expect(first.stderr).toBe(announced("not built yet"));
    expect(first.stdout).toMatch(/^build: server \(dist\/\) built in \d+\.\d s\n$/);
    const compiled = statSync(join(root, "dist/a.js")).mtimeMs;

    // Nothing changed: no compile, no word, dist/ as it was.
    expect(build()).toEqual({ stdout: "", stderr: "" });
    expect(statSync(join(root, "dist/a.js")).mtimeMs).toBe(compiled);

    // A source saved after the build: compiled again.
    const later = new Date(Date.now() + 10_000);
    utimesSync(join(root, "src/a.ts"), later, later);
    const again = build();
    expect(again.stderr).toBe(announced("sources changed since the last build"));
    expect(again.stdout).toMatch(/^build: server \(dist\/\) built in/);
    expect(statSync(join(root, "dist/a.js")).mtimeMs).toBeGreaterThan(compiled);
  });
});
