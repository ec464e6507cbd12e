import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { buildSchema, isAbstractType } from "graphql";
import { startTestStack, type TestStack } from "../helpers/stack";

function abstractTypesOfSchema(): string[] {
  const schema = buildSchema(readFileSync(join(__dirname, "../../schema/schema.graphql"), "utf8"));
  return Object.values(schema.getTypeMap())
    .filter((type) => isAbstractType(type) && !type.name.startsWith("__"))
    .map((type) => type.name)
    .sort();
}

const run = promisify(execFile);
const ROOT = join(__dirname, "../..");
const WORK = join(ROOT, "test-artifacts/client-package");
const PKG = join(WORK, "dist");
const CONSUMER = join(WORK, "consumer");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");

interface Manifest {
  name: string;
  exports: Record<string, { import: { types: string; default: string }; require: { types: string; default: string } } | string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional: boolean }>;
}

/**
 * The package `npm run client:build` makes, used the way an app would: built into test-artifacts/, installed into a
 * consumer folder as node_modules/@aopay-graphql/client (a link, as `npm install <folder>` makes), then required
 * (CommonJS), imported (ES modules) and type-checked (nodenext and bundler resolution) through its `exports`.
 * The consumer sits inside the repo, so the package's own dependencies resolve from the repo's node_modules.
 */
describe("the built client package", () => {
  let t: TestStack;
  let manifest: Manifest;

  beforeAll(async () => {
    rmSync(WORK, { recursive: true, force: true });
    await run(process.execPath, [join(ROOT, "scripts/client-build.js"), "--out", PKG], { cwd: ROOT });
    manifest = JSON.parse(readFileSync(join(PKG, "package.json"), "utf8")) as Manifest;
    cpSync(join(ROOT, "test/fixtures/client-consumer"), CONSUMER, { recursive: true });
    mkdirSync(join(CONSUMER, "node_modules/@aopay-graphql"), { recursive: true });
    symlinkSync(PKG, join(CONSUMER, "node_modules/@aopay-graphql/client"), "dir");
    t = await startTestStack();
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  it("has a manifest with separate entry points, each with ESM, CommonJS and types that exist", () => {
    expect(manifest.name).toBe("@aopay-graphql/client");
    expect(Object.keys(manifest.exports)).toEqual([".", "./react", "./sdk", "./package.json"]);
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (typeof target === "string") continue;
      for (const file of [target.import.types, target.import.default, target.require.types, target.require.default]) {
        expect({ subpath, file, exists: existsSync(join(PKG, file)) }).toEqual({ subpath, file, exists: true });
      }
    }
    // The SDK needs only undici; React, Apollo Client and rxjs are optional peers for the hooks.
    expect(Object.keys(manifest.dependencies).sort()).toEqual(["@graphql-typed-document-node/core", "undici"]);
    expect(manifest.peerDependenciesMeta).toEqual({ "@apollo/client": { optional: true }, react: { optional: true }, rxjs: { optional: true } });
    expect(manifest.peerDependencies.graphql).toBeDefined();
  });

  it("packs only the built files (npm pack)", async () => {
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: PKG });
    const [packed] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(["package.json", "README.md", "esm/sdk/index.js", "esm/sdk/index.d.ts", "cjs/react/index.js", "cjs/generated/sdk.d.ts"]));
    expect(files.filter((f) => /\.tsx?$/.test(f) && !f.endsWith(".d.ts"))).toEqual([]);
  }, 30_000);

  it("works from CommonJS: require() of each entry point, and the SDK calls the live server", async () => {
    const { stdout } = await run(process.execPath, ["consumer.cjs", t.graphqlUrl], { cwd: CONSUMER });
    expect(JSON.parse(stdout)).toEqual({
      format: "cjs",
      challenge: { typename: "CibilOtpChallenge", question: expect.stringContaining("97100****"), requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
      failure: { typename: "UpstreamRejected", isFailure: true, code: "UPSTREAM_REJECTED", upstreamMessage: expect.any(String) },
      errorClass: "function",
      hook: "function",
      link: "function",
      // Every union and interface in the published schema, so Apollo's cache can match fragments on all of them.
      possibleTypes: abstractTypesOfSchema(),
    });
  });

  it("works from ES modules: import of each entry point, and the SDK calls the live server", async () => {
    const { stdout } = await run(process.execPath, ["consumer.mjs", t.graphqlUrl], { cwd: CONSUMER });
    expect(JSON.parse(stdout)).toMatchObject({
      format: "esm",
      resent: { __typename: "AepsOtpResent", maskedAadhaar: "XXXX XXXX 2346", maskedMobile: "XXXXXX3210" },
      invalid: { data: null, problems: { "input.mobile": expect.any(String) }, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
      document: "Document",
      hook: "function",
    });
  });

  it("type-checks a Node consumer (nodenext) and a React consumer (bundler) against the built .d.ts", async () => {
    for (const project of ["tsconfig.node.json", "tsconfig.react.json"]) {
      const outcome = await run(process.execPath, [TSC, "-p", project], { cwd: CONSUMER }).then(
        () => "ok",
        (error: { stdout?: string }) => error.stdout ?? String(error),
      );
      expect({ project, outcome }).toEqual({ project, outcome: "ok" });
    }
  }, 60_000);
});
