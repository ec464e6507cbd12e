// @ts-check
"use strict";
/**
 * `npm run client:pack [-- --out <file.tgz>]`: builds the client package (scripts/client-build.js) and packs it
 * into one tarball at a stable path, client/aopay-graphql-client.tgz (git-ignored), for apps to install with
 *
 *   npm install ../aopay-graphql/client/aopay-graphql-client.tgz
 *
 * Why a tarball and not the folder: `npm install --install-links <folder>` copies the package once, but the app's
 * package.json then says `file:<folder>`, and the next plain `npm install` or `npm ci` turns that into a symlink;
 * through the symlink the package resolves `@apollo/client` and React from this repository's node_modules instead
 * of the app's (a second Apollo Client: TS2322 on ApolloLink, no ApolloProvider). A `file:<x>.tgz` dependency is
 * extracted into the app's node_modules by every install (test/e2e/client-package.test.ts runs that whole path).
 *
 * The name has no version so that docs and scripts can name it; npm records the tarball's integrity in the app's
 * lockfile, so after packing again the app runs the same `npm install <tgz>` again (npm ci then refuses the old lock).
 */
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { parseCli } = require("./cli");

const ROOT = path.resolve(__dirname, "..");
const DEFAULT_OUT = path.join(ROOT, "client/aopay-graphql-client.tgz");

function main() {
  const { values } = parseCli(
    "usage: npm run client:pack [-- --out <file.tgz>]   (default client/aopay-graphql-client.tgz)\n",
    {
      options: { out: { type: "string" } },
    },
  );
  const out = path.resolve(values.out ?? DEFAULT_OUT);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "aopay-client-pack-"));
  try {
    const pkg = path.join(work, "package");
    execFileSync(process.execPath, [path.join(__dirname, "client-build.js"), "--out", pkg], {
      stdio: ["ignore", "ignore", "inherit"],
      cwd: ROOT,
    });
    // --ignore-scripts: the built package has no scripts, and none of ours should run here.
    const json = execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work], {
      cwd: pkg,
      encoding: "utf8",
    });
    const [{ filename }] = /** @type {{ filename: string }[]} */ (JSON.parse(json));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.copyFileSync(path.join(work, filename), out);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(`client:pack: @aopay-graphql/client packed in ${path.relative(process.cwd(), out)}\n`);
  process.stdout.write(`  install it in an app with: npm install ${out}\n`);
}

main();
