// First: a stop signal while the other modules load must not be lost (see early-signals.ts).
import {
  CUT_WATCHDOG_MS,
  endStartingWith,
  ignoredSignalLine,
  SHUTDOWN_WATCHDOG_MARGIN_MS,
  type StopCause,
  type StopOrder,
  takeStopOrders,
} from "./early-signals";
// Second: the accessor globals that dependencies read per request, as plain data properties (see redefine-globals.ts).
import "./redefine-globals";
// Third, before the server's modules load: uncaught exceptions, unhandled rejections and Node's warnings are
// logged scrubbed, not printed raw (see early-faults.ts).
import { logFaultsTo } from "./early-faults";
import "reflect-metadata";
import { constants } from "node:os";
import process from "node:process";
import {
  answerStopNow,
  isClusterPrimary,
  isClusterWorker,
  joinCluster,
  runPrimary,
  type StopNowDone,
  tellStopBound,
  tellWatchdogCode,
  workerFields,
  workerLogger,
} from "./cluster";
import { type Config, ConfigError, loadConfig, logOptions, secretValues, settingsTaken, upstreamOf } from "./config";
import { failStart } from "./logging/fail-start";
import { createLogger, flushStdoutNow, type Logger, settleStdout } from "./logging/logger";
import { startStack } from "./stack";
import { monotonicNow } from "./util/clock";
import { refuseArguments } from "./util/command-line";

/** How long the last log lines may take to reach stdout before the process exits anyway. */
const LOG_SETTLE_MS = 300;
/**
 * Kept free before the watchdog's moment by what the stop waits for last (the trace export, then the log settle): the
 * exit itself, and timers that run late on a busy host. What is left of the budget then bounds the export
 * (stack.ts): its own cap of 3 s (telemetry.ts) is larger than the watchdog's margin, and a collector that did not
 * answer made the watchdog end a drain that had finished.
 */
const EXIT_SLACK_MS = 200;

/**
 * Why this Node cannot run the server, or null: the server needs Node 22.15 or later (package.json `engines`; the
 * answer reader uses `JSON.isRawJSON`, aopay/envelope.ts). `npm start` checks it first (scripts/check-node.js), but
 * `node dist/index.js` (a unit file, a process manager, another image) did not: on Node 20 the server started, sent
 * every OTP and then failed reading AOPay's answer, `INTERNAL_SERVER_ERROR` to the client after the SMS had gone,
 * an answer that invites the retry a cooldown of 0 lets through (an attack review ran it so).
 */
function unsupportedNode(version: string): string | null {
  const [major, minor] = version.split(".").map(Number);
  if (major > 22 || (major === 22 && minor >= 15)) return null;
  return `This is Node.js ${version}; the server needs Node.js 24 (or 22.15 and later): it did not start.`;
}

