import CircuitBreaker from "opossum";
import type { BreakerConfig } from "../config";
import { AopayError, type AopayErrorCode } from "./errors";
import { classifyFailure } from "./outcome";

export type CircuitState = "closed" | "open" | "halfOpen";

/**
 * Outcomes that say AOPay is unhealthy. Business rejections, 401/403, redirects and 4xx pages say AOPay is up and
 * answering, so they never open a circuit (docs/security-requirements.md E5); nor does our own OVERLOADED.
 */
const COUNTED: ReadonlySet<AopayErrorCode> = new Set(["UPSTREAM_UNAVAILABLE", "UPSTREAM_TIMEOUT", "OUTCOME_UNKNOWN"]);

/**
 * One opossum circuit breaker per endpoint family (`cibil`, `aeps`): a family shares a backend at AOPay, so one
 * endpoint's failures predict the others'. Settings are explicit (opossum's defaults would open on the first failure
 * and abandon, not abort, slow calls): no opossum timeout (the transport's deadline aborts calls itself), a volume
 * threshold, an error filter. While open, calls fail at once without touching the network; after `resetTimeoutMs`
 * exactly one probe is let through (opossum's half-open), which closes or re-opens the circuit.
 */
export class CircuitBreakers {
  readonly #breakers = new Map<string, CircuitBreaker<[() => Promise<unknown>], unknown>>();
  readonly #openedAt = new Map<string, number>();

  constructor(
    private readonly config: BreakerConfig,
    private readonly onStateChange: (family: string, state: CircuitState) => void = () => undefined,
  ) {}

  /** Runs `action` through the family's breaker; throws CIRCUIT_OPEN (AopayCircuitOpenError) while it is open. */
  async run<T>(family: string, endpoint: string, action: () => Promise<T>): Promise<T> {
    const breaker = this.#breaker(family);
    try {
      return (await breaker.fire(action)) as T;
    } catch (error) {
      if ((error as { code?: string }).code === "EOPENBREAKER") {
        const openedAt = this.#openedAt.get(family) ?? Date.now();
        const retryAfterSeconds = Math.max(1, Math.ceil((openedAt + this.config.resetTimeoutMs - Date.now()) / 1000));
        throw classifyFailure("CIRCUIT_OPEN", `${endpoint}: circuit open for ${family}`, {
          endpoint,
          sent: false,
          retryAfterSeconds,
          cause: error,
        });
      }
      throw error;
    }
  }

  states(): Record<string, CircuitState> {
    return Object.fromEntries([...this.#breakers].map(([family, b]) => [family, stateOf(b)]));
  }

  /** Stops timers (on shutdown). */
  shutdown(): void {
    for (const b of this.#breakers.values()) b.shutdown();
  }

  #breaker(family: string): CircuitBreaker<[() => Promise<unknown>], unknown> {
    let breaker = this.#breakers.get(family);
    if (breaker) return breaker;
    breaker = new CircuitBreaker((action: () => Promise<unknown>) => action(), {
      name: family,
      timeout: false,
      errorThresholdPercentage: this.config.errorThresholdPercentage,
      volumeThreshold: this.config.volumeThreshold,
      resetTimeout: this.config.resetTimeoutMs,
      rollingCountTimeout: this.config.rollingWindowMs,
      rollingCountBuckets: 10,
      // Nothing reads opossum's latency percentiles or its 'snapshot' events (the open decision uses the window's
      // fire and failure counts only). With them on (opossum's default), a timer per bucket interval summed the
      // window and concatenated and sorted every latency in it: in callgrind that was ~17k instructions per request
      // of the aeps bench (status.js snapshot and stats), a cost that grows with the request rate.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      // true = "do not count this failure".
      // A send dropped because its client went away says nothing about AOPay.
      errorFilter: (error: unknown) => !(error instanceof AopayError && COUNTED.has(error.code)),
    });
    breaker.on("open", () => {
      this.#openedAt.set(family, Date.now());
      this.onStateChange(family, "open");
    });
    breaker.on("halfOpen", () => this.onStateChange(family, "halfOpen"));
    breaker.on("close", () => this.onStateChange(family, "closed"));
    this.#breakers.set(family, breaker);
    this.onStateChange(family, "closed");
    return breaker;
  }
}

function stateOf(
  b: CircuitBreaker<never[], unknown> | CircuitBreaker<[() => Promise<unknown>], unknown>,
): CircuitState {
  if (b.opened) return "open";
  if (b.halfOpen) return "halfOpen";
  return "closed";
}
