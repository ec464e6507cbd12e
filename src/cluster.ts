import process from "node:process";
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, Counter, type MetricObjectWithValues, type MetricValue, Registry } from "prom-client";
import type { App } from "./app";
import { type Config, logOptions } from "./config";
import {
  CUT_WATCHDOG_MS,
  ignoredSignalLine,
  SHUTDOWN_WATCHDOG_MARGIN_MS,
  STOP_MESSAGE,
  type StopCause,
  type StopMessage,
  type StopOrder,
  takeStopOrders,
} from "./early-signals";
import { createLogger, type Logger } from "./logging/logger";
import { MetricsServer, metricsAuth } from "./http/metrics-server";
import { timeoutAfterIo } from "./util/after-io";
import { monotonicNow } from "./util/clock";

/**
 * WEB_CONCURRENCY=N (N > 1): one Node process uses one core, so the primary forks N workers (`node:cluster`), each a
 * full server on the same port (the primary accepts connections and hands them out in turn). Shared state lives in
 * Redis (config.ts refuses N > 1 without REDIS_URL: in-memory budgets would be multiplied by N; and with the built-in
 * simulator, whose OTPs live in each worker). The primary:
 *   - restarts a worker that dies, after 1 s, doubling up to 30 s while workers keep dying young (a crash loop must
 *     not spin), back to 1 s once a worker has lived STABLE_MS; but one that dies before any worker has listened
 *     ends the cluster with its exit code (its start failed, as a single server's does: failedStart);
 *   - kills (SIGKILL) a worker that leaves its heartbeat unanswered for WORKER_HANG_TIMEOUT_MS (from when it was sent,
 *     judged after the answers readable by then are read: a stall of the primary's loop is no worker's), then
 *     restarts it as a dead one: a worker whose event loop is stuck (a loop that never ends, a process stopped)
 *     still had connections handed to it in turn, each left unanswered, and nothing noticed it
 *     (test/e2e/cluster.test.ts);
 *   - on a stop signal (SIGTERM, SIGINT, SIGHUP, SIGQUIT: early-signals.ts) orders every worker to stop, over the
 *     IPC channel (each waits SHUTDOWN_DELAY_MS and drains as a single server does, SHUTDOWN_GRACE_MS; a second
 *     signal is passed on as "stop now", the drain at once, and one during the drain cuts it short) and exits when
 *     all have, with the exit code a single server would have (0, or the first worker's that ended otherwise);
 *     SIGKILLs the ones still running at the bound each tells it (its own watchdog's, index.ts), or 2 s after a "stop
 *     now" one has not answered (killAtBound; docs/operations.md).
 *     Workers take no signal themselves (early-signals.ts): a process group's signal reached each worker twice, from
 *     the kernel and passed on by the primary, and the second cut its delay short;
 *   - serves the metrics of all workers, aggregated (prom-client's AggregatorRegistry.aggregate, each worker's series
 *     asked for over the cluster's IPC channel: ClusterMetrics), on METRICS_HOST:METRICS_PORT, with the counters and
 *     histograms of the workers gone since the start kept in their sums, followed by its own
 *     (cluster_worker_restarts_total). Workers open no metrics listener.
 */

const FIRST_RESTART_DELAY_MS = 1_000;
const MAX_RESTART_DELAY_MS = 30_000;
/** A worker that lived this long was healthy: the next restart starts again from the first delay. */
const STABLE_MS = 60_000;

/** What the primary sends each worker, and the worker sends back at once from its event loop (joinCluster). */
const HEARTBEAT = "aopay:heartbeat";

/** How often the primary sends the heartbeat: a quarter of the timeout, at most every 5 s (none in between). */
export function heartbeatIntervalMs(hangTimeoutMs: number): number {
  return Math.max(250, Math.min(5_000, Math.floor(hangTimeoutMs / 4)));
}

const isHeartbeat = (message: unknown): boolean => isMessage(message, HEARTBEAT);

/**
 * A worker's answer to the primary's "stop now" (joinCluster answerStopNow): what it did with it. The primary's line
 * counts the answers: it logged the workers it still had (`workers: 0` once they had gone, every worker counted as
 * cut whether it was draining, in its delay, or past its drain with nothing left to cut).
 */
const STOP_NOW_ANSWER = "aopay:stop-now-answer";

