/**
 * Imported by src/index.ts right after early-signals.ts (and by the simulator's main): what Node itself would print
 * raw, it says through the scrubbed logger instead. Node's default for an uncaught exception prints the error, its
 * message and stack, to stderr as they are, and an error's message may quote input (an Aadhaar number, a token that
 * reached an exception by mistake): a stream beside the log that no scrubber read. Its warnings (process.emitWarning:
 * MaxListenersExceeded names an event and an emitter, a dependency's warning says what it likes) went the same way.
 *
 * - An uncaught exception, or a promise rejection nobody handled (Node 24's default, `--unhandled-rejections=throw`,
 *   raises it as an uncaught exception whose origin is `unhandledRejection`; no `unhandledRejection` listener is
 *   added, which would turn that default off): ONE `fatal` JSON line through the logger (logger.ts masks PII and the
 *   secrets of the environment in it), `err` with its message and stack, and `origin`; the line is written before
 *   the process ends (flushStdoutNow), and the exit code is FATAL_EXIT_CODE, whatever is in flight. A second fault
 *   while the first is being logged ends the process with that code too, unlogged. A thrown value the logger cannot
 *   read (its `message` getter throws, a Proxy) is logged as `thrown: { type, unreadable: true }`.
 * - A warning: one `warn` line with its name, code and message (no stack), instead of Node's text on stderr. A
 *   deprecation warning is dropped when `process.noDeprecation` is set, as Node does.
 *
 * Until src/index.ts hands its logger over (logFaultsTo), a logger made here writes the line (JSON on stdout, level
 * warn; the shapes are masked, and the secrets once index.ts has read the environment's).
 */
import process from "node:process";
import { createLogger, flushStdoutNow, type Logger } from "./logging/logger";

/** The exit code of a process ended by an uncaught exception or unhandled rejection: 70 (EX_SOFTWARE, sysexits.h). */
export const FATAL_EXIT_CODE = 70;

let logger: Logger | null = null;
let ending = false;

/** Where faults and warnings are logged from now on: the process's own logger (its level, format and secrets). */
export function logFaultsTo(log: Logger): void {
  logger = log;
}

function log(): Logger {
  logger ??= createLogger({ level: "warn" });
  return logger;
}

process.on("uncaughtException", (error: unknown, origin: NodeJS.UncaughtExceptionOrigin) => {
  if (ending) process.exit(FATAL_EXIT_CODE);
  ending = true;
  process.exitCode = FATAL_EXIT_CODE;
  try {
    const msg =
      origin === "unhandledRejection"
        ? "unhandled promise rejection: the process ends"
        : "uncaught exception: the process ends";
    try {
      log().fatal({ err: error, origin, exitCode: FATAL_EXIT_CODE }, msg);
    } catch {
      // The thrown value cannot be read (a `message` or `stack` getter that throws, a Proxy): without this line the
      // process ended with 70 and no word. Its type only: what reading it would throw may quote it.
      log().fatal({ thrown: { type: typeof error, unreadable: true }, origin, exitCode: FATAL_EXIT_CODE }, msg);
    }
    flushStdoutNow();
  } finally {
    process.exit(FATAL_EXIT_CODE);
  }
});

// Node's own printer of warnings (lib/internal/process/warning.js `onWarning`, added unless `--no-warnings`) writes
// the warning's text to stderr: taken off, or each warning would be said twice, once in clear.
for (const listener of process.listeners("warning"))
  if (listener.name === "onWarning") process.off("warning", listener);

process.on("warning", (warning: Error & { code?: string }) => {
  if (warning.name === "DeprecationWarning" && process.noDeprecation) return;
  log().warn({ warning: { name: warning.name, code: warning.code, message: warning.message } }, "Node.js warning");
});
