// @ts-check
"use strict";
/**
 * `npm run api-key -- <clientId>`: makes a new API key for a client. Prints the key (give it to the client, once)
 * and the API_KEYS entry (`clientId:sha256hex`) for the server's configuration, which never holds the key itself.
 */
const { createHash, randomBytes } = require("node:crypto");
const { parseCli } = require("./cli");

const USAGE = "usage: npm run api-key -- <clientId>   (1-64 letters, digits, '.', '_' or '-', not first)\n";
// One client id and no flag: `--help` or a mistyped flag was taken for a client's name, and a key made for it; so was
// `-- --help` (after `--`), refused by scripts/cli.js as any value starting with '-', and by the pattern here.
const { positionals } = parseCli(USAGE, { positionals: true });
const clientId = positionals[0];
if (positionals.length !== 1 || !/^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/.test(clientId)) {
  process.stderr.write(USAGE);
  process.exit(2);
}
// A reader that closed the pipe early (`| head -1`) raised an unhandled EPIPE: a stack trace, and the key shown in part
// (its entry for API_KEYS lost). Said plainly instead, exit 1: a key not wholly shown is thrown away, never half used.
process.stdout.on("error", (/** @type {NodeJS.ErrnoException} */ error) => {
  process.stderr.write(`api-key: output cut short (${error.code ?? "error"}): this key is not to be used, run again\n`);
  process.exit(1);
});
const key = `aopk_${randomBytes(32).toString("base64url")}`;
const hash = createHash("sha256").update(key, "utf8").digest("hex");
process.stdout.write(
  `API key for ${clientId} (give it to the client, which sends it in the x-api-key header, not as a bearer token; ` +
    `it is not stored anywhere):\n  ${key}\n`,
);
process.stdout.write(`Server configuration entry (append to API_KEYS, comma-separated):\n  ${clientId}:${hash}\n`);
