import process from "node:process";
import { Scrubber } from "../pii/scrub";
import { createLogger, settleStdout } from "./logger";

/** `text` as a log line shows it: scrubLine's reading of it as a JSON string; the bare scrub should that not parse. */
function shownAsLogged(scrubber: Scrubber, text: string): string {
  try {
    const shown: unknown = JSON.parse(scrubber.scrubLine(JSON.stringify(text)));
    if (typeof shown === "string") return shown;
  } catch {
    // scrubLine writes JSON back; should a mask ever break that, the bare scrub below still hides what it reads.
  }
  return scrubber.scrub(text);
}

/** How long the last log line may take to reach stdout before the process exits anyway. */
const LOG_SETTLE_MS = 300;

/**
 * A start that failed before a process's logger existed, or before it served (the server, src/index.ts; the
 * standalone simulator, src/simulator/main.ts): said on stderr (a person at the terminal, `docker logs`) and, unless
 * stdout is a terminal, as one JSON line on stdout, in the log format with level `fatal`, which is what a log shipper
 * reads (before, only stderr had it: a log store collecting stdout's JSON showed a replica that stopped with nothing
 * said). `secrets` are the environment's secret values, for the scrubber of both: the text never holds them
 * (settings/schema.ts), this makes sure of it. Then exit with `code`, the line given a moment to leave.
 */
export function failStart(
  text: string,
  msg: string,
  fields: Record<string, unknown>,
  code: number,
  secrets: readonly string[] = [],
  base: Record<string, string> = {},
): void {
  // Through the scrubber as the JSON line is: stderr is a log too (`docker logs`, the journal). A start that failed on
  // a value (`HOST=<value>: not an address`) quoted it whole there, a secret's too when it was set in the wrong
  // setting (a line shifted in an env file), while the JSON line hid it.
  // Read as the JSON line reads it (scrubLine, over the text as a JSON string): the bare scrub leaves a run glued
  // after a letter and `-` alone (a token's), and `HOST=mob-98765-43210.example` was said whole on stderr where the
  // JSON line showed `mob-XXXXX-XXXXX.example`.
  process.stderr.write(`${shownAsLogged(new Scrubber(secrets), text)}\n`);
  if (process.stdout.isTTY !== true)
    createLogger({ level: "fatal", secrets, base }).fatal({ ...fields, exitCode: code }, msg);
  // Set first: should nothing be left to run before the line is out, the process still ends with `code`.
  process.exitCode = code;
  void settleStdout(LOG_SETTLE_MS).then(() => process.exit(code));
}
