import type { BreakerConfig } from "./circuit-breakers.settings";
import { AopayError, type AopayErrorCode } from "./errors";
import { classifyFailure } from "./outcome";

export type CircuitState = "closed" | "open" | "halfOpen";

/**
 * Outcomes that say AOPay is unhealthy. Business rejections, 401/403, a redirect to a read and 4xx pages say AOPay is
 * up and answering, so they never open a circuit (docs/security-requirements.md E5); nor does our own OVERLOADED. A
 * redirect to a send is OUTCOME_UNKNOWN (outcome.ts statusMeaning: the request may have been carried out), and counts
 * as every outcome unknown does: sends redirected one after another open the circuit, as ambiguous 5xx do. Anything
 * that is not an AopayError (a bug) does not count either (as opossum's errorFilter had it).
 */
const COUNTED: ReadonlySet<AopayErrorCode> = new Set(["UPSTREAM_UNAVAILABLE", "UPSTREAM_TIMEOUT", "OUTCOME_UNKNOWN"]);

/** Buckets of the rolling window (opossum's default, which this breaker used to run with). */
const BUCKETS = 10;

/**
 * One circuit breaker per endpoint family (`cibil`, `aeps`): a family shares a backend at AOPay, so one endpoint's
 * failures predict the others'. The rules are opossum 10's (lib/circuit.js and lib/status.js, which this replaced),
 * with the settings this project gave it (no opossum timeout: the transport's deadline aborts calls itself; a volume
 * threshold; the error filter above):
 *   - every call asked for counts as a fire in a rolling window of `rollingWindowMs`, in 10 buckets rotated every
 *     tenth of it (refused calls too, as opossum emits 'fire' before its open check). Rotated from the clock when the
 *     breaker is used (`#rotate`), not by a timer: opossum's interval woke an idle server once a second per family
 *     (2 of its 24 wake-ups per second), to rotate buckets nobody read until the next call;
 *   - a counted failure opens the circuit when the window holds at least `volumeThreshold` fires and its failures are
 *     over `errorThresholdPercentage` per cent of them;
 *   - while open, calls fail at once (CIRCUIT_OPEN) without touching the network; `resetTimeoutMs` after opening the
 *     circuit is half-open and exactly one probe is let through: a success (or an uncounted failure) closes it, a
 *     counted failure opens it again, and a call that said nothing of AOPay (inconclusive) lets the next one probe.
 *
 * Why not opossum: its `fire` wraps each call in a promise of its own plus a `then` and a `catch`, copies the
 * arguments twice, and emits two events through EventEmitter (each counted by a listener, and a latency pushed per
 * call into an array nobody read, since percentiles were off); our `run` wrapped that in an async function and an
 * async action. Here a call is `admit()` before the exchange and `succeeded()`/`failed()` after it, synchronous,
 * with no promise or closure per call (measured in the commit that replaced it; docs/performance-runs.md).
 */
export class CircuitBreaker {
  #state: CircuitState = "closed";
  /** Half-open and its probe not yet let through (opossum's pendingClose). */
  #probeAvailable = false;
  #shutdown = false;
  #openedAt = 0;
  #resetTimer: NodeJS.Timeout | undefined;
  /** A tenth of the window, at least 1 ms; bucket `n` (rotation n) began `n` of them after `#startedAt`. */
  readonly #bucketMs: number;
  readonly #startedAt = performance.now();
  /** Ring of per-bucket counts; rotation `n`'s bucket is `n % BUCKETS`, the current one `#head`. */
  readonly #fires = new Array<number>(BUCKETS).fill(0);
  readonly #failures = new Array<number>(BUCKETS).fill(0);
  /**
   * Bucket rotations since the start, as of the last use (`#rotate`): an admitted call's bucket is found by how many
   * happened since (inconclusive).
   */
  #rotations = 0;

  constructor(
    readonly family: string,
    private readonly config: BreakerConfig,
    private readonly onStateChange: (family: string, state: CircuitState) => void,
  ) {
    this.#bucketMs = Math.max(1, Math.floor(config.rollingWindowMs / BUCKETS));
  }

