import process from "node:process";
import { Buffer } from "node:buffer";
import { performance } from "node:perf_hooks";
import pino, { type DestinationStream, type Level, type Logger } from "pino";
import SonicBoom from "sonic-boom";
import fs from "node:fs";
import net from "node:net";
import { Writable } from "node:stream";
import tty from "node:tty";
import { Scrubber } from "../pii/scrub";
import { timeoutAfterIo } from "../util/after-io";

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
    // An error under another key than `err` (`error: e`, `cause: e`) has no serializer: JSON would write its
    // enumerable fields, a Redis error's `command.args` among them. Serialised as `err` is (serializeError).
    else if (value instanceof Error && key !== "err") next = serializeError(value);
    if (next !== value) {
      if (out === obj) out = { ...obj };
      out[key] = next;
    }
  }
  return out as T;
}

/**
 * How Redis 7 quotes a command it does not know (one renamed away or disabled, as some managed offerings do), in its
 * own message: `ERR unknown command 'set', with args beginning with: 'prefix:consent:<hmac>' '1' 'PX' '600000' `,
 * the keys and values written, to the line's end (server.c processCommand). Only the args are cut.
 */
const REDIS_QUOTED_ARGS = /(with args beginning with:)[^\n]*/g;

/** A message or stack with Redis's quoted args cut (REDIS_QUOTED_ARGS). */
function withoutQuotedArgs(text: string): string {
  return text.includes("with args beginning with:") ? text.replace(REDIS_QUOTED_ARGS, "$1 (not logged)") : text;
}

/**
 * The `err` serializer: pino's (type, message and stack with every cause's, and each enumerable field, nested errors
 * serialised alike), less what a Redis error carries of the data. ioredis sets `command: { name, args }` on a reply's
 * error and on a command cut by a closed connection (its DataHandler.returnError, event_handler.js abortError): the
 * args are the keys (HMACs of a client and a customer's id), the values written, AUTH's password. Only the command's
 * name is kept; Redis's own quote of args in a message is cut (REDIS_QUOTED_ARGS), in a cause's message and stack too
 * (test/integration/redis-error-logs.test.ts).
 */
export function serializeError(err: unknown): unknown {
  const serialised = pino.stdSerializers.err(err as Error);
  if (serialised === (err as unknown)) return err;
  return withoutRedisData(serialised, 0);
}

/** How deep withoutRedisData looks into an error's fields; what is deeper is not logged (it could not be cleaned). */
const ERR_FIELD_DEPTH = 4;

/**
 * A serialised error with Redis's data cut, at every depth: pino serialises an error-valued field and an
 * AggregateError's `errors` as errors, but copies other values as they are, and JSON then writes an error kept in an
 * array or a plain object with its enumerable fields, `command.args` among them (ioredis's EXECABORT keeps its queued
 * commands' errors raw in `previousErrors`, transaction.js). So each field is walked: an error in it serialised, a
 * `command` kept to its name, a string's quoted args cut; objects and arrays copied (the caller's are not changed).
 */
