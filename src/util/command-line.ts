import process from "node:process";
import { parseArgs } from "node:util";

/**
 * For a program that takes no arguments (the server, `npm start`; the simulator, `npm run simulator`; `npm run
 * schema:emit`): settings come from the environment. `npm start -- --help` started the server, and `-- --port 4000`
 * started it on PORT's port without a word. As scripts/cli.js does for the scripts: `-h`/`--help` the usage on
 * stdout, exit 0; anything else what was wrong and the usage on stderr, exit 2; neither starts anything. Called
 * before anything is read or opened. An argument is refused without quoting it (parseArgs's `Unexpected argument
 * 'HMAC_SECRET=…'`): a setting written after the command (`npm start -- HMAC_SECRET=…`, a container's command) put
 * its secret whole on stderr, which a container's log store keeps.
 */
export function refuseArguments(usage: string, args: string[] = process.argv.slice(2)): void {
  let help: boolean | undefined;
  try {
    help = parseArgs({ args, options: { help: { type: "boolean", short: "h" } }, strict: true }).values.help;
  } catch (error) {
    const said =
      (error as NodeJS.ErrnoException).code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL"
        ? "this command takes no arguments (not shown: a setting goes before it, NAME=value npm start)"
        : (error as Error).message;
    process.stderr.write(`${said}\n${usage}`);
    process.exit(2);
  }
  if (help !== true) return;
  process.stdout.write(usage);
  process.exit(0);
}
