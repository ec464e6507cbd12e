// @ts-check
"use strict";
/**
 * `npm run client:build [-- --out <dir>]`: builds the typed client (client/src) into an installable package,
 * `@aopay-graphql/client`, in client/dist (or <dir>):
 *
 *   package.json   name, exports (".", "./react", "./sdk"), typesVersions (the same for node10), dependencies, peer
 *                  dependencies
 *   esm/           ES modules + .d.ts (module: esnext), with {"type":"module"}
 *   cjs/           CommonJS + .d.ts (module: nodenext), with {"type":"commonjs"}
 *   README.md      client/README.md
 *
 * Both formats come from the same sources with tsc; nothing is bundled. It builds what is committed: run
 * `npm run codegen` first after changing operations (`npm run codegen:check` says when).
 */
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { parseCli } = require("./cli");

const ROOT = path.resolve(__dirname, "..");
const TSC = path.join(ROOT, "node_modules/typescript/bin/tsc");

/** The entry points: subpath -> module under esm/ and cjs/ (without extension). */
const ENTRIES = { ".": "index", "./react": "react/index", "./sdk": "sdk/index" };

function manifest() {
  const root = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  /** @type {Record<string, unknown>} */
  const exportsMap = {};
  for (const [subpath, file] of Object.entries(ENTRIES)) {
    exportsMap[subpath] = {
      import: { types: `./esm/${file}.d.ts`, default: `./esm/${file}.js` },
      require: { types: `./cjs/${file}.d.ts`, default: `./cjs/${file}.js` },
    };
  }
  exportsMap["./package.json"] = "./package.json";
  // `moduleResolution: node10` (what TypeScript 5 picks for `module: commonjs` when moduleResolution is not set, the
  // tsconfig of many Node services) ignores `exports`, so without this it finds no types for "/react" and "/sdk"
  // (TS2307 "There are types at … but this result could not be resolved"). node16, nodenext and bundler read
  // `exports` and never this. docs/clients.md "Installing the client in an app".
  /** @type {Record<string, string[]>} */
  const subpathTypes = {};
  for (const [subpath, file] of Object.entries(ENTRIES)) {
    if (subpath !== ".") subpathTypes[subpath.slice(2)] = [`./cjs/${file}.d.ts`];
  }
  return {
    name: "@aopay-graphql/client",
    version: root.version,
    description:
      "Typed clients for the AOPay GraphQL layer: documents and types, Apollo Client 4 React hooks, and a Node SDK over undici.",
    license: root.license,
    // Not for the public registry: install it from a folder, a tarball (npm pack) or your own registry.
    private: true,
    type: "commonjs",
    sideEffects: false,
    main: "./cjs/index.js",
    module: "./esm/index.js",
    types: "./cjs/index.d.ts",
    typesVersions: { "*": subpathTypes },
    exports: exportsMap,
    files: ["esm", "cjs", "README.md"],
    engines: root.engines,
    dependencies: {
      // Types of the documents (TypedDocumentNode); no code.
      "@graphql-typed-document-node/core": "^3.2.0",
      // The SDK's HTTP client: the same range as the server's.
      undici: root.dependencies.undici,
    },
    peerDependencies: {
      // The documents are graphql-js ASTs (and their types import graphql's). 17 as well as 16: the package uses only
      // DocumentNode and getOperationAST, unchanged in 17, and Apollo Client 4 accepts both (its peer range);
      // test/e2e/client-package.test.ts installs it with each and calls the server.
      graphql: "^16.0.0 || ^17.0.0",
      // The React hooks (./react) only: Apollo Client 4 and its peers.
      "@apollo/client": root.devDependencies["@apollo/client"],
      react: "^18.0.0 || ^19.0.0",
      rxjs: "^7.3.0",
    },
    peerDependenciesMeta: {
      "@apollo/client": { optional: true },
      react: { optional: true },
      rxjs: { optional: true },
    },
  };
}

function tsc(/** @type {string} */ project, /** @type {string} */ outDir) {
  execFileSync(process.execPath, [TSC, "-p", path.join(ROOT, "client", project), "--outDir", outDir], {
    stdio: "inherit",
    cwd: ROOT,
  });
}

function main() {
  const { values } = parseCli("usage: npm run client:build [-- --out <dir>]   (default client/dist)\n", {
    options: { out: { type: "string" } },
  });
  const out = path.resolve(values.out ?? path.join(ROOT, "client/dist"));
  fs.rmSync(out, { recursive: true, force: true });
  tsc("tsconfig.build.json", path.join(out, "esm"));
  tsc("tsconfig.build.cjs.json", path.join(out, "cjs"));
  fs.writeFileSync(path.join(out, "esm/package.json"), `${JSON.stringify({ type: "module" }, null, 2)}\n`);
  fs.writeFileSync(path.join(out, "cjs/package.json"), `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`);
  fs.writeFileSync(path.join(out, "package.json"), `${JSON.stringify(manifest(), null, 2)}\n`);
  fs.copyFileSync(path.join(ROOT, "client/README.md"), path.join(out, "README.md"));
  process.stdout.write(`client:build: @aopay-graphql/client built in ${path.relative(process.cwd(), out) || "."}\n`);
}

main();
