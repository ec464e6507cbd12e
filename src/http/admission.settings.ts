import { defineSettings, int } from "../settings/schema";

/** Admission control in front of GraphQL (http/admission.ts). */
export interface AdmissionConfig {
  /** GraphQL requests in progress at once; 0: no cap. */
  maxInFlight: number;
  /** Of those, the most one client (http/admission.ts clientKey) holds at once; 0: no per-client cap. */
  maxInFlightPerClient: number;
  /** Mean event-loop delay (ms) above which new requests are refused; 0: off. */
  maxEventLoopDelayMs: number;
  sampleIntervalMs: number;
  retryAfterSeconds: number;
  /** Refused connections read again per event-loop turn (http/refused-reads.ts); 0: at once. */
  refusedReadsPerTurn: number;
}

/** Refuse new work when the event loop is this late (ms): @fastify/under-pressure's `maxEventLoopDelay` is off by default; 1 s is far past any healthy request. */
export const DEFAULT_ADMISSION_MAX_EVENT_LOOP_DELAY_MS = 1_000;
/**
 * How often the event loop's delay is sampled (ms), by the one sampler this server runs for admission control
 * (src/http/admission.ts) and the `nodejs_eventloop_lag_*` metrics (EventLoopSampler, src/observability/
 * eventloop-lag.ts; there were two before, `perf_hooks.monitorEventLoopDelay`'s and prom-client's, which lost delays).
 * A sampler is a timer that wakes the process this often whether or not it has work, so its cost is paid per second,
 * not per request: at a moderate load it is divided among few requests.
 *
 * Both used 10 ms before (Node's, prom-client's and @fastify/under-pressure's default): an idle server woke 200 times
 * a second (strace -c -f, 10 s: 2,004 epoll_pwait; 467 at 50 ms) and spent 9.7-10.7 ms of CPU per second on it,
 * against 4.3-4.7 at 50 ms, 3.3-4.0 at 100 ms and 1.7-2.0 with both samplers off (three 30 s windows of each, side by
 * side, started as the bench starts our server; minimal Apollo, which samples nothing, 0.3). At the bench's moderate
 * load (171 requests/s) the 5.5 ms/s saved would be about 32 µs per request; its paired phase did not resolve a gain
 * on a busy host, where a wake-up costs less (docs/performance-runs.md, "Round 8f99667").
 *
 * It is now the only timer of this server that wakes it idle (admission reads at its ticks and the circuit breakers
 * rotate their buckets from the clock, where each had a timer of its own; Node's own connection check of each listener,
 * once a second, is the rest): 3.4-4.4 ms/s idle, read from /proc/<pid>/task/<tid>/schedstat (ten 30 s windows,
 * against 3.7-4.4 before); a bare process with one 50 ms JS interval spent 3.8-5.0, with a native
 * monitorEventLoopDelay 2.3-2.4 (docs/performance-runs.md, "Round 1c146ca").
 *
 * 50 ms, not 100: a reading is the mean of the samples of one ADMISSION_SAMPLE_INTERVAL_MS (500 ms: 10 samples, and
 * the setting's minimum, 100 ms, still holds 2), each exact to the microsecond however rare; and the lag gauges read
 * about this period on an idle server (they include it, as prom-client reports them), which stays far under the
 * 0.25 s alert of docs/operations.md.
 */
export const EVENT_LOOP_SAMPLING_MS = 50;

/**
 * How often the event-loop delay is read (@fastify/under-pressure's default `sampleInterval` is 1 s; half of it reacts
 * sooner). Read at the sampler's first tick this long after the last reading (src/http/admission.ts), not on a timer
 * of its own: one woke an idle server twice a second more.
 */
export const DEFAULT_ADMISSION_SAMPLE_INTERVAL_MS = 500;
/**
 * The Retry-After of an admission refusal (OVERLOADED) and of a request met while draining: an estimate, not a time
 * the server knows. A place frees when any request in flight ends (at its answer, at most at its deadline) and the
 * event loop's delay falls when its backlog clears: neither says when beforehand. 1 s is many requests' time at the
 * in-flight cap, and a load balancer sends the retry to another instance meanwhile (a draining one's for good).
 */