function withoutRedisData(value: unknown, depth: number): unknown {
  if (typeof value === "string") return withoutQuotedArgs(value);
  if (value === null || typeof value !== "object") return value;
  if (depth > ERR_FIELD_DEPTH) return "[not logged: nested too deep]";
  if (Array.isArray(value)) return value.map((item) => withoutRedisData(item, depth + 1));
  if (value instanceof Error) return withoutRedisData(pino.stdSerializers.err(value), depth + 1);
  // A Date, a Buffer: JSON writes what toJSON says, not their fields.
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return value;
  const source = value as Record<string, unknown>;
  // pino's own serialised error (its fields are ours to change; `raw` stays hidden on its prototype), else a copy.
  const out: Record<string, unknown> =
    Object.prototype.hasOwnProperty.call(source, "type") && "raw" in source ? source : {};
  for (const key of Object.keys(source)) {
    const field = source[key];
    out[key] =
      key === "command" && field !== null && typeof field === "object" && "args" in field
        ? { name: (field as { name?: unknown }).name }
        : withoutRedisData(field, depth + 1);
  }
  return out;
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
 * Where a log line made whole by our own code (access-log.ts, the access line) is written: through the scrubber, then
 * to the logger's stream, as pino's own write does (its streamWrite hook, then `stream.write`). Set on the logger
 * createLogger makes; its children (the request's child logger, Fastify's) inherit it, as pino makes a child with
 * `Object.create(parent)`. Absent on any other logger: the line then goes through pino's generic path.
 */
const WRITE_LINE = Symbol("writeLine");

/** The writer of whole lines of `log` (WRITE_LINE), or undefined when it has none. */
export function lineWriter(log: object): ((line: string) => void) | undefined {
  return (log as Record<symbol, ((line: string) => void) | undefined>)[WRITE_LINE];
}

/**
 * The bindings of `log` as pino writes them on each of its lines, serialised once when the logger was made: the base
 * fields (`,"service":"aopay-graphql"`, a worker's id and pid), then the child's (`,"requestId":"…"`). pino keeps them
 * under `pino.symbols.chindingsSym`, which pino exports for integrations (docs/api.md `pino.symbols`).
 */
export function serialisedBindings(log: object): string {
  return (log as Record<symbol, string>)[CHINDINGS];
}

const CHINDINGS: symbol = pino.symbols.chindingsSym;

/**
 * A request's logger with `bindings` on every line: what pino's `logger.child(bindings)` makes (an object whose
 * prototype is a logger, holding the serialised bindings under pino's `chindingsSym`), without pino's per-child work.
 * pino's child, for each request, builds the formatters a child takes (a new object, as the parent is the root) and
 * serialises each binding through its generic path (the key's serializer and stringifier looked up, the value by
 * JSON.stringify in a try), and setBindings does the second part again. Here the prototype is one real pino child
 * per parent, made once (`parent.child({})`: the formatters, level, serializers and stream pino gives a child), and
 * only the bindings are the request's own; setBindings on it appends a string binding the way pino writes it.
 * Measured under callgrind (a loop of `child({ requestId })` then `setBindings({ clientId })`, `node
 * --single-threaded`, (100,000 − 20,000 calls) / 80,000, two runs each): pino 5,956 and 6,002 instructions per
 * request, this way 3,065 and 2,967 (JSON.stringify of each id was 0.7k of it: called only for a string it escapes).
 * Every line is the same (test/unit/logging/request-logger.test.ts holds it to pino's child, setBindings, a child of
 * it, bindings() and level). Any other parent, or bindings other than strings, get pino's `child`.
 */
export function requestLogger(parent: Logger, bindings: Readonly<Record<string, string>>): Logger {
  let proto = REQUEST_PROTOTYPES.get(parent);
  if (proto === undefined) REQUEST_PROTOTYPES.set(parent, (proto = requestPrototype(parent)));
  const added = proto === null ? undefined : serialisedStrings(bindings);
  if (added === undefined) return parent.child(bindings);
  const log = Object.create(proto) as Record<symbol, string>;
  log[CHINDINGS] = serialisedBindings(parent) + added;
  return log as unknown as Logger;
}

/** The prototype of each parent's request loggers (requestLogger), made at its first request; null: pino's child. */
const REQUEST_PROTOTYPES = new WeakMap<Logger, Logger | null>();

/**
 * A real pino child of `parent` with no bindings of its own, whose setBindings takes strings without pino's path; null
 * when `parent` is not a pino logger whose bindings serialisedStrings writes as pino does: a serializer other than
 * `err`'s (createLogger's) or a redaction's stringifiers (which requestLogger then leaves to pino's child).
 */
function requestPrototype(parent: Logger): Logger | null {
  const own = parent as unknown as Record<symbol, object | string | undefined>;
  const serializers = own[pino.symbols.serializersSym];
  const stringifiers = own[pino.symbols.stringifiersSym];
  if (typeof own[CHINDINGS] !== "string" || typeof serializers !== "object" || typeof stringifiers !== "object")
    return null;
  if (Reflect.ownKeys(serializers).some((key) => key !== "err") || Reflect.ownKeys(stringifiers).length > 0)
    return null;
  const proto = parent.child({});
  const pinoSetBindings = proto.setBindings;
  Object.defineProperty(proto, "setBindings", {
    value: function setBindings(this: Logger, bindings: Record<string, unknown>): void {
      const added = serialisedStrings(bindings);
      if (added === undefined) pinoSetBindings.call(this, bindings);
      else {
        const own = this as unknown as Record<symbol, string>;
        own[CHINDINGS] = withoutStringBindings(own[CHINDINGS], bindings) + added;
      }
    },
    writable: true,
    configurable: true,
  });
  return proto;
}

/**
 * `chindings` without the string bindings of `bindings`' keys: a key bound again replaces its value, where pino's
 * setBindings appends it a second time (pino/lib/proto.js: the line then holds the key twice, and most JSON readers,
 * log stores included, keep only the last). A submitCibilOtp that reads the report bound AOPay's reference of each of
 * its two calls (aopay/client.ts), and its access line held `merchantTransactionId` twice. A line written after the
 * second binding carries the second value; lines before it kept the first. A key bound to anything but a string (pino's
 * own path) is left, as pino leaves it. `,"key":"` cannot stand inside a JSON string (its `"` would be escaped).
 */
function withoutStringBindings(chindings: string, bindings: Readonly<Record<string, unknown>>): string {
  let out = chindings;
  for (const key in bindings) {
    const at = out.indexOf(`,"${key}":"`);
    if (at < 0) continue;
    let end = at + key.length + 5;
    while (end < out.length && out.charCodeAt(end) !== 0x22) end += out.charCodeAt(end) === 0x5c ? 2 : 1;
    out = out.slice(0, at) + out.slice(end + 1);
  }
  return out;
}

/**
 * `,"key":value` for each binding, as pino's asChindings writes it (pino/lib/tools.js: the key by asString, the value
 * by JSON.stringify), when every key is a plain name pino writes as `"key"` and treats as a plain binding (not one of
 * the option names it skips, not `err`, which has a serializer: requestPrototype) and every value a string; else
 * undefined, and pino's own path serialises them.
 */
function serialisedStrings(bindings: Readonly<Record<string, unknown>>): string | undefined {
  // A plain object: for-in then sees its own keys alone, as pino's hasOwnProperty check keeps them.
  if (Object.getPrototypeOf(bindings) !== Object.prototype) return undefined;
  let out = "";
  for (const key in bindings) {
    const value = bindings[key];
    let prefix = BINDING_PREFIXES.get(key);
    if (prefix === undefined) {
      if (!PLAIN_BINDING_KEY.test(key) || NOT_PLAIN_BINDINGS.has(key)) return undefined;
      if (BINDING_PREFIXES.size < 64) BINDING_PREFIXES.set(key, (prefix = `,"${key}":`));
      else prefix = `,"${key}":`;
    }
    if (typeof value !== "string") return undefined;
    // JSON.stringify's text, without its call for a string it would write as is (most ids: 0.7k instructions each).
    out += prefix + (NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`);
  }
  return out;
}

/**
 * What JSON.stringify escapes in a string: a control character, `"`, `\\`, or a surrogate (a lone one is escaped; a
 * pair is not, and goes through JSON.stringify all the same). safe-stable-stringify's strEscape tests the same.
 */
// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;
/** A key pino's asString writes as `"key"`, on every Node: letters, digits and `_`, at most 100 characters. */
const PLAIN_BINDING_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
/** Keys pino's asChindings skips (its option names) or serialises (`err`: createLogger's serializers). */
const NOT_PLAIN_BINDINGS: ReadonlySet<string> = new Set(["level", "serializers", "formatters", "customLevels", "err"]);
/** `,"key":` by key, for the few binding keys our code uses (at most 64 kept). */
const BINDING_PREFIXES = new Map<string, string>();

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
      serializers: { err: serializeError },
      hooks: { streamWrite: (line) => scrubber.scrubLine(line) },
    },
    pretty ?? options.destination ?? stdoutStream(),
  );
  if (options.format === "pretty" && !pretty)
    logger.warn("LOG_FORMAT=pretty needs pino-pretty, a dev dependency (npm ci installs it): logging JSON lines");
  const stream = (logger as unknown as Record<symbol, DestinationStream & Record<symbol, unknown>>)[
    pino.symbols.streamSym
  ];
  // A stream that reads pino's metadata of each line (pino.multistream) needs pino's own write: none here.
  if (stream[pino.symbols.needsMetadataGsym] !== true) {
    const write = (line: string) => stream.write(scrubber.scrubLine(line));
    Object.defineProperty(logger, WRITE_LINE, { value: write });
  }
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
    // Our stdout writer, not a file descriptor: pino-pretty would open one of its own with pino's exit hook. Wrapped
    // in a Writable because pino-pretty pipes into its destination (FdWriter is not a Node stream).
    destination:
      destination ??
      new Writable({
        write(chunk: Buffer | string, _encoding, done) {
          stdoutStream().write(String(chunk));
          done();
        },
      }),
  });
}

