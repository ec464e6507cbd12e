import { defineSettings, int } from "../settings/schema";

/** Refuse new work when the event loop is this late (ms): @fastify/under-pressure's `maxEventLoopDelay` is off by default; 1 s is far past any healthy request. */
export const DEFAULT_ADMISSION_MAX_EVENT_LOOP_DELAY_MS = 1_000;
/** How often the event-loop delay is sampled (@fastify/under-pressure's default `sampleInterval` is 1 s; half of it reacts sooner). */
export const DEFAULT_ADMISSION_SAMPLE_INTERVAL_MS = 500;
export const DEFAULT_ADMISSION_RETRY_AFTER_SECONDS = 1;
/**
 * Refused connections read again per event-loop turn (refused-reads.ts). Measured at 1,500 clients resending at once
 * (docs/performance.md, "Round a9cbb41"), 8 overload runs of each, interleaved: 100 served 85-93 % of the upstream's
 * capacity, 20 served 92-99 % and 10 served 95-97 % (the smaller the cap, the shorter each turn, the sooner undici
 * writes the next call on an answered upstream socket); shed median of the runs 57, 62 and 71 ms. 20: about the served
 * share of 10 without its slower refusals; at 400 clients refusals as quick as with 100 (medians 0.5-1.1 ms).
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
        "GraphQL requests in progress at once in this process; one more is refused at once with HTTP 503, `Retry-After` and code `OVERLOADED`, " +
        "before authentication and before its body is read. The default is what the upstream bulkhead could take anyway. `0`: no cap",
    }),
    ADMISSION_MAX_EVENT_LOOP_DELAY_MS: int({
      default: DEFAULT_ADMISSION_MAX_EVENT_LOOP_DELAY_MS,
      min: 0,
      max: 60_000,
      doc: "refuse new GraphQL requests the same way while the event loop's mean delay over the last sample is above this (the CPU is saturated). `0`: off",
    }),
    ADMISSION_SAMPLE_INTERVAL_MS: int({
      default: DEFAULT_ADMISSION_SAMPLE_INTERVAL_MS,
      min: 10,
      max: 60_000,
      doc: "how often the event-loop delay is measured (`perf_hooks.monitorEventLoopDelay`, the mean since the last sample)",
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
      min: 0,
      max: 3_600,
      doc: "the `Retry-After` header of a refusal: under overload, and while the server drains (shutting down)",
    }),
  },
});