  get state(): CircuitState {
    return this.#state;
  }

  /**
   * Asks to make a call; counts it as fired. Throws CIRCUIT_OPEN (AopayCircuitOpenError, nothing sent) while the
   * circuit is open, or half-open with its probe already out. Every admitted call must end in succeeded(), failed() or
   * inconclusive(); the number returned (the bucket rotations so far) is what inconclusive() takes back its fire by.
   */
  admit(endpoint: string): number {
    // Shutdown closes the breakers, then waits for the calls under way (AopayClient.close): a request still being
    // served may start one meanwhile. Nothing is sent, and another replica can take it: UPSTREAM_UNAVAILABLE, as the
    // transport answers once closed; a plain error reached the client as INTERNAL_SERVER_ERROR, logged as a bug.
    if (this.#shutdown)
      throw classifyFailure("UPSTREAM_UNAVAILABLE", `${endpoint}: shutting down`, {
        endpoint,
        sent: false,
        cause: Object.assign(new Error("The circuit has been shutdown."), { code: "ESHUTDOWN" }),
      });
    this.#rotate();
    this.#fires[this.#head] += 1;
    if (this.#state !== "closed") {
      if (!this.#probeAvailable) throw this.#refusal(endpoint);
      this.#probeAvailable = false;
    }
    return this.#rotations;
  }

  /** An admitted call got an answer its endpoint could read as a success. */
  succeeded(): void {
    if (this.#state === "halfOpen") this.#close();
  }

  /** An admitted call failed with `error`: counted only when it says AOPay is unhealthy (COUNTED). */
  failed(error: unknown): void {
    if (!(error instanceof AopayError && COUNTED.has(error.code))) {
      this.succeeded();
      return;
    }
    this.#rotate();
    this.#failures[this.#head] += 1;
    if (this.#state === "halfOpen") {
      this.#open();
      return;
    }
    let fires = 0;
    let failures = 0;
    for (let i = 0; i < BUCKETS; i++) {
      fires += this.#fires[i];
      failures += this.#failures[i];
    }
    if (fires < this.config.volumeThreshold) return;
    if ((failures / fires) * 100 > this.config.errorThresholdPercentage) this.#open();
  }

  /**
   * An admitted call ended without saying anything of AOPay's health: the client's own deadline (x-request-timeout-ms)
   * cut it short, or it never reached AOPay (our full bulkhead, a client gone while it waited: client.ts NOT_ASKED).
   * Neither a failure nor a success: not counted, its fire taken back (a client's short deadlines must not open the
   * circuit for every client, nor dilute real failures), and a half-open circuit's probe is free again.
   */
  inconclusive(admitted?: number): void {
    // The fire is taken back from the bucket it was counted in (gone, if the window has moved past it). Taken from the
    // current bucket, as it was, a call that ended a bucket (a tenth of BREAKER_WINDOW_MS, 1 s by default) or more
    // after it began took back nothing, or another call's fire: a client's deadline cut after 2 s, within
    // BREAKER_SLOW_CALL_MS, and a send dropped after waiting 2 s for a socket, still diluted the failures.
    this.#rotate();
    const age = admitted === undefined ? 0 : this.#rotations - admitted;
    const bucket = (this.#rotations - age) % BUCKETS;
    if (age < BUCKETS && this.#fires[bucket] > 0) this.#fires[bucket] -= 1;
    if (this.#state === "halfOpen") this.#probeAvailable = true;
  }

  /** Stops its timer (on shutdown); calls asked for afterwards are refused (opossum's ESHUTDOWN). */
  shutdown(): void {
    this.#shutdown = true;
    clearTimeout(this.#resetTimer);
  }

  /**
   * How long the circuit stays open, in ms, before it lets a probe through: 0 unless open. On the timer's clock
   * (performance.now): read off Date.now, a step of the wall clock made this lie, an hour too long after a step back
   * of an hour, 1 s after a step forward while the breaker stayed open (util/clock.ts).
   */
  openForMs(): number {
    if (this.#state !== "open") return 0;
    return Math.max(0, this.#openedAt + this.config.resetTimeoutMs - performance.now());
  }

  #refusal(endpoint: string): AopayError {
    // Half-open with its probe out: 1 s (the probe's answer decides; polled, not waited for).
    const retryAfterSeconds = Math.max(1, Math.ceil(this.openForMs() / 1000));
    return classifyFailure("CIRCUIT_OPEN", `${endpoint}: circuit open for ${this.family}`, {
      endpoint,
      sent: false,
      retryAfterSeconds,
      // What opossum's refusal carried, so the warning line's `cause` still says EOPENBREAKER.
      cause: Object.assign(new Error("Breaker is open"), { code: "EOPENBREAKER" }),
    });
  }

  #open(): void {
    if (this.#state === "open") return;
    this.#state = "open";
    this.#probeAvailable = false;
    this.#openedAt = performance.now();
    this.#resetTimer = setTimeout(this.#halfOpen, this.config.resetTimeoutMs);
    this.#resetTimer.unref();
    this.onStateChange(this.family, "open");
  }

  #close(): void {
    if (this.#state === "closed") return;
    clearTimeout(this.#resetTimer);
    this.#state = "closed";
    this.#probeAvailable = false;
    this.onStateChange(this.family, "closed");
  }

  readonly #halfOpen = (): void => {
    this.#state = "halfOpen";
    this.#probeAvailable = true;
    this.onStateChange(this.family, "halfOpen");
  };

  /**
   * Brings the buckets up to the clock (performance.now, the reset timer's): one rotation per `#bucketMs` since the
   * start, each emptying the bucket it moves to, as the timer's did (at most BUCKETS of them: the rest would empty
   * empty buckets). The same buckets as the timer's, which ran late under a stall where this reads the time.
   */
  #rotate(): void {
    const rotations = Math.floor((performance.now() - this.#startedAt) / this.#bucketMs);
    if (rotations <= this.#rotations) return;
    for (let r = Math.max(this.#rotations + 1, rotations - BUCKETS + 1); r <= rotations; r++) {
      this.#fires[r % BUCKETS] = 0;
      this.#failures[r % BUCKETS] = 0;
    }
    this.#rotations = rotations;
  }

  /** The current bucket: the last rotation's. */
  get #head(): number {
    return this.#rotations % BUCKETS;
  }
}

/**
 * The breakers of the endpoint families. Those of `families` (AopayClient passes every family its endpoints belong
 * to) exist from the start, closed: /readyz lists each and aopay_circuit_state has a series for each from the first
 * scrape. Made at a family's first call, as they were, /readyz answered `circuits: {}` and the gauge had no series
 * until traffic came, so an alert or a dashboard on the gauge saw nothing, not "closed", in a replica's first minutes.
 * A family not listed is still made at its first call (reported to `onStateChange` as closed then).
 */
export class CircuitBreakers {
  readonly #breakers = new Map<string, CircuitBreaker>();

  constructor(
    private readonly config: BreakerConfig,
    private readonly onStateChange: (family: string, state: CircuitState) => void = () => undefined,
    families: readonly string[] = [],
  ) {
    // Not reported to onStateChange: nothing changed (it logs transitions); the caller reads states() once instead.
    for (const family of families)
      if (!this.#breakers.has(family)) this.#breakers.set(family, new CircuitBreaker(family, config, onStateChange));
  }

  /** The breaker of an endpoint family (`cibil`, `aeps`). */
  of(family: string): CircuitBreaker {
    let breaker = this.#breakers.get(family);
    if (breaker === undefined) {
      breaker = new CircuitBreaker(family, this.config, this.onStateChange);
      this.#breakers.set(family, breaker);
      this.onStateChange(family, "closed");
    }
    return breaker;
  }

  states(): Record<string, CircuitState> {
    return Object.fromEntries([...this.#breakers].map(([family, b]) => [family, b.state]));
  }

  /** Stops timers (on shutdown). */
  shutdown(): void {
    for (const b of this.#breakers.values()) b.shutdown();
  }
}