/** "drain now": it was in SHUTDOWN_DELAY_MS; a cut: its drain cut short, with what it cut; null: nothing left to do. */
export type StopNowDone = "drain now" | { requestsInFlight: number; upstreamCalls: number } | null;

interface StopNowAnswer {
  type: typeof STOP_NOW_ANSWER;
  done: StopNowDone;
}

/**
 * What a worker's watchdog would exit with now (index.ts armWatchdog), told to the primary each time it changes:
 * 128 + N once it cut its drain, the code its drain chose once only its last lines settle (joinCluster
 * tellWatchdogCode). A worker the primary kills at the stop's bound counts that: the kill comes at the watchdog's
 * moment (the bound the worker told, STOP_BOUND), and a worker whose drain had chosen 0 was counted 1 when the kill
 * came first.
 */
const WATCHDOG_CODE = "aopay:watchdog-code";

interface WatchdogCode {
  type: typeof WATCHDOG_CODE;
  code: number;
}

/**
 * When a worker's stop ends at the latest, told to the primary each time the worker sets it (index.ts): its
 * SHUTDOWN_DELAY_MS + SHUTDOWN_GRACE_MS + 1 s as its delay begins, its watchdog's moment once its drain has begun,
 * moved closer by a cut. In ms from when it is sent: the primary adds them to its own clock as it reads them, so its
 * kill comes at that bound or after it (the message's time on the channel), never before.
 */
const STOP_BOUND = "aopay:stop-bound";

interface StopBound {
  type: typeof STOP_BOUND;
  inMs: number;
}

/** How long the primary waits for its workers' answers to "stop now" before it logs what it has. */
const STOP_NOW_ANSWER_WAIT_MS = 1_000;

/** What the primary asks each worker for its metrics with, and the worker's answer (its registry's series as JSON). */
const METRICS_ASK = "aopay:metrics";
const METRICS_ANSWER = "aopay:metrics-answer";
/**
 * How long the primary waits for every worker's metrics before the scrape fails (prom-client's clusterMetrics: 5 s).
 */
const METRICS_TIMEOUT_MS = 5_000;

type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

interface MetricsAnswer {
  type: typeof METRICS_ANSWER;
  id: number;
  metrics?: WorkerMetrics;
  error?: string;
}

/** The series whose sums must never go down: a gauge of a worker gone says nothing of now. */
const KEPT_TYPES: ReadonlySet<string> = new Set(["counter", "histogram"]);

const isMessage = (message: unknown, type: string): boolean =>
  typeof message === "object" && message !== null && (message as { type?: unknown }).type === type;

/** A worker as ClusterMetrics uses it (node:cluster's Worker; a stand-in in unit tests). */
export interface MetricsWorker {
  isConnected(): boolean;
  send(message: object, handle: undefined, callback: (error: Error | null) => void): boolean;
}

/**
 * The primary's page of every worker's metrics. The workers' series are summed (or merged by each metric's own
 * aggregator: eventloop-lag.ts, metrics.ts), and a counter or histogram summed over the workers alive went down when
 * one of them died, its counts gone with it: Prometheus reads a counter that went down as reset to 0, so `increase()`
 * and `rate()` counted every survivor's whole count since its start once more. One worker's death (an out-of-memory
 * kill, a hung worker killed) made `increase(...) > 0` alerts page on a 500, a refused credential or a pumping budget
 * of days before (test/e2e/cluster.test.ts). So each worker's last answer is kept, and when it exits, its counters and
 * histograms are added to those of the workers gone before: the page's counters only go up while the primary lives,
 * short of what a worker counted after its last scrape (lost with it). Gauges of a worker gone are dropped.
 */
export class ClusterMetrics {
  readonly #last = new Map<MetricsWorker, WorkerMetrics>();
  /** The counters and histograms of the workers gone, summed; [] before any is. */
  #gone: WorkerMetrics = [];
  /** The scrapes under way: each takes a worker's answer, or its exit (its last answer is then in #gone). */
  readonly #waiting = new Map<number, (worker: MetricsWorker, answer: MetricsAnswer | null) => void>();
  #nextId = 0;
  /** Each counter's and histogram's series as last shown (bounded: label values are the code's, metrics.ts). */
  readonly #shown = new Map<string, number>();

  constructor(private readonly timeoutMs = METRICS_TIMEOUT_MS) {}

