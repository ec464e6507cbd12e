// @ts-check
"use strict";
/**
 * The arguments of a script run by `npm run <name> -- <arguments>`, read one way for all of them: Node's own
 * util.parseArgs, strict. Each script had read process.argv by hand (`argv[2]`, `indexOf("--out")`), so that an
 * unknown flag was taken for something else or dropped: `npm run api-key -- --help` made a key for a client named
 * `--help`, `npm run dev -- --port 4000` started on the usual port without a word, `npm run client:build -- --ot x`
 * built into client/dist.
 *
 *   -h, --help                  the usage on stdout, exit 0, nothing done
 *   an unknown flag, a flag's value missing, an argument where none is taken: what was wrong and the usage on stderr,
 *                               exit 2, nothing done
 *
 * A value that starts with `-` is refused after a flag that takes one (`--out --help`), as parseArgs does; after `--`
 * every argument is a positional one (`npm run api-key -- -- -svc`), the usual meaning of `--`.
 *
 * An argument where none is taken is refused without quoting it (parseArgs quotes it: `Unexpected argument
 * 'HMAC_SECRET=…'`): a setting written after the command instead of before it, its secret then whole on stderr.
 *
 * `unshown`: what was wrong is said without the argument (parseArgs quotes it: `Unknown option '--9876543210'`), for a
 * tool whose mistyped argument may be a customer's identifier (customer-ref.js).
 */
const { parseArgs } = require("node:util");

/** Said for an argument where none is taken (the same words as src/util/command-line.ts). */
const UNEXPECTED = "this command takes no arguments (not shown: a setting goes before it, NAME=value npm run ...)";

/**
 * @template {import("node:util").ParseArgsOptionsConfig} O
 * @param {string} usage the usage text, ending in a newline
 * @param {{ options?: O, positionals?: boolean, unshown?: boolean, args?: string[] }} [config] positionals:
 *   whether any are taken (none by default); args: process.argv.slice(2) by default
 */
function parseCli(usage, config = {}) {
  const options = /** @type {O} */ (config.options ?? {});
  let parsed;
  try {
    parsed = parseArgs({
      args: config.args ?? process.argv.slice(2),
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: config.positionals === true,
      strict: true,
    });
  } catch (error) {
    const said = config.unshown
      ? "an unknown flag, or a flag without its value (the arguments are not shown)"
      : /** @type {NodeJS.ErrnoException} */ (error).code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL"
        ? UNEXPECTED
        : /** @type {Error} */ (error).message;
    process.stderr.write(`${said}\n${usage}`);
    process.exit(2);
  }
  // `--out=` is the value "" to parseArgs: path.resolve("") is the working directory, which client:build and
  // client:pack removed whole before building into it (the checkout, where npm runs scripts). No flag takes "".
  for (const [name, value] of Object.entries(parsed.values))
    if (value === "" || (Array.isArray(value) && value.includes(""))) {
      process.stderr.write(`Option '--${name}' needs a value, not an empty one\n${usage}`);
      process.exit(2);
    }
  if (/** @type {{ help?: boolean }} */ (parsed.values).help === true) {
    process.stdout.write(usage);
    process.exit(0);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

module.exports = { parseCli };
