/**
 * Imported first by src/index.ts, before any other module: loading the server's modules takes a second or more, and a
 * stop signal may come during it. In the container image node is PID 1, and the kernel gives PID 1 no default action
 * for a signal: without a handler a SIGTERM would be ignored and the container killed at its stop timeout (found under
 * podman: `podman stop` took its full 20 s). With a listener, the signal is kept until node's event loop runs it
 * (after the synchronous module loading): if index.ts has not taken the stop orders yet (takeStopOrders; nothing is in
 * flight yet), the process ends with 0 (endStarting); otherwise the order goes to it.
 *
 * One signal, one order, whichever way it comes. A signal sent to a process group (Ctrl-C in a terminal,
 * `kill -TERM -<pgid>`, systemd's KillMode=control-group, an init that signals the group) reaches every process of it:
 *   - a cluster worker (WEB_CONCURRENCY > 1) got it from the kernel and once more passed on by the primary, took the
 *     second as "drain now" and skipped SHUTDOWN_DELAY_MS, closing its listener while the load balancers still routed
 *     to it (test/e2e/cluster.test.ts). A worker now leaves signals to the primary and takes its orders over the
 *     cluster's IPC channel (STOP_MESSAGE; cluster.ts sends them), so the group's signal counts once, at the primary;
 *   - `npm start` passes the signal it gets on to the server, which under a group signal got it twice too: a signal
 *     the same signal within DUPLICATE_SIGNAL_MS of the last one that gave an order (the first, or a second ^C) is
 *     that one, not another.
 * Any other is a second one: "stop now" (^C pressed again: the operator wants it down without the delay; during the
 * drain, the drain cut short), except SIGHUP (below).
 *
 * SIGHUP once the stop has begun is never a second one. systemd's SendSIGHUP=yes sends it right after KillSignal
 * (SIGTERM) on every stop, and a terminal closed during a stop sends it too: neither is anyone asking for the stop to
 * come sooner. Taken as one, it skipped SHUTDOWN_DELAY_MS or cut the drain, its requests in flight aborted and answered
 * OutcomeUnknown (an OTP send whose client cannot tell whether the SMS went), on every `systemctl stop` of such a
 * unit. An operator who wants the drain cut sends SIGINT, SIGTERM or SIGQUIT again. As the first signal, it stops,
 * and another stop signal within DUPLICATE_SIGNAL_MS of it is that pair too: both pending at once, the kernel delivers
 * the lower number first, SIGHUP (1) before SIGTERM (15).
 *
 * The stop signals are SIGTERM, SIGINT, SIGHUP and SIGQUIT: each of the last two ended the process by Node's default
 * action (no handler), at once, its requests in flight cut (an OTP send with no answer) and not a line logged. SIGHUP
 * comes when the terminal goes (an SSH session dropped, the window closed: to the whole group, every worker too),
 * SIGQUIT from `^\` or an operator used to it as a stop (nginx's graceful one). Neither reloads anything: each is a
 * stop as SIGTERM is. SIGUSR2 is left to Node: its `--report-on-signal` and `--heapsnapshot-signal` use it.
 */
import cluster from "node:cluster";
import { performance } from "node:perf_hooks";
import process from "node:process";

/**
 * "stop": SHUTDOWN_DELAY_MS (if any) and then the drain; "stop now": the drain at once (a second signal), or, when the
 * drain has begun, the drain cut short (index.ts).
 */
export type StopOrder = "stop" | "stop now";

/**
 * Why a stop was ordered, as the lines of the process that stops say it: a stop signal (given to this process, or to
 * the primary, which passed it on), or no signal at all: the cluster's start failed (a worker died before any was
 * ready: cluster.ts) or the primary is gone (index.ts). Before, those two said `signal: "SIGTERM"`, a signal nobody
 * sent.
 */
export type StopCause = { signal: NodeJS.Signals } | { reason: "failed start" | "primary gone" };

/**
 * Why a signal gave no order: sent to a worker (the primary's order stops it), the first one come again, or a SIGHUP
 * after the stop began (a hangup, not a second stop signal: see above).
 */
export type IgnoredSignal = "worker" | "duplicate" | "hangup";

export interface StopOrders {
  order(order: StopOrder, cause: StopCause): void;
  ignored(signal: NodeJS.Signals, why: IgnoredSignal): void;
}

/**
 * How long after the first stop signal the same signal again is that one passed on, not a second (npm forwards it
 * from its own handler within milliseconds of the kernel's delivery to the group: 0.4 to 4 ms measured under
 * `npm start`, node 24, ^C to the group). It was 1 s: an operator's deliberate second ^C within a second of
 * the first was swallowed (read as npm's copy) and the delay went on. 250 ms covers npm on a loaded machine; a double
 * press quicker than that counts once (a third drains at once). Another signal than the first is never a copy.
 */
export const DUPLICATE_SIGNAL_MS = 250;