  /** A message from a worker: an answer to an ask of ours, or not ours (ignored). */
  message(worker: MetricsWorker, message: unknown): void {
    if (!isMessage(message, METRICS_ANSWER)) return;
    const answer = message as MetricsAnswer;
    this.#waiting.get(answer.id)?.(worker, answer);
  }

  /** A worker exited: its last counts stay in the page's sums. */
  exited(worker: MetricsWorker): void {
    const last = this.#last.get(worker);
    this.#last.delete(worker);
    if (last !== undefined) {
      const kept = last.filter((m) => KEPT_TYPES.has(String(m.type)));
      this.#gone = AggregatorRegistry.aggregate([this.#gone, kept])
        .getMetricsAsArray()
        .map((metric) => (metric as unknown as { get(): WorkerMetrics[number] }).get());
    }
    // A scrape waiting for it no longer does (it would time out, the page lost for a death the sums already hold).
    for (const waiting of [...this.#waiting.values()]) waiting(worker, null);
  }

  /** Every connected worker's series, merged with those of the workers gone, in Prometheus' text format. */
  async page(workers: readonly MetricsWorker[]): Promise<string> {
    const asked = workers.filter((w) => w.isConnected());
    const got = new Map<MetricsWorker, WorkerMetrics | null>();
    await new Promise<void>((resolve, reject) => {
      const id = this.#nextId++;
      const settle = (error: Error | null) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        if (error) reject(error);
        else resolve();
      };
      // prom-client's message: MetricsCollectionFailed's runbook quotes it. Judged after the workers' answers readable
      // by then are read (util/after-io.ts): after a stall of the primary's loop, answers sent in time are not late.
      const timer = timeoutAfterIo(() => settle(new Error("Operation timed out.")), this.timeoutMs, undefined);
      this.#waiting.set(id, (worker, answer) => {
        if (!asked.includes(worker) || got.has(worker)) return;
        if (answer !== null && (answer.error !== undefined || answer.metrics === undefined)) {
          settle(new Error(answer.error ?? "a worker answered without metrics"));
          return;
        }
        // null: it exited first, its last answer in #gone.
        got.set(worker, answer === null ? null : (answer.metrics as WorkerMetrics));
        if (answer !== null) this.#last.set(worker, answer.metrics as WorkerMetrics);
        if (got.size === asked.length) settle(null);
      });
      if (asked.length === 0) settle(null);
      for (const worker of asked) worker.send({ type: METRICS_ASK, id }, undefined, () => {});
    });
    // A worker that answered, then exited, is in #gone with that answer: counted there only.
    const answers = [...got].flatMap(([worker, metrics]) =>
      metrics !== null && this.#last.has(worker) ? [metrics] : [],
    );
    if (answers.length === 0 && this.#gone.length === 0) return "";
    const registry = AggregatorRegistry.aggregate([...answers, this.#gone]);
    // The same counts summed in another order (the answers come as they come; a worker's moved into #gone) may differ
    // in their last bit ('_sum' series are fractions), and Prometheus reads any fall as a reset: a counter's series is
    // never shown below what it was, the only falls left being such rounding (test/e2e/cluster.test.ts met one).
    for (const metric of registry.getMetricsAsArray()) {
      const data = (metric as unknown as { get(): WorkerMetrics[number] }).get();
      if (!KEPT_TYPES.has(String(data.type))) continue;
      for (const series of data.values as { value: number; labels: object; metricName?: string }[]) {
        const key = `${series.metricName ?? data.name}${JSON.stringify(series.labels)}`;
        const shown = this.#shown.get(key);
        if (shown !== undefined && series.value < shown) series.value = shown;
        else this.#shown.set(key, series.value);
      }
    }
    return registry.metrics();
  }
}

/** The next restart delay after `failures` consecutive early deaths (1 → 1 s, 2 → 2 s, ... capped at 30 s). */
export function restartDelayMs(failures: number): number {
  return Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** Math.max(0, failures - 1));
}

/** Runs the primary: forks `config.webConcurrency` workers and supervises them until a stop signal. */
export async function runPrimary(config: Config): Promise<void> {
  const log = createLogger(logOptions(config)).child({ component: "cluster" });
  const slots = new Map<Worker, { slot: number; startedAt: number }>();
  const failures = new Map<number, number>();
  const restarts = new Set<NodeJS.Timeout>();
  /**
   * Each listening worker: when each heartbeat it has not answered yet was sent (monotonic ms), oldest first. A worker
   * answers them in the order they came, over its one IPC channel, so each answer is the oldest one's.
   */
  const unanswered = new Map<Worker, number[]>();
  let stopping = false;
  /**
   * The exit code of the first worker that ended other than cleanly after the stop began (1 for one killed by a
   * signal: the SIGKILL below): its requests in flight may have been cut. The primary exits with it, as a single server
   * ended the same way would (index.ts): 70 for a crash (early-faults.ts), 1 for its watchdog or a failed drain, 128 +
   * the signal's number for a drain cut short. It exited 0 whatever its workers' ends were, then 1 for any of them
   * (a crash during the stop: 70 in a single server, 1 in a cluster).
   */
  let uncleanCode: number | undefined;
  /** Why the cluster stops, once it does: the primary's stop signal, or its failed start. */
  let stopCause: StopCause | undefined;
  /** The signal of the first "stop now" that cut a worker's drain short (its exit code's cause), once one has. */
  let cutBy: NodeJS.Signals | undefined;
  /** Whether a worker has listened since the primary started: until one has, the cluster is still starting. */
  let listenedOnce = false;
  /**
   * The exit code of a worker that died before any worker had listened: the cluster's start failed, and the primary
   * exits with it (1 for a worker killed by a signal), as a single server whose start fails does (index.ts). It
   * restarted such workers forever instead (1 s, doubling to 30 s): a port in use, an unreachable dependency or a
   * fault at start, with no worker serving, no exit for a supervisor to see and restart on, only an error line each
   * time.
   */
  let failedStart: number | undefined;

  const clusterMetrics = new ClusterMetrics();
  cluster.on("message", (worker, message) => clusterMetrics.message(worker, message));
  // The primary's own metrics: a worker's death is seen here only (the worker is gone), so no worker's page can say it.
  // Before, a crash loop was an error line per death and nothing on the page: no alert could fire on it. Listed at 0
  // from the first scrape, and on the page even while no worker is up.
  const own = new Registry();
  const restarted = new Counter({
    name: "cluster_worker_restarts_total",
    help: "Workers that died while the cluster was not stopping, each restarted by the primary after a delay.",
    registers: [own],
  });
  const metricsServer = config.metrics.enabled
    ? new MetricsServer(
        config.metrics,
        {
          contentType: own.contentType,
          metrics: async () => (await clusterMetrics.page([...slots.keys()])) + (await own.metrics()),
        },
        log,
        config.httpLimits,
      )
    : null;

  const fork = (slot: number) => {
    const worker = cluster.fork();
    slots.set(worker, { slot, startedAt: monotonicNow() });
    log.info({ worker: { slot, pid: worker.process.pid } }, "worker started");
  };

  // Watched from the moment it listens (its start, module loading included, may take seconds on a busy host).
  cluster.on("listening", (worker) => {
    listenedOnce = true;
    if (slots.has(worker) && !unanswered.has(worker)) unanswered.set(worker, []);
  });
  cluster.on("message", (worker, message) => {
    if (isHeartbeat(message)) unanswered.get(worker)?.shift();
  });
  /**
   * A worker is hung once the oldest heartbeat it has not answered was sent WORKER_HANG_TIMEOUT_MS ago, judged after
   * the answers readable by then are read (util/after-io.ts). Before, it was judged from the last answer the primary
   * had read, at the timers phase: after a stall of the primary's own loop past the timeout (a GC pause, a CPU-starved
   * container), on waking it killed every healthy worker, its last answers read before the stall (no heartbeat sent
   * meanwhile), or come during it and still unread in the channel (test/e2e/cluster.test.ts). A worker whose answer is
   * missing at that check phase was silent for the whole timeout after a heartbeat it was sent.
   */
  const judge = (worker: Worker) => {
    const sent = unanswered.get(worker);
    if (sent === undefined || sent.length === 0) return; // answered meanwhile, gone, or the stop began
    const silentMs = monotonicNow() - sent[0];
    if (silentMs < config.workerHangTimeoutMs) return;
    // SIGKILL: a stuck event loop runs no handler, SIGTERM's drain included. Its requests are lost with it, as in a
    // crash: a send already at AOPay keeps its Idempotency-Key pending (a repeat is answered OutcomeUnknown).
    unanswered.delete(worker);
    log.error(
      { worker: { slot: slots.get(worker)?.slot, pid: worker.process.pid, silentMs } },
      "worker not answering: killing it",
    );
    worker.process.kill("SIGKILL");
  };
  const heartbeat = setInterval(() => {
    for (const [worker, sent] of unanswered) {
      if (sent.length > 0 && monotonicNow() - sent[0] >= config.workerHangTimeoutMs) {
        setImmediate(judge, worker); // after the poll phase that reads its answer, if one came
      } else if (worker.isConnected()) {
        worker.send({ type: HEARTBEAT }, undefined, () => {}); // a channel closing is the exit handler's to see
        // When it was sent, not when this tick began nor when it was due: a tick the stall held sends late.
        sent.push(monotonicNow());
      }
    }
  }, heartbeatIntervalMs(config.workerHangTimeoutMs)).unref();

  cluster.on("exit", (worker, code, signal) => {
    unanswered.delete(worker);
    clusterMetrics.exited(worker);
    // Its owed answers first: a collection it ends is counted before finish's line (lines in true order).
    for (const take of owed.get(worker)?.splice(0) ?? []) take("gone");
    owed.delete(worker);
    const entry = slots.get(worker);
    slots.delete(worker);
    if (!entry) return;
    const watchdogCode = watchdogCodes.get(worker);
    watchdogCodes.delete(worker);
    clearTimeout(bounds.get(worker)?.timer);
    bounds.delete(worker);
    if (stopping) {
      // Not 0: it died during its delay or drain (a crash, the SIGKILL below); not restarted either way. One killed
      // at the stop's bound ends as its own watchdog would have there (index.ts): the code it told (WATCHDOG_CODE: its
      // drain's, or 128 + N after its cut), otherwise 1.
      const ended = (killedAtBound.has(worker) ? watchdogCode : undefined) ?? code ?? 1;
      if (ended !== 0) uncleanCode ??= ended;
      const level = code === 0 ? "info" : "warn";
      log[level]({ worker: { slot: entry.slot, pid: worker.process.pid, code, signal } }, "worker stopped");
      if (slots.size === 0) void finish();
      return;
    }
    const lived = monotonicNow() - entry.startedAt;
    if (!listenedOnce) {
      // The same fault will end the next one too (its own lines said what it was): the cluster did not start.
      failedStart = code !== null && code !== 0 ? code : 1;
      log.error(
        { worker: { slot: entry.slot, pid: worker.process.pid, code, signal, livedMs: lived }, exitCode: failedStart },
        "a worker died before any was ready: the cluster did not start",
      );
      stop({ reason: "failed start" }, "stop now");
      return;
    }
    const count = lived >= STABLE_MS ? 1 : (failures.get(entry.slot) ?? 0) + 1;
    failures.set(entry.slot, count);
    const delayMs = restartDelayMs(count);
    restarted.inc();
    log.error(
      { worker: { slot: entry.slot, pid: worker.process.pid, code, signal, livedMs: lived }, restartInMs: delayMs },
      "worker died: restarting it",
    );
    const timer = setTimeout(() => {
      restarts.delete(timer);
      if (!stopping) fork(entry.slot);
    }, delayMs);
    restarts.add(timer);
  });

  let finished = false;
  const finish = async () => {
    if (finished) return;
    finished = true;
    // The lines of the "stop now" collections still open (each ends with its workers' exits): their cuts said before
    // this line, which carries cutBy. It came first when no metrics listener was awaited, without cutBy, and the cut
    // line after it (or never: the exit did not wait for it).
    await Promise.all(collecting);
    await metricsServer?.close();
    const exitCode = failedStart ?? uncleanCode ?? 0;
    const cut = cutBy === undefined ? {} : { cutBy };
    log.info({ clean: uncleanCode === undefined, ...stopCause, ...cut, exitCode }, "all workers stopped");
    log.flush(() => process.exit(exitCode));
  };

  /** The order to every worker; a channel closing is the exit handler's to see (the SIGKILL below if it hangs). */
  const order = (stopOrder: StopOrder, cause: StopCause) => {
    const message: StopMessage = { type: STOP_MESSAGE, order: stopOrder, cause };
    for (const worker of slots.keys()) if (worker.isConnected()) worker.send(message, undefined, () => {});
  };

  /**
   * Per worker, the collections (stopNowAnswers) still owed its answer to a "stop now", oldest first. A worker answers
   * its orders in the order they came, over its one IPC channel, so each answer is the oldest one's. Before, every
   * collection took the first answer it saw: a third signal right after the second (before the workers' answers were
   * back) counted the second's cuts again, its line saying it cut what the second had.
   */
  const owed = new Map<Worker, ((done: StopNowDone | "gone") => void)[]>();
  /** Each "stop now"'s collection and line, until its line is logged (finish waits for them). */
  const collecting = new Set<Promise<void>>();
  cluster.on("message", (worker: Worker, message: unknown) => {
    if (isMessage(message, STOP_NOW_ANSWER)) {
      owed.get(worker)?.shift()?.((message as StopNowAnswer).done);
      bounds.get(worker)?.asked.shift();
      killAtBound(worker);
    }
    if (isMessage(message, WATCHDOG_CODE)) watchdogCodes.set(worker, (message as WatchdogCode).code);
    const bound = bounds.get(worker);
    const inMs = isMessage(message, STOP_BOUND) ? (message as Partial<StopBound>).inMs : undefined;
    if (bound !== undefined && typeof inMs === "number" && !Number.isNaN(inMs)) {
      // Never past the cluster's own bound (stopEndsAt): a worker that read its order late (its loop or its process
      // stalled, the word slow on the channel) tells a bound counted from then. Taken as told, it lived on past the
      // SIGTERM's delay + grace period + 1 s, what terminationGracePeriodSeconds is sized on, by as long as it had
      // been stuck (test/e2e/cluster.test.ts). NaN, from a message that lost its number, is no bound: ignored.
      bound.told = Math.min(stopEndsAt, monotonicNow() + Math.max(0, inMs));
      killAtBound(worker);
    }
  });

  /**
   * What each of `workers` did with the "stop now" sent to them now: its answer (STOP_NOW_ANSWER), none from one that
   * exited first or did not answer within STOP_NOW_ANSWER_WAIT_MS (those count as unanswered). A late answer is still
   * taken from the worker's queue (and dropped): the next collection's is the one after it.
   */
  const stopNowAnswers = (workers: Worker[]): Promise<StopNowDone[]> =>
    new Promise((resolve) => {
      const answers: StopNowDone[] = [];
      let waiting = workers.length;
      let over = false;
      const done = () => {
        if (over) return;
        over = true;
        clearTimeout(timer);
        resolve(answers);
      };
      const take = (answer: StopNowDone | "gone") => {
        if (over) return;
        if (answer !== "gone") answers.push(answer);
        if (--waiting === 0) done();
      };
      // After the answers readable by then are read (util/after-io.ts): a stall of the primary is not a silent worker.
      const timer = timeoutAfterIo(done, STOP_NOW_ANSWER_WAIT_MS, undefined).unref();
      for (const worker of workers) {
        const queue = owed.get(worker);
        if (queue === undefined) owed.set(worker, [take]);
        else queue.push(take);
      }
      if (waiting === 0) done();
    });

  /** The workers the primary killed at their bound (their exit code is their watchdog's: the exit handler). */
  const killedAtBound = new Set<Worker>();
  /** What each worker's watchdog would exit with, as it told (WATCHDOG_CODE). */
  const watchdogCodes = new Map<Worker, number>();
  /**
   * Per worker, once the stop has begun: `told`, when its stop ends at the latest (monotonic ms), as it told
   * (STOP_BOUND), or, until it has, the primary's reckoning of it from the stop's start; `asked`, when each "stop now"
   * it has not answered yet was sent; `timer`, its kill (killAtBound).
   */
  const bounds = new Map<Worker, { told: number; asked: number[]; timer?: NodeJS.Timeout }>();
  /**
   * When the whole stop ends at the latest (monotonic ms), reckoned as the stop begins: a single server's bound from
   * the same signal (the delay, the grace period and 1 s; a second signal or a cut only ever brings a single server's
   * closer), which no worker's told bound moves later.
   */
  let stopEndsAt = Number.POSITIVE_INFINITY;
  /**
   * The primary's backstop for a worker whose own watchdog cannot end it (its event loop stalled, the process stopped):
   * SIGKILL at the bound the worker told, a single server's own (index.ts: the delay, the grace period and 1 s; the
   * grace period and 1 s from a second signal during the delay; 2 s after a cut, or the bound before it when that comes
   * first; unchanged by a signal once the drain is over; never past stopEndsAt), or 2 s after a "stop now" it has not
   * answered: a worker that cannot answer for that long is stuck, whatever it was doing. The bound moves either way as
   * the worker tells it. Before, the primary reckoned the workers' bounds on its own clock, only ever moving them
   * closer: a second signal just past the delay by its clock, but not yet by a worker's (which began its delay a moment
   * later), gave that worker 2 s where its own drain, begun at that signal, had the grace period, and killed it
   * mid-drain (a send's answer cut); and a signal once a worker's drain was over killed it 2 s later, where its own
   * watchdog kept its bound (test/e2e/cluster.test.ts).
   */
  const killAtBound = (worker: Worker) => {
    const bound = bounds.get(worker);
    if (bound === undefined) return;
    const at = bound.asked.length > 0 ? Math.min(bound.told, bound.asked[0] + CUT_WATCHDOG_MS) : bound.told;
    clearTimeout(bound.timer);
    // A plain timer, not timeoutAfterIo (util/after-io.ts): a bound of the worker's life. Known gap: a worker that
    // exited at its bound during a stall of the primary's loop, its exit not read yet, is still killed here and
    // reported with its watchdog's code (killedAtBound) rather than its own; deferring needs a check that the bound
    // was not re-armed meanwhile (the stale immediate of a cleared timer still runs).
    bound.timer = setTimeout(
      () => {
        log.warn({ worker: { pid: worker.process.pid } }, "worker still running at the stop's bound: killing it");
        killedAtBound.add(worker);
        worker.process.kill("SIGKILL");
      },
      Math.max(0, at - monotonicNow()),
    ).unref();
  };

  /** `stopOrder` "stop now": a start failed (failedStart), nothing is served, no delay to wait out. */
  const stop = (cause: StopCause, stopOrder: StopOrder = "stop") => {
    stopping = true;
    stopCause = cause;
    // Draining workers are the grace period's (killed after it below), not the heartbeat's.
    clearInterval(heartbeat);
    unanswered.clear();
    log.info({ ...cause, workers: slots.size }, "stopping the workers");
    for (const timer of restarts) clearTimeout(timer);
    restarts.clear();
    order(stopOrder, cause);
    // Each worker drains after its own SHUTDOWN_DELAY_MS (index.ts), the grace period counted from there: the bound
    // reckoned here holds for a worker that never tells its own (STOP_BOUND), stuck before it could.
    const reckoned =
      monotonicNow() +
      (stopOrder === "stop" ? config.shutdownDelayMs : 0) +
      config.shutdownGraceMs +
      SHUTDOWN_WATCHDOG_MARGIN_MS;
    stopEndsAt = reckoned;
    for (const worker of slots.keys()) {
      bounds.set(worker, { told: reckoned, asked: [] });
      killAtBound(worker);
    }
    if (slots.size === 0) void finish();
  };
  takeStopOrders({
    order: (stopOrder, cause) => {
      if (!stopping) {
        stop(cause);
        return;
      }
      // A second signal (^C twice): passed on, so that workers still in SHUTDOWN_DELAY_MS drain at once, and those
      // draining cut their drain short (index.ts). Which of the two, as the workers answer it: the line counts
      // what they did (a guess from the primary's clock named every worker it still had, and none once they had gone).
      const ordered = [...slots.keys()].filter((worker) => worker.isConnected());
      order(stopOrder, cause);
      // Each worker's bound moves as it tells (STOP_BOUND, before its answer); until it answers, 2 s (killAtBound).
      const now = monotonicNow();
      for (const worker of ordered) {
        bounds.get(worker)?.asked.push(now);
        killAtBound(worker);
      }
      const line = stopNowAnswers(ordered).then((answers) => {
        const cuts = answers.filter((done) => done !== null && done !== "drain now");
        const drainedNow = answers.filter((done) => done === "drain now").length;
        const unanswered = ordered.length - answers.length;
        const more = { ...(drainedNow > 0 ? { drainedNow } : {}), ...(unanswered > 0 ? { unanswered } : {}) };
        if ("signal" in cause && cuts.length > 0) cutBy ??= cause.signal;
        if (cuts.length > 0) {
          const sum = (key: "requestsInFlight" | "upstreamCalls") => cuts.reduce((n, done) => n + done[key], 0);
          const cutFrom = { requestsInFlight: sum("requestsInFlight"), upstreamCalls: sum("upstreamCalls") };
          log.info(
            { ...cause, workers: cuts.length, ...cutFrom, ...more },
            "stop signal during the drain: the workers cut it short",
          );
        } else if (drainedNow > 0) {
          log.info({ ...cause, workers: drainedNow, ...more }, "second stop signal: the workers drain now");
        } else {
          log.info({ ...cause, workers: 0, ...more }, "stop signal during the stop: no worker had anything to cut");
        }
      });
      collecting.add(line);
      void line.then(() => collecting.delete(line));
    },
    ignored: (signal, why) => log.info({ signal, ignored: why }, ignoredSignalLine(why)),
  });

  if (metricsServer) {
    const url = await metricsServer.listen();
    log.info(
      { url, auth: metricsAuth(config.metrics), workers: config.webConcurrency },
      "metrics listening (all workers)",
    );
  }
  // A signal while the metrics listener started: the stop has begun with no worker to order, and none is started.
  if (!stopping) for (let slot = 1; slot <= config.webConcurrency; slot++) fork(slot);
}

/** What every line of a worker carries: which worker, and its pid; nothing outside a worker. */
export function workerFields(): { worker?: number; pid?: number } {
  return cluster.isWorker ? { worker: cluster.worker?.id ?? 0, pid: process.pid } : {};
}

/** A worker's logger: every line says which worker (and pid) wrote it. */
export function workerLogger(config: Config): Logger {
  return createLogger({ ...logOptions(config), base: workerFields() });
}

/**
 * In a worker: its metrics answer the primary's requests, and it stops (drains at once) if the primary goes away. Its
 * stop orders come from early-signals.ts (index.ts takes them).
 */
export function joinCluster(app: App, stop: () => void): void {
  const registry = app.metrics?.registry;
  // The primary's ask for this worker's series (ClusterMetrics), answered with its registry's, as prom-client's own
  // cluster listener answers.
  process.on("message", (message: unknown) => {
    if (!isMessage(message, METRICS_ASK) || registry === undefined) return;
    const { id } = message as { id: number };
    const answer = (body: Omit<MetricsAnswer, "type" | "id">) => {
      if (process.connected) process.send?.({ type: METRICS_ANSWER, id, ...body }, undefined, {}, () => {});
    };
    registry.getMetricsAsJSON().then(
      (metrics) => answer({ metrics }),
      (error: unknown) => answer({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
  // Answered at once, from this event loop: only a worker whose loop is stuck stays silent (runPrimary kills it).
  process.on("message", (message: unknown) => {
    if (isHeartbeat(message) && process.connected) process.send?.({ type: HEARTBEAT }, undefined, {}, () => {});
  });
  // Node's cluster ends a worker whose channel closes at once (process.exit), cutting its requests in flight; marked
  // as a disconnect it expected, it leaves that to `stop`, which drains within the grace period.
  if (cluster.worker) cluster.worker.exitedAfterDisconnect = true;
  process.once("disconnect", stop);
}

/** In a worker: tells the primary what it did with its "stop now" (runPrimary counts the answers for its line). */
export function answerStopNow(done: StopNowDone): void {
  toPrimary({ type: STOP_NOW_ANSWER, done } satisfies StopNowAnswer);
}

/** In a worker, tells the primary when its stop ends at the latest, `inMs` from now (STOP_BOUND). */
export function tellStopBound(inMs: number): void {
  toPrimary({ type: STOP_BOUND, inMs: Math.max(0, inMs) } satisfies StopBound);
}

/** In a worker, tells the primary what its watchdog would exit with now (WATCHDOG_CODE). */
export function tellWatchdogCode(code: number): void {
  toPrimary({ type: WATCHDOG_CODE, code } satisfies WatchdogCode);
}

/** In a worker whose channel is open, sends `message` to the primary (a send failing once closed is nothing to do). */
function toPrimary(message: StopNowAnswer | StopBound | WatchdogCode): void {
  if (cluster.isWorker && process.connected) process.send?.(message, undefined, {}, () => {});
}

export const isClusterWorker = (): boolean => cluster.isWorker;
export const isClusterPrimary = (config: Config): boolean => config.webConcurrency > 1 && cluster.isPrimary;