/**
 * Largest backlog of log output held for stdout while it is not being read (16 MiB); lines beyond it are dropped
 * rather than held without bound.
 */
export const STDOUT_BACKLOG_MAX_BYTES = 16 * 1024 * 1024;

/**
 * A synchronous write to a file that holds the thread longer than this (50 ms; a write to the page cache takes about
 * 3 µs) moves the file's writes off the thread for the rest of the process (FdWriter).
 */
export const FILE_STALL_MS = 50;

/**
 * How long a log line may wait for the lines after it before they go out together as one write (FdWriter): 20 ms. A
 * line logged while nothing waits starts the window (a timer, armed only then: an idle process has none); the lines
 * logged before it ends join it. Measured at 600 requests/s (the bench's phase D, CIBIL, one access line per request,
 * stdout a file): the log's write(2) calls per request 0.77-1.0 per turn, 0.17 with a 5 ms window, 0.07-0.08 with
 * 20 ms, 0.05 with 50 ms: a longer window would save a few hundredths of a call per request and hold lines longer.
 */
export const LOG_BATCH_MS = 20;

/** Lines waiting past this many characters (64 KiB) are written at the end of the turn, not at the window's end. */
export const LOG_BATCH_MAX_CHARS = 64 * 1024;

/** How long FdWriter.flush waits for the backlog at most (300 ms, as src/index.ts gives the last lines at exit). */
export const FLUSH_MAX_WAIT_MS = 300;

