// @ts-check
"use strict";
/**
 * `npm run codegen:check`: regenerates the client code from schema/schema.graphql and client/operations without
 * touching the working tree, and fails if the committed output differs (docs/design/style.md principle 9). Differing files are
 * written to a temporary directory and shown with `diff -u`, so the fix is obvious: run `npm run codegen`.
 */
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { parseCli } = require("./cli");
const { generate, loadCodegenConfig } = require("@graphql-codegen/cli");

async function main() {
  parseCli("usage: npm run codegen:check   (fails when the committed client code differs from `npm run codegen`'s)\n");
  const root = path.resolve(__dirname, "..");
  process.chdir(root);
  const { config } = await loadCodegenConfig({ configFilePath: path.join(root, "codegen.yml") });
  /** @type {{ filename: string, content: string }[]} */
  const outputs = await generate({ ...config, silent: true, verbose: false }, false);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "codegen-check-"));
  const drifted = [];
  const expected = new Set();
  for (const { filename, content } of outputs) {
    const committedPath = path.resolve(root, filename);
    expected.add(committedPath);
    const committed = fs.existsSync(committedPath) ? fs.readFileSync(committedPath, "utf8") : null;
    if (committed === content) continue;
    const fresh = path.join(tmp, path.relative(root, committedPath));
    fs.mkdirSync(path.dirname(fresh), { recursive: true });
    fs.writeFileSync(fresh, content);
    drifted.push({ committedPath, fresh, missing: committed === null });
  }
  // A generated file that codegen no longer produces is drift too.
  const generatedDir = path.join(root, "client/src/generated");
  for (const name of fs.existsSync(generatedDir) ? fs.readdirSync(generatedDir) : []) {
    const file = path.join(generatedDir, name);
    if (!expected.has(file)) drifted.push({ committedPath: file, fresh: null, missing: false });
  }
  if (drifted.length === 0) {
    // It reads schema/schema.graphql, not the classes: a class changed without `npm run schema:emit` still passes here
    // (a newcomer's added field did), so say which check covers that.
    process.stdout.write(
      `codegen:check: ${outputs.length} generated files match schema/schema.graphql and client/operations/ ` +
        "(whether schema/schema.graphql matches the classes in src/graphql/ is test/e2e/schema-drift.test.ts's check; " +
        "after changing them: npm run schema:emit && npm run codegen)\n",
    );
    return;
  }
  process.stderr.write(
    "codegen:check: committed client code differs from what codegen produces. Run `npm run codegen`.\n",
  );
  for (const d of drifted) {
    const rel = path.relative(root, d.committedPath);
    if (d.fresh === null) process.stderr.write(`  stale file (codegen no longer writes it): ${rel}\n`);
    else if (d.missing) process.stderr.write(`  missing file: ${rel}\n`);
    else {
      process.stderr.write(`  differs: ${rel}\n`);
      try {
        execFileSync("diff", ["-u", d.committedPath, d.fresh], { stdio: ["ignore", "pipe", "pipe"] });
      } catch (error) {
        const out = /** @type {{ stdout?: Buffer }} */ (error).stdout;
        if (out) process.stderr.write(out.toString().split("\n").slice(0, 60).join("\n") + "\n");
      }
    }
  }
  process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(`codegen:check failed to run: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
