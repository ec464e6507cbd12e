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
 * A value that starts with `-` is refused, wherever it comes: after a flag that takes one (`--out --help`, as parseArgs
 * does), joined to it (`--out=--help`) or after `--` (`npm run api-key -- -- --help` made a key for a client named
 * `--help`): no value any script takes starts with `-` (a client id, a folder, a count), so one that does is a flag
 * put where a value goes. Exit 2, nothing done.
 *
 * A flag that takes a value, given twice (`--out a --out b`): refused, exit 2, naming it. parseArgs keeps the last one
 * silently, and which of two folders was meant is not ours to guess. A flag declared `multiple` is taken as often as
 * given; a boolean flag twice says the same thing twice.
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
  /** Refused: what was wrong, the usage on stderr, exit 2, nothing done. */
  const refuse = (/** @type {string} */ said) => {
    process.stderr.write(`${said}\n${usage}`);
    process.exit(2);
  };
  const all = { ...options, help: /** @type {const} */ ({ type: "boolean", short: "h" }) };
  let parsed;
  try {
    parsed = parseArgs({
      args: config.args ?? process.argv.slice(2),
      options: all,
      allowPositionals: config.positionals === true,
      strict: true,
      tokens: true,
    });
  } catch (error) {
    return refuse(
      config.unshown
        ? "an unknown flag, or a flag without its value (the arguments are not shown)"
        : /** @type {NodeJS.ErrnoException} */ (error).code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL"
          ? UNEXPECTED
          : /** @type {Error} */ (error).message,
    );
  }
  /** @type {Set<string>} */
  const seen = new Set();
  for (const token of parsed.tokens) {
    if (token.kind !== "option") continue;
    const declared = /** @type {{ type: string, multiple?: boolean }} */ (all[token.name]);
    if (declared.type === "string" && declared.multiple !== true) {
      if (seen.has(token.name)) refuse(`Option '--${token.name}' given more than once: give it once`);
      seen.add(token.name);
    }
  }
  const given = [...Object.values(parsed.values).flat(), ...parsed.positionals];
  if (given.some((value) => typeof value === "string" && value.startsWith("-")))
    refuse("a value may not start with '-' (not shown): a flag where a value goes, after `--` or `=`?");
  // `--out=` is the value "" to parseArgs: path.resolve("") is the working directory, which client:build and
  // client:pack removed whole before building into it (the checkout, where npm runs scripts). No flag takes "".
  for (const [name, value] of Object.entries(parsed.values))
    if (value === "" || (Array.isArray(value) && value.includes("")))
      refuse(`Option '--${name}' needs a value, not an empty one`);
  if (/** @type {{ help?: boolean }} */ (parsed.values).help === true) {
    process.stdout.write(usage);
    process.exit(0);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

module.exports = { parseCli };