/** What fd 1 (or the fd a test passes) is, as far as how to write to it goes. */
export type FdKind = "pipe" | "file" | "other";

/**
 * `pipe`: a pipe or a socket (Docker, Kubernetes, systemd's journal, `| tee`). `file`: a regular file (`> app.log`,
 * the bench) or /dev/null. `other`: a terminal, any other device, or an fd fstat cannot read.
 */
export function fdKind(fd: number): FdKind {
  let stats: fs.Stats;
  try {
    stats = fs.fstatSync(fd);
  } catch {
    return "other";
  }
  if (stats.isFIFO() || stats.isSocket()) return "pipe";
  // /dev/null is character device 1:3 on Linux: it takes every write at once, like a file.
  if (stats.isFile() || (stats.isCharacterDevice() && stats.rdev === DEV_NULL_RDEV && !tty.isatty(fd))) return "file";
  return "other";
}
const DEV_NULL_RDEV = (1 << 8) | 3;

/**
 * Writes log lines to a file descriptor without ever blocking the thread on a reader, the way that is cheapest for what
 * the fd is (fdKind). Nothing here may hold the process: a stdout pipe that is full (its reader stopped reading, or
 * went away while another process holds its end) once kept a server up for more than 30 minutes after SIGTERM (an
 * attack on the production build, when pino's destination flushed synchronously at exit). So:
 * - lines go out in batches: a line logged while nothing waits starts a window of LOG_BATCH_MS (20 ms, a timer armed
 *   only then, so an idle process has none), the lines logged meanwhile join it, and its end writes them all as one;
 *   past LOG_BATCH_MAX_CHARS (64 KiB) a batch is written at the end of its turn instead. Per event-loop turn (until
 *   then) was one write per request at a moderate load, where each request is a turn of its own: at 600 requests/s
 *   (the bench's phase D, CIBIL, stdout a file, syscalls:sys_enter_write over the paired window) 1.77 write(2) calls
 *   per request -> 1.07, the one left being the upstream call (main thread system time 14-16 % above minimal
 *   Apollo's there before). A line now waits up to 20 ms to be written (its timestamp is the time it was logged);
 *   `settle` and the exit hook write what waits at once: process.exit and an uncaught exception ('exit') lose
 *   nothing the fd can take, a signal's default action or a crash of V8 itself (out of memory) loses the window's;
 * - a pipe or socket is written through a libuv stream (net.Socket; for fd 1, process.stdout, the same thing): the fd
 *   is non-blocking (Node already made it so for process.stdout), libuv writes on this thread at once and, when the
 *   pipe is full, keeps the rest and writes it when the pipe can take it (epoll), with no thread in between;
 * - a regular file (or /dev/null) is written with write(2) on this thread: a file never waits on a reader. A write that
 *   held the thread more than FILE_STALL_MS (a disk slower than the log, a network file system) moves the file's writes
 *   to libuv's threadpool (sonic-boom) for good, so a slow disk costs one stall, not one per line (a file on a network
 *   file system whose server is gone for good could hold that one write indefinitely: stdout is not put there);
 * - anything else (a terminal, which Ctrl-S can stop; another device) goes through the threadpool as before;
 * - the backlog is bounded (STDOUT_BACKLOG_MAX_BYTES; what does not fit is dropped and counted: droppedLines);
 * - a write error (EPIPE: the reader is gone; EBADF: the fd was closed) turns the writer into a no-op, never an
 *   unhandled 'error' event that would crash the process; other file errors (ENOSPC) drop the line and count it;
 * - `settle` waits for the backlog only as long as it is asked to; at exit only a non-blocking try is made.
 * Measured: a micro-benchmark (process CPU over all threads, getrusage, one 450-byte line per event-loop turn, less
 * the same loop writing nothing; 3 runs each, this 2-core machine beside other work): to a pipe read by `cat`
 * (100,000 lines) sonic-boom's threadpool write 8.1-11.4 µs per line, a libuv stream write 3.9-4.8 µs; to a file
 * (20,000 lines) sonic-boom 9.9-10.5 µs, write(2) 2.7-3.9 µs. The whole server on AEPS requests, all threads' on-CPU
 * time (/proc/PID/task/TID/schedstat) per request, interleaved pairs sonic-boom vs this (a shared, busy machine, so
 * absolute figures are high and vary):
 * - stdout a file, one request at a time (5,000): 619/742/662/634 vs 577/601/567/577 µs; 8 at a time (8,000):
 *   608/419/503 vs 444/355/391 µs;
 * - stdout a pipe read by `cat`, one at a time: 597/682/725/602 vs 559/557/673/541 µs; 8 at a time:
 *   457/435/461/433/409/391 vs 392/373/444/378/393/347 µs. Writing each line at once instead of per turn was worse at
 *   8 at a time: 427/446/426/414 vs 531/474/438/435 µs (one write and one wake-up of the reader per line, where
 *   sonic-boom joined the lines that arrived while a write was in flight);
 * - syscalls per request, one at a time (strace -f -c, 1,000 requests): file 2.6 write, 2.8 read, 3.5 futex -> 2.0,
 *   2.0, 0.6; pipe 3.0, 3.0, 4.3 -> 2.0, 2.0, 0.7 (the threadpool's futex wake, eventfd write and read are gone);
 * - a file written per turn rather than per line, at saturation (the bench's 64 connections, AEPS, 10,000 requests,
 *   `perf stat -e syscalls:sys_enter_write -p`, two runs each): write(2) calls per request 1.97/2.00 -> 1.02/1.04, the
 *   one left being the answer itself (minimal Apollo, which logs nothing: 0.99/0.99); the bench's CPU per request,
 *   interleaved in one run (4 rounds, a noisy host): AEPS 276/277/284/278 vs 483/279/285/285 µs, CIBIL within the
 *   noise (411/282/286/361 vs 368/299/347/308).
 */
