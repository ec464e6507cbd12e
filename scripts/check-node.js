// @ts-check
"use strict";
/**
 * Stops at once, with what to do, when this Node is older than what comes next needs: the server runs on Node 22.15 or
 * later (package.json `engines`), the test suite on Node 24 (`.nvmrc`). Without it a newcomer on the machine's Node 20
 * saw `npm ci` pass with 265 lines of EBADENGINE warnings, `npm start` serve without a word, and `npm test` fail after
 * the type checks on an ES module error from a dependency. `engine-strict` in .npmrc was not chosen: it would also
 * refuse an install over a dependency's own `engines` field.
 *
 *   node scripts/check-node.js           the server's need (npm start and npm run dev run it through build-if-stale.js)
 *   node scripts/check-node.js --tests   the test suite's (npm test runs it first)
 */

/**
 * The refusal for `what` on Node `version` (e.g. "20.20.2"), or null when it may go on.
 * @param {"server" | "tests"} what @param {string} version @returns {string | null}
 */
function refusal(what, version) {
  const [major, minor] = version.split(".").map(Number);
  const ok = what === "tests" ? major >= 24 : major > 22 || (major === 22 && minor >= 15);
  if (ok) return null;
  const need = what === "tests" ? "Node.js 24 to run the tests" : "Node.js 24 (or 22.15 and later) to run";
  return (
    `This is Node.js ${version}; aopay-graphql needs ${need}. ` +
    "`nvm install` or `fnm use` picks up .nvmrc (24), or install your package manager's nodejs 24, then run " +
    "`npm ci` again (README.md, Quick start)."
  );
}

/** Exits with the refusal when this Node is too old for `what`. @param {"server" | "tests"} what */
function requireNode(what) {
  const message = refusal(what, process.versions.node);
  if (message === null) return;
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

module.exports = { refusal, requireNode };

if (require.main === module) requireNode(process.argv.includes("--tests") ? "tests" : "server");