/** The log line of a signal that gave no order (index.ts, cluster.ts). */
export function ignoredSignalLine(why: IgnoredSignal): string {
  if (why === "worker") return "stop signal to a worker: left to the primary, whose order stops every worker";
  if (why === "hangup") {
    // `signal` says which: the SIGHUP, or the SIGTERM of systemd's pair when the kernel delivered the SIGHUP first.
    return "a hangup with the stop (SIGHUP: systemd's SendSIGHUP, a terminal closed): not a second stop signal";
  }
  return `stop signal again within ${DUPLICATE_SIGNAL_MS} ms of the last: the same one passed on (npm start), no other`;
}

/** The primary's order to a worker, over the cluster's IPC channel (cluster.ts). */
export const STOP_MESSAGE = "aopay:stop";

export interface StopMessage {
  type: typeof STOP_MESSAGE;
  order: StopOrder;
  /** Why the primary stops (for the worker's log lines): the signal it was given, or its reason. */
  cause: StopCause;
}

/**
 * After the drain begins (SIGTERM, or the end of SHUTDOWN_DELAY_MS), the process is gone by SHUTDOWN_GRACE_MS plus
 * this, whatever is still pending (docs/operations.md: what terminationGracePeriodSeconds is sized on): a hung
 * upstream, an unreachable Redis, a stdout nobody reads. The drain itself ends by the grace period; index.ts's
 * watchdog is the backstop for what it cannot cut, in a single server and in each worker, and the primary kills the
 * workers still running at the same moment (cluster.ts): here, so that both read one value.
 */
export const SHUTDOWN_WATCHDOG_MARGIN_MS = 1_000;
/**
 * After a drain is cut short (a stop signal during it), the process is gone by this, whatever still hangs, or by the
 * drain's own bound above when that comes first: a cut only ever brings the end closer. It replaced that bound, and a
 * cut in the grace period's last second moved the end past SHUTDOWN_GRACE_MS + 1 s (the kubelet's SIGKILL then came
 * first). index.ts's watchdog, and cluster.ts's kill of the workers.
 */
export const CUT_WATCHDOG_MS = 2_000;

/** The signals that stop the server (see above). */
export const STOP_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"] as const;

/**
 * How a stop that came before the orders were taken ends the process: exit 0, a stop asked for and done, as after the
 * start (index.ts's drain, the cluster's primary). A single server exited 143 (130 for SIGINT) there, which systemd
 * reads as a failure (an exit code, not a death by the signal), while a cluster's worker exited 0; both with no word.
 * index.ts sets it to log a line first. At once, synchronously: the start goes on while a line waits for stdout, and
 * could listen and take a connection that the exit then cuts. It returns false when the process already listens (its
 * orders not taken yet): the stop is then kept and given to the taker of the orders (takeStopOrders), which drains.
 */
let endStarting = (_cause: StopCause): boolean => process.exit(0);

export function endStartingWith(end: (cause: StopCause) => boolean): void {
  endStarting = end;
}

let orders: StopOrders | undefined;
/** The stops that came while the process listened but had not taken its orders yet, for the taker. */
const kept: [StopOrder, StopCause][] = [];
/**
 * The last stop signal that gave an order (the first, then each "stop now"): when it came (performance.now() ms) and
 * which; undefined before the first. npm's copy follows each signal it got, not only the first: compared with the
 * first alone, the copy of a second ^C during SHUTDOWN_DELAY_MS came during the drain that ^C had begun, and cut it (a
 * send in flight answered OutcomeUnknown, exit 130, for one keypress that asked to skip the delay).
 */
let last: { at: number; signal: NodeJS.Signals } | undefined;

/** From here on the stop orders go to `taker` (index.ts, once the drain is wired; cluster.ts's primary). */
export function takeStopOrders(taker: StopOrders): void {
  orders = taker;
  for (const [order, cause] of kept.splice(0)) taker.order(order, cause);
}

/** An order before the taker: the process ends (nothing served yet), or, if it listens already, the order is kept. */
function give(order: StopOrder, cause: StopCause): void {
  if (orders !== undefined) orders.order(order, cause);
  else if (!endStarting(cause)) kept.push([order, cause]);
}

const isStopMessage = (message: unknown): message is StopMessage =>
  typeof message === "object" && message !== null && (message as { type?: unknown }).type === STOP_MESSAGE;

for (const signal of STOP_SIGNALS) {
  process.on(signal, () => {
    if (cluster.isWorker) {
      // Never the default action (death): the primary got the same signal, or none was meant for the cluster.
      orders?.ignored(signal, "worker");
      return;
    }
    const now = performance.now();
    if (last === undefined) {
      last = { at: now, signal };
      give("stop", { signal });
    } else if (signal === last.signal && now - last.at < DUPLICATE_SIGNAL_MS) {
      orders?.ignored(signal, "duplicate");
    } else if (signal === "SIGHUP" || (last.signal === "SIGHUP" && now - last.at < DUPLICATE_SIGNAL_MS)) {
      // `last` is a SIGHUP only as the first signal: a later one gives no order.
      orders?.ignored(signal, "hangup");
    } else {
      last = { at: now, signal };
      give("stop now", { signal });
    }
  });
}

if (cluster.isWorker) {
  process.on("message", (message: unknown) => {
    // Still starting: nothing is in flight, the process ends as a signalled one does (endStarting).
    if (isStopMessage(message)) give(message.order, message.cause);
  });
}