export class FdWriter implements DestinationStream {
  /** Lines dropped because the backlog was full, or because a file write failed (ENOSPC ...). */
  droppedLines = 0;
  readonly kind: FdKind;
  readonly #fd: number;
  readonly #maxBacklog: number;
  readonly #stallMs: number;
  #dead = false;
  /** How lines go out now: a libuv stream, write(2) on this thread, or the threadpool (sonic-boom). */
  get via(): "stream" | "write" | "threadpool" {
    return this.#socket ? "stream" : this.#boom ? "threadpool" : "write";
  }
  /** Whether writing ended for good (EPIPE, EBADF): every later line is dropped unseen. */
  get dead(): boolean {
    return this.#dead;
  }
  #socket: net.Socket | null = null;
  #boom: SonicBoom | null = null;
  /** Socket writes not yet completed, and who waits for none to be left (settle). */
  #pending = 0;
  #settled: Array<() => void> = [];

  /**
   * The options other than `fd` are for tests: fdKind's answer and the constants STDOUT_BACKLOG_MAX_BYTES,
   * FILE_STALL_MS and LOG_BATCH_MS (0: one write per event-loop turn, at its end).
   */
  constructor(
    fd: number,
    options: { kind?: FdKind; maxBacklogBytes?: number; stallMs?: number; batchMs?: number } = {},
  ) {
    this.#fd = fd;
    this.kind = options.kind ?? fdKind(fd);
    this.#maxBacklog = options.maxBacklogBytes ?? STDOUT_BACKLOG_MAX_BYTES;
    this.#stallMs = options.stallMs ?? FILE_STALL_MS;
    this.#batchMs = options.batchMs ?? LOG_BATCH_MS;
    if (this.kind === "pipe") this.#socket = pipeSocket(fd, () => this.#die());
    else if (this.kind === "other") this.#boom = this.#threadpool();
  }