/** Process entry: `npm start` (via dist/index.js) and the Docker image. */
async function main(): Promise<void> {
  refuseArguments(
    "usage: npm start   (or node dist/index.js; no arguments: settings come from the environment, e.g.\n" +
      "       PORT=4000 npm start: docs/configuration.md, .env.example)\n",
  );
  const tooOld = unsupportedNode(process.versions.node);
  if (tooOld !== null) {
    failStart(tooOld, "unsupported Node.js: the server did not start", { node: process.versions.node }, 78);
    return;
  }
  // Until the stack's logger exists, faults are logged with the environment's secrets hidden too, by the same logger
  // that says a stop while starting (one Scrubber of the environment's secrets, not one each).
  let startLog: Logger = createLogger({ level: "info", secrets: secretValues(process.env) });
  logFaultsTo(startLog);
  // A stop signal (or, in a worker, the primary's order) before the drain is wired: one line, then the exit at once
  // (early-signals.ts). Nothing was served yet, unless the listener is open: from the moment it is, a connection may
  // be served (a few ticks before listen() resolves; with HOST=localhost Fastify once looked the name up again
  // meanwhile, before one address was bound: http-server.ts listenAddress), and the stop is kept for the drain instead
  // (early-signals.ts takeStopOrders).
  let listening = (): boolean => false;
  endStartingWith((cause) => {
    if (listening()) return false;
    const msg =
      "signal" in cause
        ? "stop signal while starting: exiting, nothing served yet"
        : `stopped while starting (${cause.reason}): exiting, nothing served yet`;
    startLog.info(cause, msg);
    flushStdoutNow();
    process.exit(0);
  });
  let config: Config;
  try {
    // In a terminal, development logs are readable lines (LOG_FORMAT defaults to pretty there); piped, JSON.
    config = loadConfig(process.env, { stdoutIsTTY: process.stdout.isTTY === true, execArgv: process.execArgv });
  } catch (error) {
    if (error instanceof ConfigError) {
      // ConfigError messages never contain values of secret settings (settings/schema.ts).
      const msg = "invalid configuration: the server did not start";
      failStart(error.message, msg, { problems: error.problems }, 78, secretValues(process.env)); // 78: EX_CONFIG
      return;
    }
    throw error;
  }

  // From here faults, warnings and the debug module's lines (early-faults.ts) are logged at the configured level with
  // every secret hidden: DEBUG=ioredis:* shows the connection's first commands, made while the stack starts.
  // A worker's lines say which worker wrote them, its fault at start too (the primary's line names only the pid).
  startLog = isClusterWorker() ? workerLogger(config) : createLogger(logOptions(config));
  logFaultsTo(startLog);
  if (isClusterPrimary(config)) {
    // WEB_CONCURRENCY > 1: this process only supervises the workers (cluster.ts); each runs the rest of main().
    await runPrimary(config);
    return;
  }
  const worker = isClusterWorker();
  const stack = await startStack(config, worker ? { serveMetrics: false, logger: workerLogger(config) } : {});
  const { app, simulator } = stack;
  const log = app.logger;
  logFaultsTo(log);
  listening = () => app.fastify.server.listening;
  if (worker) {
    joinCluster(app, () => {
      // The primary died (an out-of-memory kill, a SIGKILL to it alone): nothing hands this worker new connections,
      // no order will come. Those it has are finished, within the grace period, rather than cut.
      log.warn("the primary is gone: draining now");
      shutdown({ reason: "primary gone" }, "stop now");
    });
  }
  if (simulator) {
    const banner = "*".repeat(78);
    log.warn(
      { simulatorUrl: simulator.url.href },
      `\n${banner}\n  AOPAY_BASE_URL is not set: answering with the BUILT-IN AOPay SIMULATOR.\n` +
        `  No real OTP is sent. Scenario triggers: see docs/simulator.md "Simulator scenarios".\n${banner}`,
    );
  }
  const url = await app.listen();
  // In development, where to explore it: Apollo Sandbox on /graphql, and GraphiQL served by this server (no CDN).
  const explorer = config.env === "production" ? {} : { explorer: `${url}/graphiql/` };
  // Which settings it took from the environment (config.ts settingsTaken: values shown only when harmless).
  log.info(
    {
      url: `${url}/graphql`,
      ...explorer,
      env: config.env,
      upstream: upstreamOf(config.aopay),
      settings: settingsTaken(process.env),
    },
    "GraphQL server ready",
  );

  // SHUTDOWN_DELAY_MS: the pre-stop delay's timer while it runs; the drain starts when it fires or at a second signal.
  let delay: NodeJS.Timeout | undefined;
  /** The signal that cut the drain short (a stop signal during it), once one has. */
  let cutBy: NodeJS.Signals | undefined;
  /** The drain's watchdog: armed when it begins, moved closer when it is cut short. */
  let watchdog: NodeJS.Timeout | undefined;
  /** When the watchdog fires (monotonic ms), once the drain has begun: every later step fits before it. */
  let deadline = Number.POSITIVE_INFINITY;
  /** The exit code the stop has decided once it is over (only its last lines settling): the watchdog's too. */
  let decided: number | undefined;
  /**
   * "stop": the delay (if any), then the drain; "stop now" (a second signal, the primary gone): the drain at once;
   * a stop signal during the drain cuts it short (cutShort). Returns what a "stop now" did (a worker tells the
   * primary: cluster.ts answerStopNow).
   */
  function shutdown(cause: StopCause, order: StopOrder): StopNowDone {
    if (signalled) {
      if (order !== "stop now") return null;
      if (delay !== undefined) {
        // A second signal during the delay (^C pressed twice): the operator wants it down now, not in a few seconds.
        clearTimeout(delay);
        delay = undefined;
        if ("signal" in cause) log.info(cause, "second stop signal: draining now");
        drain(cause);
        return "drain now";
      }
      // The primary gone during the drain: the drain goes on (it was already under way, the primary's doing).
      return "signal" in cause ? cutShort(cause.signal) : null;
    }
    signalled = true;
    if (config.shutdownDelayMs > 0 && order === "stop") {
      // Behind Kubernetes the endpoint is removed a few seconds after SIGTERM, and the connections routed here
      // meanwhile were refused once the listener closed: served instead, until the load balancers have caught up.
      app.leaveRotation();
      log.info(
        { ...cause, delayMs: config.shutdownDelayMs },
        "stop signal: not ready, still serving for SHUTDOWN_DELAY_MS before draining",
      );
      delay = setTimeout(() => {
        delay = undefined;
        drain(cause);
      }, config.shutdownDelayMs);
      // The bound this worker keeps (its watchdog, once armed): the primary kills it no sooner (cluster.ts).
      if (worker) tellStopBound(config.shutdownDelayMs + config.shutdownGraceMs + SHUTDOWN_WATCHDOG_MARGIN_MS);
      return null;
    }
    drain(cause);
    return order === "stop now" ? "drain now" : null;
  }

  /**
   * The process's end, SHUTDOWN_GRACE_MS + the margin after the drain began (or sooner: cutShort), whatever hangs.
   * Its exit code is the stop's own when the stop already has one: the code it decided (0, or 128 + N after a cut)
   * when only the last lines' settle was left, 128 + N when a cut drain hangs. It exited 1 in both, which a
   * supervisor reads as a drain that failed.
   */
  function armWatchdog(at: number, within: string) {
    clearTimeout(watchdog);
    deadline = at;
    // In a worker, told to the primary: its kill of the workers still running comes at their own bounds, never its
    // guess of them (cluster.ts).
    if (worker) tellStopBound(at - monotonicNow());
    // Unref'd: it never keeps the process up, it only ends one that something else keeps up. A plain timer (not
    // util/after-io.ts timeoutAfterIo): a bound of the process's life, which a stall of its loop counts against.
    watchdog = setTimeout(
      () => {
        if (decided !== undefined) {
          process.stderr.write(`shutdown's last log lines did not settle within ${within}: exiting ${decided}\n`);
          process.exit(decided);
        }
        const code = cutBy === undefined ? 1 : 128 + constants.signals[cutBy];
        const what = cutBy === undefined ? "shutdown" : `shutdown cut short by ${cutBy}`;
        process.stderr.write(`${what} did not finish within ${within}: exiting ${code}\n`);
        process.exit(code);
      },
      Math.max(0, at - monotonicNow()),
    ).unref();
  }

  function drain(cause: StopCause) {
    log.info(cause, "shutting down: finishing in-flight requests");
    // Armed when the drain begins, after the delay: the process is gone by SIGTERM + SHUTDOWN_DELAY_MS +
    // SHUTDOWN_GRACE_MS + the margin (what terminationGracePeriodSeconds must cover), sooner after a second signal.
    armWatchdog(
      monotonicNow() + config.shutdownGraceMs + SHUTDOWN_WATCHDOG_MARGIN_MS,
      `SHUTDOWN_GRACE_MS + ${SHUTDOWN_WATCHDOG_MARGIN_MS} ms`,
    );
    // The last lines get a moment to reach stdout, never a synchronous flush (logging/logger.ts says why), and never
    // past the watchdog's moment (less the slack of the exit).
    const exit = (code: number) => {
      decided = code;
      // The watchdog's code now, in a worker told to the primary: its kill at the same bound counts it (cluster.ts).
      if (worker) tellWatchdogCode(code);
      const settleMs = Math.min(LOG_SETTLE_MS, deadline - EXIT_SLACK_MS - monotonicNow());
      void settleStdout(Math.max(0, settleMs)).then(() => process.exit(code));
    };
    // The trace export gets what is left once the settle and the slack are kept (read when it starts: a cut may
    // have moved the deadline closer).
    const exportWithinMs = () => Math.max(0, deadline - LOG_SETTLE_MS - EXIT_SLACK_MS - monotonicNow());
    stack
      .stop(exportWithinMs)
      .then(() => {
        log.info(cutBy === undefined ? {} : { cutBy }, "stopped");
        // Cut short: 128 + the signal's number, as a shell reports a process ended by it (130 for ^C, 143 for
        // SIGTERM): not 0, for its requests in flight were cut, and not 1 (a drain that failed or overran).
        exit(cutBy === undefined ? 0 : 128 + constants.signals[cutBy]);
      })
      .catch((error: unknown) => {
        log.error({ err: error }, "error during shutdown");
        exit(1);
      });
  }

  /**
   * A stop signal during the drain (^C pressed again, a second SIGTERM when there is no delay): the operator will not
   * wait out SHUTDOWN_GRACE_MS. Before, it did nothing, without a line, and a third ^C waited the grace period out.
   * The drain's end comes now: upstream calls aborted (their requests answered OutcomeUnknown, never retried: each
   * logged as such), the connections cut a moment later; the line says how much was in flight.
   */
  function cutShort(signal: NodeJS.Signals): StopNowDone {
    const cutFrom = app.cutShort();
    if (cutFrom === null) return null; // Cut already (a fourth ^C), or the drain is over.
    const cutEnd = monotonicNow() + CUT_WATCHDOG_MS;
    if (cutEnd < deadline) armWatchdog(cutEnd, `${CUT_WATCHDOG_MS} ms of the drain cut short`);
    if (cutFrom.requestsInFlight === 0 && cutFrom.upstreamCalls === 0) {
      // Nothing in flight (the drain's last steps: Apollo, Redis, the trace export): its end comes as soon, but no
      // request was cut, and the stop is a clean one, exit 0 (docs/operations.md). It logged a cut of 0 requests and
      // exited 128 + N, which a supervisor reads as requests lost; the primary counted the worker as cut.
      log.info({ signal }, "stop signal during the drain: nothing in flight to cut, ending the stop now");
      return null;
    }
    cutBy = signal;
    if (worker) tellWatchdogCode(128 + constants.signals[signal]);
    log.warn({ signal, ...cutFrom }, "stop signal during the drain: cutting it short, requests in flight end now");
    return cutFrom;
  }
  takeStopOrders({
    order: (order, cause) => {
      const done = shutdown(cause, order);
      if (worker && order === "stop now") answerStopNow(done);
    },
    ignored: (signal, why) => log.info({ signal, ignored: why }, ignoredSignalLine(why)),
  });
}

let signalled = false;

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  failStart(
    `Failed to start: ${message}`,
    "the server did not start",
    { error: message, ...workerFields() },
    1,
    secretValues(process.env),
  );
});
