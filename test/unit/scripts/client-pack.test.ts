import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { docSnippets } from "../../helpers/doc-snippets";

const run = promisify(execFile);
const ROOT = join(__dirname, "../../..");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
const FIXTURE = join(ROOT, "test/fixtures/client-consumer");

/**
 * The tarball `npm run client:pack` writes, extracted into an app outside the repository as `npm install <tgz>`
 * extracts it, then type-checked under the tsconfig settings apps are found with (docs/clients.md "Installing the
 * client in an app"): the docs' examples as pasted and the consumers of test/fixtures/client-consumer. Offline: the
 * app's other packages are the repository's node_modules, linked one folder up. TypeScript is the repository's.
 *
 * `module: commonjs` with no moduleResolution is TypeScript 5's node10 resolution, which ignores `exports`: before
 * the manifest's `typesVersions`, "/react" and "/sdk" had no types there (TS2307).
 */
describe("npm run client:pack: the tarball in an app, under common tsconfig settings and both module formats", () => {
  let work: string;
  let app: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "aopay-client-tsconfig-"));
    app = join(work, "app");
    const tgz = join(work, "aopay-graphql-client.tgz");
    await run(process.execPath, [join(ROOT, "scripts/client-pack.js"), "--out", tgz], { cwd: ROOT });
    const installed = join(app, "node_modules/@aopay-graphql/client");
    mkdirSync(installed, { recursive: true });
    await run("tar", ["-xzf", tgz, "-C", installed, "--strip-components=1"]);
    symlinkSync(join(ROOT, "node_modules"), join(work, "node_modules"), "dir");

    // A Node service ("type": "commonjs", npm init's) with a CommonJS consumer, and an ES-module folder for the
    // docs' Node examples (.mts, top-level await) and the same consumer as .mts.
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "commonjs" }));
    mkdirSync(join(app, "cjs"));
    copyFileSync(join(FIXTURE, "node-consumer.ts"), join(app, "cjs/node-consumer.ts"));
    mkdirSync(join(app, "esm"));
    writeFileSync(join(app, "esm/package.json"), JSON.stringify({ type: "module" }));
    copyFileSync(join(FIXTURE, "node-consumer.ts"), join(app, "esm/node-consumer.mts"));
    // A React app: the fixture and the docs' React files, each page's in its own folder (they import each other).
    mkdirSync(join(app, "react"));
    copyFileSync(join(FIXTURE, "react-consumer.tsx"), join(app, "react/react-consumer.tsx"));
    for (const snippet of docSnippets(ROOT)) {
      const dir = join(app, snippet.lang === "ts" ? "esm" : "react", snippet.page.replace(/[/.]/g, "-"));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, snippet.file), snippet.code);
    }
  }, 60_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const NODE = { target: "ES2022", lib: ["ES2022"], strict: true, noEmit: true, skipLibCheck: true, types: ["node"] };
  const REACT = { ...NODE, lib: ["ES2022", "DOM", "DOM.Iterable"], jsx: "react-jsx", types: [] };
  // [name, compilerOptions, what it compiles]. CommonJS (node10) cannot compile the ES-module examples (top-level
  // await), so it gets the CommonJS consumer; the React files import "./SendOtp" without extension, as a bundler
  // app does, so they run under bundler resolution and under node10.
  const SETTINGS: [string, Record<string, unknown>, string[]][] = [
    ["node: module commonjs (node10 resolution)", { ...NODE, module: "commonjs" }, ["cjs"]],
    ["node: module node16", { ...NODE, module: "node16", moduleResolution: "node16" }, ["cjs", "esm"]],
    ["node: module nodenext", { ...NODE, module: "nodenext", moduleResolution: "nodenext" }, ["cjs", "esm"]],
    ["node: module esnext, bundler", { ...NODE, module: "esnext", moduleResolution: "bundler" }, ["esm"]],
    ["react: module esnext, bundler", { ...REACT, module: "esnext", moduleResolution: "bundler" }, ["react"]],
    ["react: module preserve, bundler", { ...REACT, module: "preserve", moduleResolution: "bundler" }, ["react"]],
    ["react: module commonjs (node10 resolution)", { ...REACT, module: "commonjs" }, ["react"]],
  ];

  it.each(SETTINGS)(
    "%s",
    async (name, compilerOptions, folders) => {
      const project = join(app, `tsconfig.${name.replace(/\W+/g, "-")}.json`);
      writeFileSync(project, JSON.stringify({ compilerOptions, include: folders.map((f) => `${f}/**/*`) }));
      const { errors, listed } = await run(process.execPath, [TSC, "-p", project, "--listFiles"], { cwd: app }).then(
        ({ stdout }) => ({ errors: [] as string[], listed: stdout.split("\n") }),
        (error: { stdout?: string }) => {
          const lines = (error.stdout ?? String(error)).split("\n");
          return { errors: lines.filter((l) => !l.startsWith("/") && l.trim() !== ""), listed: lines };
        },
      );
      expect({ name, errors }).toEqual({ name, errors: [] });
      // Every folder was compiled, and the package's types came from the extracted tarball.
      for (const folder of folders) expect(listed.some((f) => f.startsWith(join(app, folder, "/")))).toBe(true);
      expect(listed.some((f) => f.startsWith(join(app, "node_modules/@aopay-graphql/client/")))).toBe(true);
    },
    30_000,
  );

  it("keeps instanceof true across the ESM and CommonJS builds in one program (the docs' Node example uses it)", async () => {
    // An ES-module app whose CommonJS helper requires the SDK: two copies of each error class.
    const program = `
      import { createRequire } from "node:module";
      import * as esm from "@aopay-graphql/client/sdk";
      const cjs = createRequire(import.meta.url)("@aopay-graphql/client/sdk");
      const caught = async (sdk, options) => sdk.createSdk({ url: "http://127.0.0.1:1/graphql" }).serviceInfo({}, options).catch((e) => e);
      const aborted = { signal: AbortSignal.abort() };
      const errors = { cjsNetwork: await caught(cjs), cjsAbort: await caught(cjs, aborted), esmNetwork: await caught(esm) };
      const classes = ["AopayClientError", "AopayNetworkError", "AopayAbortError", "AopayHttpError"];
      const out = {};
      for (const [name, error] of Object.entries(errors))
        for (const [build, api] of Object.entries({ esm, cjs }))
          out[name + " " + build] = classes.filter((c) => error instanceof api[c]);
      out.plainError = [esm, cjs].some((api) => new Error("x") instanceof api.AopayClientError);
      out.lookalike = { code: "NETWORK_ERROR" } instanceof esm.AopayNetworkError;
      console.log(JSON.stringify(out));`;
    writeFileSync(join(app, "esm/dual.mjs"), program);
    const { stdout } = await run(process.execPath, ["dual.mjs"], { cwd: join(app, "esm") });
    const network = ["AopayClientError", "AopayNetworkError"];
    const abort = ["AopayClientError", "AopayAbortError"];
    expect(JSON.parse(stdout)).toEqual({
      "cjsNetwork esm": network,
      "cjsNetwork cjs": network,
      "cjsAbort esm": abort,
      "cjsAbort cjs": abort,
      "esmNetwork esm": network,
      "esmNetwork cjs": network,
      plainError: false,
      lookalike: false,
    });
  });

  it("has typesVersions naming each subpath's CommonJS types, and they exist in the tarball", () => {
    const manifest = JSON.parse(readFileSync(join(app, "node_modules/@aopay-graphql/client/package.json"), "utf8")) as {
      exports: Record<string, { require?: { types: string } }>;
      typesVersions: Record<string, Record<string, string[]>>;
    };
    const subpaths = Object.keys(manifest.exports).filter((s) => s !== "." && s !== "./package.json");
    expect(manifest.typesVersions).toEqual({
      "*": Object.fromEntries(subpaths.map((s) => [s.slice(2), [manifest.exports[s]!.require!.types]])),
    });
  });
});