  write(line: string): boolean {
    if (this.#dead) return true;
    if (this.#boom) {
      this.#boom.write(line);
      return true;
    }
    // The length is in characters, not bytes: the bound is approximate for non-ASCII text.
    const held = (this.#socket ? this.#socket.writableLength : 0) + this.#batch.length;
    if (held > 0 && held + line.length > this.#maxBacklog) {
      this.droppedLines += 1;
      return true;
    }
    if (this.#batch === "") {
      // Ref'd, as the setImmediate before it: a process that ends on its own writes its last lines the usual way
      // (the exit hook's one non-blocking try is for process.exit and a fatal error); it lives LOG_BATCH_MS at most.
      if (this.#batchMs > 0) this.#timer = setTimeout(this.#writeBatch, this.#batchMs);
      WAITING.add(this);
      hookExit();
    }
    this.#batch += line;
    this.#batchLines += 1;
    // A batch grown past its bound, a window of 0, or someone waiting on settle: written at the end of this turn.
    if (
      this.#soon === null &&
      (this.#batch.length >= LOG_BATCH_MAX_CHARS || this.#batchMs <= 0 || this.#settled.length > 0)
    )
      this.#soon = setImmediate(this.#writeBatch);
    return true;
  }

  /**
   * Lines logged since the last write, written as one when the window (LOG_BATCH_MS) ends, at the end of the turn
   * that took them past LOG_BATCH_MAX_CHARS, at settle, or at exit; and how many.
   */
  #batch = "";
  #batchLines = 0;
  readonly #batchMs: number;
  /** The window's timer, and the end-of-turn write (setImmediate), while a batch waits. */
  #timer: NodeJS.Timeout | null = null;
  #soon: NodeJS.Immediate | null = null;
  /** Writes made (a stream write or a write(2) call per batch; tests read it through the fixture's report). */
  writes = 0;
  readonly #writeBatch = (): void => {
    const text = this.#batch;
    const lines = this.#batchLines;
    this.#batch = "";
    this.#batchLines = 0;
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#soon !== null) clearImmediate(this.#soon);
    this.#timer = this.#soon = null;
    WAITING.delete(this);
    if (this.#dead || text === "") return;
    this.writes += 1;
    if (this.#socket) {
      this.#pending += 1;
      this.#socket.write(text, this.#written);
    } else if (this.#boom) this.#boom.write(text);
    else this.#writeFile(text, lines);
    if (this.#pending > 0 || this.#settled.length === 0) return;
    // A file written here is done; one whose write just stalled (now on the threadpool) is done at its 'drain'.
    const boom = this.#boom;
    if (boom && (boom as unknown as { _writing: boolean })._writing) boom.once("drain", this.#resolveSettled);
    else this.#resolveSettled();
  };

  /**
   * What waits is written now, as at exit (writeAllWaiting), and what sonic-boom still holds (a terminal) with its
   * synchronous flush: for a process about to end at once (early-faults.ts), which no exit hook of sonic-boom's
   * would wait for.
   */
  flushNow(): void {
    this.#writeBatch();
    try {
      this.#boom?.flushSync();
    } catch {
      // Its fd not ready, or gone: the line is lost either way.
    }
  }

  /**
   * At exit (process.exit, the end of an uncaught exception; not a signal's default action nor a crash of V8 itself),
   * what still waits is written at once: a file with write(2), a pipe through its stream, which tries write(2) at once
   * on the non-blocking fd and keeps nothing for later (the process is ending: what a full pipe cannot take is lost).
   */
  static writeAllWaiting(): void {
    for (const writer of WAITING) writer.#writeBatch();
  }

  readonly #written = (): void => {
    this.#pending -= 1;
    // Settled only once nothing is held either: lines logged after the write that just completed are written when
    // their batch is (at the end of the turn, as someone is waiting), and a write that completes before then (a full
    // pipe drained in the poll phase, before the check phase) must not let settle() resolve without them (the process
    // would exit first).
    if (this.#pending === 0 && this.#batch === "") this.#resolveSettled();
  };

  readonly #resolveSettled = (): void => {
    for (const resolve of this.#settled.splice(0)) resolve();
  };

  /** One batch of lines to a file, with write(2) on this thread; a short write is continued (a disk nearly full). */
  #writeFile(text: string, lines: number): void {
    const started = performance.now();
    try {
      const written = fs.writeSync(this.#fd, text);
      if (written < Buffer.byteLength(text)) {
        const bytes = Buffer.from(text);
        for (let at = written; at < bytes.length;) at += fs.writeSync(this.#fd, bytes, at);
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EPIPE" || code === "EBADF") this.#die();
      else this.droppedLines += lines;
      return;
    }
    if (performance.now() - started > this.#stallMs) this.#boom = this.#threadpool();
  }

  #threadpool(): SonicBoom {
    const boom = new SonicBoom({ fd: this.#fd, sync: false, maxLength: this.#maxBacklog });
    boom.on("drop", () => {
      this.droppedLines += 1;
    });
    // Nowhere left to write: lines are lost either way; without this listener the error would end the process.
    boom.on("error", () => this.#die());
    return boom;
  }

  #die(): void {
    this.#dead = true;
    this.#resolveSettled();
  }

  /**
   * pino's `logger.flush(cb)` (the cluster primary flushes before it exits): `settle` with FLUSH_MAX_WAIT_MS, so the
   * lines waiting for their window are written first and a full pipe still cannot hold the caller.
   */
  flush(done: (error?: Error) => void): void {
    void this.settle(FLUSH_MAX_WAIT_MS).then(() => done());
  }

  /**
   * Resolves once everything written so far has reached the fd, or after `maxWaitMs` whatever remains (an unread pipe
   * never drains). Never blocks the thread. At once when nothing is waiting (always, for a file written directly).
   */
  settle(maxWaitMs: number): Promise<void> {
    if (this.#dead) return Promise.resolve();
    const boom = this.#boom;
    // sonic-boom keeps whether a write is in progress in `_writing` (no public accessor); it emits 'drain' when the
    // last write of its backlog has completed.
    if (boom) {
      if (!(boom as unknown as { _writing: boolean })._writing) return Promise.resolve();
      return withTimeout((done) => {
        boom.once("drain", done);
        // Or its write fails for good (#die).
        this.#settled.push(done);
      }, maxWaitMs);
    }
    // What waits for its window goes out now: to a file, done on return; to a pipe, one more write to wait for.
    if (this.#batch !== "") this.#writeBatch();
    if (this.#pending === 0) return Promise.resolve();
    return withTimeout((done) => this.#settled.push(done), maxWaitMs);
  }
}

function withTimeout(wait: (done: () => void) => void, maxWaitMs: number): Promise<void> {
  return new Promise((resolve) => {
    // After the write completions readable by then (util/after-io.ts): lines written during a stall of the loop are
    // not reported unflushed.
    const timer = timeoutAfterIo(resolve, maxWaitMs, undefined);
    wait(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The writers holding a batch, for the exit hook. */
const WAITING = new Set<FdWriter>();
let exitHooked = false;

/** Adds the exit hook (FdWriter.writeAllWaiting) at the first batch: once per process, whatever the writers. */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on("exit", () => FdWriter.writeAllWaiting());
}

/**
 * A libuv stream on a pipe or socket fd, non-blocking. For fd 1 it is process.stdout (Node builds it as a net.Socket
 * on the fd; libuv refuses a second handle on an fd it is polling, and the config already read process.stdout.isTTY).
 */
function pipeSocket(fd: number, onError: () => void): net.Socket {
  const socket =
    fd === 1 && process.stdout instanceof net.Socket
      ? process.stdout
      : new net.Socket({ fd, readable: false, writable: true });
  // EPIPE, EBADF: without this listener the error would end the process.
  socket.on("error", onError);
  return socket;
}

let stdout: FdWriter | undefined;

/** The one writer of the process's log to stdout (fd 1): FdWriter says how, and why nothing can hold the process. */
export function stdoutStream(): FdWriter {
  stdout ??= new FdWriter(1);
  return stdout;
}

/** FdWriter.flushNow on stdout's writer, if there is one: before a process.exit that cannot wait (early-faults.ts). */
export function flushStdoutNow(): void {
  stdout?.flushNow();
}

/** Log lines dropped because stdout's backlog was full (see FdWriter). */
export function droppedLogLines(): number {
  return stdout?.droppedLines ?? 0;
}

/**
 * Resolves once stdout has taken everything logged to it, or after `maxWaitMs` whatever remains (an unread pipe never
 * drains). Never blocks the thread. Resolves at once when nothing was logged to stdout.
 */
export function settleStdout(maxWaitMs: number): Promise<void> {
  return stdout ? stdout.settle(maxWaitMs) : Promise.resolve();
}
