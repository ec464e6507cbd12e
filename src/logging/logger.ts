import pino, { type DestinationStream, type Level, type Logger } from "pino";
import SonicBoom from "sonic-boom";
import { Scrubber } from "../pii/scrub";

export type { Logger };

/**
 * Keys whose values never reach a log line, at any level and at any depth up to three (docs/security-requirements.md
 * D3). Our code does not log inputs or upstream bodies at all; this guards against a future `log.debug({ input })`.
 * Both our GraphQL names and the upstream's wire spellings are listed, and test/unit/logging/logger.test.ts fails when an
 * input field of the schema or a key an endpoint puts on the wire is missing (unless it is known to be harmless).
 */
export const SENSITIVE_KEYS: ReadonlySet<string> = new Set([
  "cibilId",
  "cibil_id",
  "firstName",
  "middleName",
  "lastName",
  "first_name",
  "middle_name",
  "last_name",
  "questionKey",
  "answerKey",
  "question_key",
  "answer_key",
  "aadhaar",
  "mobile",
  "otp",
  "accessToken",
  "userKey",
  "primaryKeyId",
  "encodeTxnId",
  "pan",
  "email",
  "dateOfBirth",
  "access_token",
  "AdhaarNumber",
  "Mobile",
  "mobile_number",
  "Otp",
  "Userkey",
  "PrimaryKeyId",
  "EncodeTxnId",
  "RegistrationID",
  "CompanyCode",
  "registrationId",
  "companyCode",
  "pancard",
  "date_of_birth",
  "email_id",
  "variables",
  "authorization",
  "x-api-key",
  "cookie",
  "apiKey",
]);

const REDACTED = "[REDACTED]";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Replaces the values of SENSITIVE_KEYS in a log object, `depth` levels deep, copying only what changes. This does
 * what pino's `redact` does with `*.key` and `*.*.key` paths, at a sliver of the cost: measured 0.2 µs per line
 * against 44 µs for the wildcard paths, which were the largest single CPU cost of a request (measured with bench/).
 */
export function redactKeys<T extends Record<string, unknown>>(obj: T, depth = 2): T {
  let out: Record<string, unknown> = obj;
  for (const key in obj) {
    const value = obj[key];
    let next: unknown = value;
    if (SENSITIVE_KEYS.has(key)) next = REDACTED;
    else if (depth > 0 && isPlainObject(value)) next = redactKeys(value, depth - 1);
    if (next !== value) {
      if (out === obj) out = { ...obj };
      out[key] = next;
    }
  }
  return out as T;
}

export interface LoggerOptions {
  level: Level;
  /** `json` (default): JSON lines. `pretty`: readable lines through pino-pretty, for a developer's terminal. */
  format?: "json" | "pretty";
  /** Values scrubbed from every line wherever they appear (partner credentials, API keys). */
  secrets?: Iterable<string>;
  /** Where lines go. Default: stdout. Tests pass an in-memory stream. */
  destination?: DestinationStream;
  /** Fields on every line besides `service` (a cluster worker's id and pid: cluster.ts). */
  base?: Record<string, string | number>;
}

/**
 * One pino logger for the process. Sensitive keys are redacted (redactKeys), and every serialised line passes
 * `Scrubber.scrub` just before it is written, so an Aadhaar-, mobile-, PAN- or e-mail-shaped value or a registered
 * secret is masked even if it hid inside an error message.
 */
export function createLogger(options: LoggerOptions): Logger {
  const scrubber = new Scrubber(options.secrets ?? []);
  const pretty = options.format === "pretty" ? prettyStream(options.destination) : null;
  const logger = pino(
    {
      level: options.level,
      base: { service: "aopay-graphql", ...options.base },
      // Milliseconds since the epoch (pino's default): what log shippers parse fastest, and ISO formatting cost 1 % of a
      // request's CPU in the benchmark's profile.
      timestamp: pino.stdTimeFunctions.epochTime,
      formatters: {
        level: (label) => ({ level: label }),
        // Child bindings are not passed through here (pino applies formatters.log to log calls only); ours hold ids
        // only (requestId, clientId, merchantTransactionId), and every line still passes the scrubber below.
        log: (obj) => redactKeys(obj),
      },
      serializers: { err: pino.stdSerializers.err },
      hooks: { streamWrite: (line) => scrubber.scrub(line) },
    },
    pretty ?? options.destination ?? stdoutStream(),
  );
  if (options.format === "pretty" && !pretty)
    logger.warn("LOG_FORMAT=pretty needs pino-pretty, a dev dependency (npm ci installs it): logging JSON lines");
  return logger;
}