export const DEFAULT_ADMISSION_RETRY_AFTER_SECONDS = 1;
/**
 * Refused connections read again per event-loop turn (refused-reads.ts). Measured at 1,500 clients resending at once
 * (docs/performance-runs.md, "Round a9cbb41"), 8 overload runs of each, interleaved: 100 served 85-93 % of the
 * upstream's capacity, 20 served 92-99 % and 10 served 95-97 % (the smaller the cap, the shorter each turn, the sooner
 * undici writes the next call on an answered upstream socket); shed median of the runs 57, 62 and 71 ms. 20: about the
 * served share of 10 without its slower refusals; at 400 clients refusals as quick as with 100 (medians 0.5-1.1 ms).
 */
export const DEFAULT_ADMISSION_REFUSED_READS_PER_TURN = 20;

/** Admission control in front of the GraphQL endpoint (src/http/admission.ts): what is refused under overload. */
export const admissionSettings = defineSettings({
  title: "Admission (overload)",
  module: "src/http/admission.ts",
  prefixes: ["ADMISSION_"],
  settings: {
    ADMISSION_MAX_IN_FLIGHT: int({
      min: 0,
      max: 1_000_000,
      defaultDoc: "`AOPAY_CONNECTIONS` + `AOPAY_QUEUE_LIMIT` (384)",
      doc:
        "GraphQL requests in progress at once in this process (from the arrival of a request's whole body to the writing of its answer: " +
        "a client slow to send or to read holds no place); with that many, one more is refused at once with HTTP 503, `Retry-After` and code `OVERLOADED`, " +
        "before authentication and before its body is read. The default is what the upstream bulkhead could take anyway. `0`: no cap",
    }),
    ADMISSION_MAX_IN_FLIGHT_PER_CLIENT: int({
      min: 0,
      max: 1_000_000,
      defaultDoc:
        "half of `ADMISSION_MAX_IN_FLIGHT`, rounded up (192); `0` where only one client can be admitted (credentials " +
        "required, no `AUTH_JWKS_URL`, every `API_KEYS` entry the same client's)",
      doc:
        "of those places, the most one client holds at once: an API key's or a token's client id, or, for a " +
        "request without credentials (development), its IP (an IPv6 /64). One more of its requests is refused " +
        "the same way (503, `Retry-After`, `OVERLOADED`), so that one client waiting on a slow AOPay cannot have " +
        "every other client refused. Half: alone, a client still keeps every upstream socket busy (192 places for " +
        "`AOPAY_CONNECTIONS` 128: what it loses is queue depth), and the other half stays for everyone else (two " +
        "clients at their share can still fill the cap). With one client only there is no one to keep places for, " +
        "and a share would cost it half its queue and, under overload, many more refusals. `0`: no per-client cap",
    }),
    ADMISSION_MAX_EVENT_LOOP_DELAY_MS: int({
      default: DEFAULT_ADMISSION_MAX_EVENT_LOOP_DELAY_MS,
      min: 0,
      max: 60_000,
      doc: "refuse new GraphQL requests the same way while the event loop's mean delay over the last sample is above this (the CPU is saturated). `0`: off",
    }),
    ADMISSION_SAMPLE_INTERVAL_MS: int({
      default: DEFAULT_ADMISSION_SAMPLE_INTERVAL_MS,
      // Two samples at least (EVENT_LOOP_SAMPLING_MS, 50): an interval with none would read as no delay at all.
      min: 2 * EVENT_LOOP_SAMPLING_MS,
      max: 60_000,
      doc: "how often the event-loop delay is read (at a tick of its sampler, every 50 ms: the mean of the samples since the last reading)",
    }),
    ADMISSION_REFUSED_READS_PER_TURN: int({
      default: DEFAULT_ADMISSION_REFUSED_READS_PER_TURN,
      min: 0,
      max: 1_000_000,
      doc:
        "after a refusal (503 `OVERLOADED`), its connection's next request is read only in its turn: at most this many refused connections " +
        "are read again per event-loop turn, the longest-waiting first, so that clients resending at once cannot keep the event loop " +
        "from the upstream's answers. `0`: read at once",
    }),
    ADMISSION_RETRY_AFTER_SECONDS: int({
      default: DEFAULT_ADMISSION_RETRY_AFTER_SECONDS,
      // Not 0: `Retry-After: 0` tells every refused client to send again at once, into the overload (or the drain)
      // that refused it; the clients read it as their wait (client/src/retry-after.ts), and so do proxies.
      min: 1,
      max: 3_600,
      doc: "the `Retry-After` header of a refusal: under overload, and while the server drains (shutting down); at least 1",
    }),
  },
});
