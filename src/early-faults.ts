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
 * - The `debug` module's lines (`DEBUG=ioredis:*`, `DEBUG=*`: ioredis writes every Redis command with its arguments,
 *   AUTH's password among them): one `debug` line each through the logger, `component` `debug`, its `namespace`, the
 *   message on one line, without colours (DEBUG_COLORS or a terminal put ANSI escapes in it), instead of raw text on
 *   stderr. At level debug: LOG_LEVEL=debug (or trace) shows them.
 * - SIGUSR1 in production (NODE_ENV=production) unless ALLOW_RAW_DEBUG_OUTPUT=true: one `warn` line, and nothing else.
 *   Without a listener, Node opens its inspector on it (127.0.0.1:9229, or `--inspect-port`'s): a debugger's port,
 *   whoever reaches it runs code in the process. A listener of ours takes the signal from Node (measured on node 24),
 *   as `--disable-sigusr1` would; config.ts refuses the `--inspect` flags in production the same way.
 * - Node's diagnostic report (`--report-on-signal`, `--report-on-fatalerror`, `process.report.writeReport`) leaves out
 *   the environment (`process.report.excludeEnv`, as `--report-exclude-env` would): it held every variable's value,
 *   HMAC_SECRET, STORE_ENCRYPTION_KEYS and the AOPay credentials. The rest of a report (stacks, heap statistics,
 *   handles) holds no value of a request.
 *
 * Until src/index.ts hands its logger over (logFaultsTo), a logger made here writes the line (JSON on stdout, level
 * warn; the shapes are masked, and the secrets once index.ts has read the environment's).
 */
import { createRequire } from "node:module";
import process from "node:process";
import { logLibraryLine } from "./logging/library-line";
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

process.report.excludeEnv = true;

// Read here, before config.ts, as config.ts reads them (NODE_ENV one of its words, the boolean `true` exactly): the
// signal may come before the configuration is read, and a configuration that fails ends the process anyway.
if (process.env.NODE_ENV === "production" && process.env.ALLOW_RAW_DEBUG_OUTPUT !== "true")
  process.on("SIGUSR1", () =>
    log().warn(
      { signal: "SIGUSR1" },
      "SIGUSR1 ignored: it opens Node's inspector, refused in production unless ALLOW_RAW_DEBUG_OUTPUT=true",
    ),
  );

/** The part of the `debug` module (debug/src/common.js, 4.x) that routeDebugLines replaces. */
interface DebugModule {
  log: (this: { namespace: string }, ...args: unknown[]) => void;
  formatArgs: (this: unknown, args: unknown[]) => void;
  useColors: () => boolean;
}

/**
 * The `debug` module's output through the logger. Its `log` (debug/src/node.js: `process.stderr.write` of the
 * formatted arguments) and `formatArgs` (the date or colour and namespace it puts before the message) are read at each
 * call (debug/src/common.js), so replacing them here covers the instances made before and after. The copy replaced is
 * ioredis' own (resolved from ioredis, the one dependency the server loads that uses it; without ioredis installed,
 * ours); test/unit/logging/debug-module.test.ts fails when node_modules holds a second copy, which would print raw.
 * Loaded only when DEBUG is set (the module's own variable, read as it reads it): without it nothing is enabled and
 * the server does not load the module at all (test/e2e/loaded-modules.test.ts).
 */
function routeDebugLines(): void {
  let debug: DebugModule;
  try {
    debug = createRequire(require.resolve("ioredis"))("debug") as DebugModule;
  } catch {
    try {
      debug = createRequire(__filename)("debug") as DebugModule;
    } catch {
      return; // No debug module at all: nothing can print through it.
    }
  }
  debug.formatArgs = () => undefined;
  // Each instance takes `useColors()` when made (DEBUG_COLORS=true or false, else whether stderr is a terminal), and
  // its `%o` and `%O` colour what they inspect with it (debug/src/node.js formatters): ANSI escapes in the line's
  // `msg`, and a colour code's letter (`\x1b[33m`) glued to a number. The instances are made after this (ioredis
  // loads later).
  debug.useColors = () => false;
  debug.log = function debugLine(this: { namespace: string }, ...args: unknown[]): void {
    logLibraryLine(log().child({ component: "debug", namespace: this.namespace }), "debug", args);
  };
}

if (process.env.DEBUG) routeDebugLines();