/**
 * pino-pretty's stream (in this thread: it is for development, where a worker thread's start-up time would buy
 * nothing), or null when it is not installed (`npm ci --omit=dev`). It receives each line after the scrubber (pino's
 * streamWrite hook runs first), so a pretty line hides exactly what a JSON line hides.
 */
function prettyStream(destination: DestinationStream | undefined): DestinationStream | null {
  let build: (options: Record<string, unknown>) => DestinationStream;
  try {
    // A dev dependency, loaded only when asked for: production never loads it (LOG_FORMAT=pretty is refused there).
    build = require("pino-pretty") as typeof build;
  } catch {
    return null;
  }
  return build({
    // Local wall-clock time instead of milliseconds since the epoch; pid, hostname and the constant service name
    // are noise on a developer's terminal.
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "pid,hostname,service",
    // One line per entry, fields after the message; a message with line breaks (the simulator's banner) keeps them.
    singleLine: true,
    colorize: destination === undefined && process.stdout.isTTY === true,
    // Our stdout stream, not a file descriptor: pino-pretty would open one of its own with pino's exit hook.
    destination: destination ?? stdoutStream(),
  });
}

/**
 * Largest backlog of log output held for stdout while it is not being read (16 MiB); lines beyond it are dropped
 * rather than held without bound.
 */
export const STDOUT_BACKLOG_MAX_BYTES = 16 * 1024 * 1024;

let stdout: SonicBoom | undefined;
let droppedLines = 0;

/**
 * The one stream that writes the process's log to stdout (fd 1), asynchronously. Our own SonicBoom rather than
 * `pino.destination()`, because pino's registers an exit handler that calls `flushSync()`, and when stdout is a pipe
 * that is full (its reader stopped reading, or went away while another process holds its end) sonic-boom retries
 * that write forever on the main thread (an attack on the production build found a server up for more than 30 minutes after SIGTERM).
 * Here, nothing ever writes synchronously, so a closed or full stdout can never hold the process:
 * - the backlog is bounded (STDOUT_BACKLOG_MAX_BYTES; what does not fit is dropped and counted);
 * - a write error (EPIPE: the reader is gone; EBADF: stdout was closed) turns logging into a no-op instead of an
 *   unhandled 'error' event that would crash the process;
 * - at exit, src/index.ts waits for the backlog only briefly (settleStdout) and exits whatever is left.
 */
export function stdoutStream(): SonicBoom {
  if (stdout) return stdout;
  const stream = new SonicBoom({ fd: 1, sync: false, maxLength: STDOUT_BACKLOG_MAX_BYTES });
  stream.on("drop", () => {
    droppedLines += 1;
  });
  stream.on("error", () => {
    // Nowhere left to write: lines are lost either way; without this listener the error would end the process.
    stream.write = () => true;
  });
  stdout = stream;
  return stream;
}

/** Log lines dropped because stdout's backlog was full (see stdoutStream). */
export function droppedLogLines(): number {
  return droppedLines;
}

/**
 * Resolves once the stdout stream has written everything it holds, or after `maxWaitMs` whatever remains (an
 * unread pipe never drains). Never blocks the thread. Resolves at once when nothing was logged to stdout.
 */
export function settleStdout(maxWaitMs: number): Promise<void> {
  const stream = stdout;
  // sonic-boom keeps whether a write is in progress in `_writing` (no public accessor); it emits 'drain' when the
  // last write of its backlog has completed.
  if (!stream || !(stream as unknown as { _writing: boolean })._writing) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, maxWaitMs);
    stream.once("drain", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
