import { Counter, Gauge, type Histogram, Registry } from "prom-client";
import type { UpstreamCallEvent } from "../aopay/client";
import type { CircuitState } from "../aopay/circuit-breakers";
import type { RequestObserver, RotationStore, SealedStore, SecretRole } from "../protection/observer";
import { TRUSTED_DOCUMENTS } from "../generated/trusted-documents";
import { droppedLogLines } from "../logging/logger";
import { LabelledCounter } from "./counter";
import { collectDefaultMetricsButEventLoopLag, EventLoopLag } from "./eventloop-lag";
import { LabelledHistogram } from "./histogram";
import { REFUSAL_CODES, type RefusalCode } from "../protection/errors";
import type { SharedTable } from "../protection/memory-counters";
import {
  THROTTLE_REFUSALS,
  type ThrottleCode,
  type ThrottlePurpose,
  type ThrottleScope,
} from "../protection/otp-throttle";
import type { RedisServerJudgement } from "../protection/redis";
import type { RedisMemoryReading } from "../protection/redis-memory";

/**
 * Why admission control (http/admission.ts) refused a request: the `reason` label of graphql_requests_shed_total.
 * `client_share`: its client already held ADMISSION_MAX_IN_FLIGHT_PER_CLIENT places.
 */
export type ShedReason = "in_flight" | "event_loop_delay" | "client_share";
const SHED_REASONS: Record<ShedReason, true> = { in_flight: true, event_loop_delay: true, client_share: true };

/**
 * Why the connection guard (http/connection-guard.ts) closed a connection that had not authenticated: the `reason`
 * label of http_connections_refused_total. `per_ip` and `total`: the new one, closed as accepted, over
 * MAX_UNAUTHENTICATED_CONNECTIONS_PER_IP or at MAX_UNAUTHENTICATED_CONNECTIONS with no idle one to close;
 * `oldest_closed`: the oldest idle one, closed at the total to make room for the new one.
 */
export type ConnectionRefusal = "per_ip" | "total" | "oldest_closed";
const CONNECTION_REFUSALS: Record<ConnectionRefusal, true> = { per_ip: true, total: true, oldest_closed: true };

/**
 * The label values known when the server starts, whose series Metrics.startAtZero puts on the page at 0 (or, for the
 * circuits, at their state). The process wiring (app.ts) gathers them from the layers that own them.
 */
export interface KnownSeries {
  /** Upstream endpoint names and every outcome an attempt is counted under (aopay/client.ts). */
  endpoints: readonly string[];
  outcomes: readonly string[];
  /** Each endpoint family's circuit and its state (aopay/circuit-breakers.ts: they exist from the start). */
  circuits: Readonly<Record<string, CircuitState>>;
  /** The guarded mutations (graphql/guarded-mutations.ts): the budget each takes, and whether it registers a mobile. */
  mutations: ReadonlyArray<{ field: string; budget: ThrottlePurpose | null; registers: boolean }>;
  /**
   * The reads a protection store gates (graphql/loaders.ts CONSENT_READ: the consent check of a credit report), and
   * the budgets each takes (`read-attempt` and `read`: their throttle series from 0, as a guarded mutation's); a
   * field may be listed once per budget.
   */
  gatedReads: ReadonlyArray<{ field: string; budget: ThrottlePurpose | null }>;
  /** Every (status, code) a refusal before GraphQL is counted under (http/error-body.ts EDGE_REFUSALS). */
  refusals: ReadonlyArray<readonly [status: number, code: string]>;
  /** The listeners whose connection guard counts into this registry (`api`; `metrics` where this process serves it). */
  listeners: readonly string[];
  /** Whether REDIS_URL is set: without it no Redis is ever judged, and aopay_redis_unsafe is 0 for good. */
  redis: boolean;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20];
const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, halfOpen: 1, open: 2 };
/**
 * The operation names a label may carry: those of the generated clients' operations (the trusted documents). An
 * operation name is client-chosen text; any other name is `other`, so a client can neither grow the label set nor put
 * text of its own (an Aadhaar number is a valid name as `_234123412346`) on the metrics page.
 */
const KNOWN_OPERATIONS: ReadonlyMap<string, string> = new Map(
  TRUSTED_DOCUMENTS.operations.map((op) => [op.name, op.name]),
);

/**
 * Prometheus metrics (prom-client), in a registry of this app's own. Labels are bounded: endpoint templates and
 * stable codes, never URLs, identifiers or free text. The list is in docs/operations.md ("Metrics").
 */
export class Metrics implements RequestObserver {
  readonly registry = new Registry();
  readonly #eventLoopLag: EventLoopLag;
  readonly #upstreamDuration: LabelledHistogram<"endpoint" | "outcome">;
  readonly #upstreamCalls: LabelledCounter<"endpoint" | "outcome">;
  readonly #throttled: Counter<"operation" | "code" | "scope">;
  readonly #replays: Counter<"operation">;
  readonly #protectionUnavailable: Counter<"operation">;
  readonly #overShare: Counter<"table">;
  readonly #refused: Counter<"operation" | "code">;
  readonly #unrecorded: Counter<"operation">;
  readonly #olderSecretReads: Counter<"store" | "secret">;
  readonly #olderStoreKeys: Counter<"store">;
  /** No label: one series, at 0 from the first scrape (the operation is on the warning line). */
  readonly #unkeptResults: Counter;
  readonly #apiKeyRequests: LabelledCounter<"client" | "key">;
  readonly #redisUnsafe: Gauge<"problem">;
  readonly #circuit: Gauge<"family">;
  readonly #graphql: LabelledHistogram<"operation" | "type" | "result">;
  readonly #shed: Counter<"reason">;
  readonly #edgeRefused: Counter<"status" | "code">;
  readonly #edgeFailed: Counter<"status">;
  readonly #jwksRefreshFailures: Counter;
  readonly #connectionsRefused: Counter<"listener" | "reason">;
  /** The last read of Redis's memory (redisMemory): undefined when it failed. */
  #redisMemory: RedisMemoryReading | undefined;
  /** Whether the aopay_redis_memory_* gauges are registered: at the first read (redisMemory), never without one. */
  #redisMemoryListed = false;
  /** Reads how full the in-memory idempotency table is (watchIdempotencyMemory); 0 until told (and with Redis). */
  #idempotencyFill: () => number = () => 0;
  /** Upstream children by endpoint, then outcome: both keys are constant strings, so no key is built per call. */
  readonly #upstream = new Map<string, Map<string, UpstreamChildren>>();
  readonly #counters = new Map<string, Counter.Internal>();
  /** GraphQL children by operation label, then type, then result (no key string built per request). */
  readonly #graphqlChildren = new Map<string, Map<string, Map<string, (value: number) => void>>>();

  constructor(upstreamStats: () => { inFlight: number; queued: number }) {
    const registers = [this.registry];
    // prom-client's default metrics, with event-loop lag gauges that do not lose a stall, sampled by the timer that
    // admission control reads, every 50 ms, not every 10 (eventloop-lag.ts and EVENT_LOOP_SAMPLING_MS in
    // http/admission.settings.ts say why).
    collectDefaultMetricsButEventLoopLag(this.registry);
    // prom-client's GC histogram lists a kind from its first collection of that kind: its four kinds
    // (lib/metrics/gc.js) at 0 instead. Now, before any GC entry is delivered (the observer's callback runs later):
    // zero() would reset one.
    const gc = this.registry.getSingleMetric("nodejs_gc_duration_seconds") as Histogram<"kind"> | undefined;
    for (const kind of ["major", "minor", "incremental", "weakcb"]) gc?.zero({ kind });
    this.#eventLoopLag = new EventLoopLag(registers);
    // The two histograms observed on every request are LabelledHistogram (histogram.ts: the measured reason), and the
    // counter of upstream calls a LabelledCounter (counter.ts).
    this.#upstreamDuration = new LabelledHistogram(
      "aopay_upstream_request_duration_seconds",
      "Duration of each call (attempt) to AOPay, by endpoint template and outcome code.",
      LATENCY_BUCKETS,
      registers,
    );
    this.#upstreamCalls = new LabelledCounter(
      "aopay_upstream_requests_total",
      "Calls (attempts) to AOPay by endpoint template and outcome: OK or a stable failure code (OVERLOADED included).",
      registers,
    );
    new Gauge({
      name: "aopay_upstream_in_flight",
      help: "Calls to AOPay currently on a socket.",
      registers,
      collect() {
        this.set(upstreamStats().inFlight);
      },
    });
    new Gauge({
      name: "aopay_upstream_queued",
      help: "Calls to AOPay waiting for a free connection (bounded by AOPAY_QUEUE_LIMIT).",
      registers,
      collect() {
        this.set(upstreamStats().queued);
      },
    });
    // Log lines lost because stdout's backlog was full (a log shipper that stopped reading: logging/logger.ts caps the
    // backlog at 16 MiB rather than block or grow). A counter kept by the logger; read at scrape time.
    let droppedSeen = 0;
    new Counter({
      name: "log_lines_dropped_total",
      help: "Log lines dropped because stdout's backlog was full (its reader is slow or gone).",
      registers,
      collect() {
        const dropped = droppedLogLines();
        if (dropped > droppedSeen) this.inc(dropped - droppedSeen);
        droppedSeen = dropped;
      },
    });
    this.#redisUnsafe = new Gauge({
      name: "aopay_redis_unsafe",
      help: "1 when the Redis server connected to breaks a promise of the stores, by problem: eviction_policy (its maxmemory-policy is not noeviction: budgets may be evicted), eviction_policy_unchecked (it would not say its maxmemory-policy: INFO refused or silent, so it is not judged and sends go on), version (older than 7.0: every send refused). Judged at each connection, and the policy every REDIS_POLICY_CHECK_SECONDS (REDIS_MEMORY_POLL_SECONDS if shorter: one INFO memory serves both).",
      labelNames: ["problem"],
      registers,
      // Workers each judge their own connection: the primary's page (cluster.ts) shows the worst, not a sum.
      aggregator: "max",
    });
    // Without Redis: how close the in-memory idempotency table is to refusing new keys (by records or by bytes), read
    // at scrape time; on the page at 0 from the first scrape, and 0 for good with REDIS_URL (nothing held here).
    const fill = () => this.#idempotencyFill();
    new Gauge({
      name: "aopay_idempotency_memory_fill_ratio",
      help:
        "Without Redis: how full the in-memory idempotency table is, 0 to 1, the larger of its records over " +
        "MEMORY_IDEMPOTENCY_MAX_KEYS and its bytes over MEMORY_IDEMPOTENCY_MAX_BYTES less the room a new key sets " +
        "aside; at 1, requests with a new Idempotency-Key are refused PROTECTION_UNAVAILABLE (nothing sent). 0 with " +
        "REDIS_URL.",
      registers,
      // WEB_CONCURRENCY > 1 needs REDIS_URL (0 everywhere); the worst worker's, never a sum of ratios.
      aggregator: "max",
      collect() {
        this.set(fill());
      },
    });
    this.#circuit = new Gauge({
      name: "aopay_circuit_state",
      help: "Circuit breaker state per endpoint family: 0 closed, 1 half-open, 2 open.",
      labelNames: ["family"],
      registers,
      // Each worker has its own breakers: the primary's page (cluster.ts) shows the worst state, not a sum (two open
      // circuits summed read 4, which the AopayCircuitOpen alert's `== 2` never matched).
      aggregator: "max",
    });
    this.#throttled = new Counter({
      name: "aopay_otp_throttled_total",
      help:
        "OTP sends (and verifications, registrations) refused by a budget, by operation, code (OTP_COOLDOWN, " +
        "OTP_LIMIT_REACHED, RATE_LIMITED, VERIFY_LIMIT_REACHED) and scope; credit-report reads refused by theirs as " +
        "operation cibilCreditHistory, code READ_THROTTLED, scope DESTINATION (per client and customer), CLIENT or IP.",
      labelNames: ["operation", "code", "scope"],
      registers,
    });
    this.#replays = new Counter({
      name: "aopay_idempotent_replays_total",
      help: "Requests answered from a stored result because their Idempotency-Key was seen before.",
      labelNames: ["operation"],
      registers,
    });
    this.#protectionUnavailable = new Counter({
      name: "aopay_protection_unavailable_total",
      help:
        "OTP sends (and registrations), and credit-report reads (cibilCreditHistory: the consent store), refused " +
        "because a protection store was unreachable (Redis) or, without Redis, full (fail closed). Never a rule's " +
        "refusal: that is aopay_protection_refusals_total.",
      labelNames: ["operation"],
      registers,
    });
    this.#overShare = new Counter({
      name: "aopay_client_share_refusals_total",
      help:
        "Without Redis: requests refused (PROTECTION_UNAVAILABLE, nothing sent) because their client holds its share " +
        "of an in-memory table every client shares (idempotency: MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT; " +
        "registered_mobile: MEMORY_REGISTERED_MOBILE_CLIENT_SHARE_PERCENT; throttle: MEMORY_THROTTLE_CLIENT_SHARE_PERCENT), " +
        "by table: one client's limit, the other " +
        "clients still served. Not in aopay_protection_unavailable_total.",
      labelNames: ["table"],
      registers,
    });
    for (const table of ["idempotency", "registered_mobile", "throttle"] as const)
      this.#overShare.labels({ table }).inc(0);
    this.#refused = new Counter({
      name: "aopay_protection_refusals_total",
      help:
        "Requests refused by a protection rule with its stores answering (not a store failure), by operation and " +
        "code: OTP_SEND_IN_PROGRESS (a registration while an OTP send to its CIBIL id is under way), " +
        "MOBILE_LIMIT_REACHED (a registration that would give its CIBIL id one mobile too many) or " +
        "REGISTRATION_IN_PROGRESS (a registration whose CIBIL id's record other registrations kept changing meanwhile).",
      labelNames: ["operation", "code"],
      registers,
    });
    this.#unrecorded = new Counter({
      name: "aopay_unrecorded_writes_total",
      help:
        "Writes AOPay answered whose follow-up record could not be stored (a registration's CIBIL id without its " +
        "mobile: its OTP sends are budgeted by the id only; an Idempotency-Key's result: a repeat may send again; a " +
        "verified CIBIL OTP's consent: that client's credit-report reads answer CONSENT_REQUIRED).",
      labelNames: ["operation"],
      registers,
    });
    this.#olderSecretReads = new Counter({
      name: "aopay_rotation_older_secret_reads_total",
      help:
        "During a rotation of HMAC_SECRET: records found under another secret and not under HMAC_SECRET, by store " +
        "(idempotency, consent, registered_mobile: the last copied under HMAC_SECRET as read) and by the setting the " +
        "secret is from (previous, next, retired). Its rate falling to zero is migrate-on-read's progress.",
      labelNames: ["store", "secret"],
      registers,
    });
    // Fixed labels, every one exported at 0 from the start: an operator's rate() sees the series before the first read.
    for (const store of ["idempotency", "consent", "registered_mobile"] as const)
      for (const secret of ["previous", "next", "retired"] as const)
        this.#olderSecretReads.labels({ store, secret }).inc(0);
    this.#unkeptResults = new Counter({
      name: "aopay_idempotency_results_unkept_total",
      help:
        "Idempotency-Key results over IDEMPOTENCY_MAX_RESULT_BYTES: answered once, then kept only as sent (a repeat " +
        "of the key is answered OUTCOME_UNKNOWN, nothing sent again).",
      registers,
    });
    this.#olderStoreKeys = new Counter({
      name: "aopay_store_older_key_opens_total",
      help:
        "Stored records (idempotency results, registered mobiles) opened with a STORE_ENCRYPTION_KEYS key other than " +
        "the sealing (first) one, by store: records still needing an older key (registered mobiles are sealed again " +
        "with the first key as read). Only with several keys configured.",
      labelNames: ["store"],
      registers,
    });
    for (const store of ["idempotency", "registered_mobile"] as const) this.#olderStoreKeys.labels({ store }).inc(0);
    // Counted on every request an API key authenticates: a LabelledCounter (counter.ts: one addition per count, where
    // prom-client's child hashes its labels on each inc).
    this.#apiKeyRequests = new LabelledCounter(
      "aopay_api_key_requests_total",
      "Requests authenticated by an API_KEYS entry, by client (its shown id) and key (the first 8 hex digits of the " +
        "entry's SHA-256): a client's old key may be removed once its count has stopped rising.",
      registers,
    );
    this.#shed = new Counter({
      name: "graphql_requests_shed_total",
      help:
        "GraphQL requests refused by admission control (HTTP 503 OVERLOADED) before any work, by reason: in_flight, " +
        "event_loop_delay or client_share (its client held its share of the places).",
      labelNames: ["reason"],
      registers,
    });
    this.#edgeRefused = new Counter({
      name: "http_requests_refused_total",
      help:
        "Requests this server refused before GraphQL ran (every 4xx and 5xx of its own: Node's parser, authentication, " +
        "content type, encoding, body, CORS preflight, trusted documents, route), by HTTP status and error code. " +
        "Admission refusals are graphql_requests_shed_total; connections closed unauthenticated are " +
        "http_connections_refused_total.",
      labelNames: ["status", "code"],
      registers,
    });
    this.#jwksRefreshFailures = new Counter({
      name: "auth_jwks_refresh_failures_total",
      help:
        "Background refreshes of AUTH_JWKS_URL's key set that failed while a set was held: bearer tokens are verified " +
        "with the set held (src/auth/authenticator.ts) until AUTH_JWKS_MAX_STALE_SECONDS after it was fetched, then " +
        "refused (503 AUTH_UNAVAILABLE, http_requests_refused_total). One every 30 s at most while the identity provider cannot be reached.",
      registers,
    });
    this.#edgeFailed = new Counter({
      name: "http_requests_failed_total",
      help:
        "Requests answered with a failure of this server's own, not a refusal (HTTP 500 INTERNAL_SERVER_ERROR: an " +
        "error thrown before GraphQL, such as an authenticator that failed, or a result that could not be " +
        "serialised), by HTTP status. Each has an error line with its request id.",
      labelNames: ["status"],
      registers,
    });
    this.#connectionsRefused = new Counter({
      name: "http_connections_refused_total",
      help:
        "Connections closed before they carried an authenticated request, by listener (api, metrics) and reason: " +
        "per_ip or total (the new one, closed as accepted: MAX_UNAUTHENTICATED_CONNECTIONS_PER_IP, " +
        "MAX_UNAUTHENTICATED_CONNECTIONS) or oldest_closed (the oldest idle one, for a new one at the total).",
      labelNames: ["listener", "reason"],
      registers,
    });
    this.#graphql = new LabelledHistogram(
      "graphql_operation_duration_seconds",
      "GraphQL request duration by operation name, operation type and result (ok, or error when any GraphQL error).",
      LATENCY_BUCKETS,
      registers,
    );
  }

  /**
   * Puts every series whose labels are known at startup on the page before any event: each counter and histogram at
   * 0, each circuit at its state. The rule (Prometheus' instrumentation practices, "Avoid missing metrics": export 0
   * for any time series you know may exist in advance): a metric whose label values are a closed list owned by the
   * code (endpoint names, outcome and refusal codes, budgets' code and scope, guarded mutations, shed reasons, the
   * statuses and codes of refusals before GraphQL, listeners, the generated clients' operations) starts at 0 for each
   * combination that can occur, and no other (a mutation without a budget gets no throttle series). Absent until its
   * first event, a series made `increase()` and `rate()` miss that event (a series first scraped at 1 has not
   * increased): AopayCredentialsRefused, OtpOverloaded, OtpPumpingSuspected, OtpProtectionUnavailable and
   * AopayUnrecordedWrites stayed quiet on the first occurrence after a start, a histogram's first observation was in
   * no `rate()` of its buckets (AopaySlow), and a dashboard or an `absent()` alert read "no data". Not listed here:
   * graphql_operation_duration_seconds for `other` and `anonymous` operations and types other than the document's own
   * (client-chosen documents, never the generated clients': their label sets appear with the first), and, with
   * REDIS_URL, aopay_redis_unsafe until its server is judged (0 would say "safe" of a server not seen yet; a gauge read
   * by its value, so the judgement's first scrape fires RedisUnsafe all the same). No identifier or client text is a
   * label here, so the page's size is fixed: 66 upstream series (6 endpoints, 11 outcomes), and as many histogram
   * label sets of 15 series each (12 bounds, +Inf, sum, count); 23 throttle series (3 of the credit-report read); 5
   * each of replays, unavailable and unrecorded, and 1 unavailable for the credit-report read; 3 refusals; 3 shed
   * reasons; a refusal series per (status, code) of EDGE_REFUSALS; 1 failure (500); 3 per listener; 14 GraphQL label
   * sets (7 operations, ok and error). These figures are checked (test/unit/observability/start-at-zero.test.ts).
   */
  startAtZero(known: KnownSeries): void {
    for (const endpoint of known.endpoints)
      for (const outcome of known.outcomes) this.#upstreamChild(endpoint, outcome);
    for (const [family, state] of Object.entries(known.circuits)) this.circuitChanged(family, state);
    // prom-client's Counter lists a label set from its first inc(), not from labels(): inc(0) lists it at 0.
    for (const { field, budget, registers } of known.mutations) {
      if (budget !== null)
        for (const { code, scope } of THROTTLE_REFUSALS[budget]) this.#throttledChild(field, code, scope).inc(0);
      this.#replayedChild(field).inc(0);
      this.#unavailableChild(field).inc(0);
      this.#unrecordedChild(field).inc(0);
      if (registers) for (const code of REFUSAL_CODES) this.#refusedChild(field, code).inc(0);
    }
    for (const { field, budget } of known.gatedReads) {
      this.#unavailableChild(field).inc(0);
      if (budget !== null)
        for (const { code, scope } of THROTTLE_REFUSALS[budget]) this.#throttledChild(field, code, scope).inc(0);
    }
    for (const reason of Object.keys(SHED_REASONS) as ShedReason[]) this.#shedChild(reason).inc(0);
    for (const [status, code] of known.refusals) this.#edgeRefusedChild(status, code).inc(0);
    this.#edgeFailed.labels({ status: "500" }).inc(0);
    for (const listener of known.listeners)
      for (const reason of Object.keys(CONNECTION_REFUSALS) as ConnectionRefusal[])
        this.#connectionsRefused.labels({ listener, reason }).inc(0);
    // No Redis: no server to break a promise, ever. With one: unknown until its first connection is judged.
    if (!known.redis) this.redisServer({ evictingPolicy: false, policyUnchecked: false, tooOld: false });
    // The generated clients' operations, each with its own type (their names are the only ones not labelled `other`).
    const types = new Map(TRUSTED_DOCUMENTS.operations.map((op) => [op.name, op.type]));
    for (const [name, type] of types)
      for (const result of ["ok", "error"] as const) this.#graphqlChild(name, type, result);
  }

  upstreamCall(event: UpstreamCallEvent): void {
    const c = this.#upstreamChild(event.endpoint, event.outcome);
    c.count();
    c.observe(event.durationMs / 1000);
  }

  #upstreamChild(endpoint: string, outcome: string): UpstreamChildren {
    let byOutcome = this.#upstream.get(endpoint);
    if (byOutcome === undefined) this.#upstream.set(endpoint, (byOutcome = new Map()));
    let c = byOutcome.get(outcome);
    if (c === undefined) {
      // Both children at once: a label set counted is also observed (its buckets listed at 0 from startAtZero).
      c = {
        count: this.#upstreamCalls.child({ endpoint, outcome }),
        observe: this.#upstreamDuration.child({ endpoint, outcome }),
      };
      byOutcome.set(outcome, c);
    }
    return c;
  }

  circuitChanged(family: string, state: CircuitState): void {
    this.#circuit.set({ family }, CIRCUIT_VALUE[state]);
  }

  throttled(field: string, code: ThrottleCode, scope: ThrottleScope): void {
    this.#throttledChild(field, code, scope).inc();
  }

  replayed(field: string): void {
    this.#replayedChild(field).inc();
  }

  protectionUnavailable(field: string): void {
    this.#unavailableChild(field).inc();
  }

  overShare(_field: string, table: SharedTable): void {
    this.#overShare.labels({ table }).inc();
  }

  refused(field: string, code: RefusalCode): void {
    this.#refusedChild(field, code).inc();
  }

  olderSecretRead(store: RotationStore, secret: SecretRole): void {
    this.#olderSecretReads.labels({ store, secret }).inc();
  }

  jwksRefreshFailed(): void {
    this.#jwksRefreshFailures.inc();
  }

  /** The counter of one API_KEYS entry (at 0 from the start: the configured entries are the fixed label values). */
  apiKeyCounter(client: string, key: string): () => void {
    return this.#apiKeyRequests.child({ client, key });
  }

  olderStoreKey(store: SealedStore): void {
    this.#olderStoreKeys.labels({ store }).inc();
  }

  unrecorded(field: string): void {
    this.#unrecordedChild(field).inc();
  }

  /**
   * With REDIS_URL: aopay_redis_up, read at scrape time from `answers` (a PING within 500 ms: ProtectionServices.ready,
   * what /readyz reads). /readyz stays 200 through a Redis outage (READINESS_INCLUDES_REDIS false), and
   * OtpProtectionUnavailable counts refusals, so with no traffic nothing paged: RedisUnreachable reads this gauge.
   * Without REDIS_URL there is no such series (no Redis to be up).
   */
  watchRedis(answers: () => Promise<boolean>): void {
    new Gauge({
      name: "aopay_redis_up",
      help:
        "With REDIS_URL: 1 when Redis answered a PING within 500 ms at this scrape, 0 when it did not (OTP sends, " +
        "verifications, registrations and credit-report reads are refused meanwhile: PROTECTION_UNAVAILABLE, or " +
        "OUTCOME_UNKNOWN for a request with an Idempotency-Key whose record could not be read).",
      registers: [this.registry],
      // Each worker has its own connection: the primary's page (cluster.ts) shows the worst, not a sum of workers.
      aggregator: "min",
      async collect() {
        this.set((await answers()) ? 1 : 0);
      },
    });
  }

  /** Where aopay_idempotency_memory_fill_ratio is read from (the in-memory idempotency store's `fill`). */
  watchIdempotencyMemory(read: () => number): void {
    this.#idempotencyFill = read;
  }

  unkeptResult(_field: string): void {
    this.#unkeptResults.inc();
  }

  #throttledChild(field: string, code: ThrottleCode, scope: ThrottleScope): Counter.Internal {
    return child(this.#counters, `t\n${field}\n${code}\n${scope}`, () =>
      this.#throttled.labels({ operation: field, code, scope }),
    );
  }

  #replayedChild(field: string): Counter.Internal {
    return child(this.#counters, `r\n${field}`, () => this.#replays.labels({ operation: field }));
  }

  #unavailableChild(field: string): Counter.Internal {
    return child(this.#counters, `p\n${field}`, () => this.#protectionUnavailable.labels({ operation: field }));
  }

  #refusedChild(field: string, code: RefusalCode): Counter.Internal {
    return child(this.#counters, `f\n${field}\n${code}`, () => this.#refused.labels({ operation: field, code }));
  }

  #unrecordedChild(field: string): Counter.Internal {
    return child(this.#counters, `u\n${field}`, () => this.#unrecorded.labels({ operation: field }));
  }

  redisServer(judged: RedisServerJudgement): void {
    this.#redisUnsafe.set({ problem: "eviction_policy" }, judged.evictingPolicy ? 1 : 0);
    this.#redisUnsafe.set({ problem: "eviction_policy_unchecked" }, judged.policyUnchecked ? 1 : 0);
    this.#redisUnsafe.set({ problem: "version" }, judged.tooOld ? 1 : 0);
  }

  /**
   * Each read of Redis's memory (protection/redis-memory.ts, at least every REDIS_MEMORY_POLL_SECONDS: the policy
   * check's read; undefined at its start, before any read). The three gauges are listed from then (none without
   * REDIS_URL or with the poll off: no Redis to read), the bytes once a read has answered. A failed read does not leave
   * the last figures standing as if current: aopay_redis_memory_read_ok goes to 0 and the used and max bytes are left
   * off the page (no sample) until a read answers, so RedisMemoryFilling neither fires on stale bytes nor is held by
   * them; RedisUnreachable pages for the outage itself. In a cluster (WEB_CONCURRENCY > 1) every worker reads the one
   * server through its own connection: the primary's page shows the largest of the workers' figures (the same server's,
   * read a few seconds apart), never their sum, and read_ok the worst worker's.
   */
  redisMemory(reading: RedisMemoryReading | undefined): void {
    this.#redisMemory = reading;
    if (this.#redisMemoryListed) return;
    this.#redisMemoryListed = true;
    const registers = [this.registry];
    const last = () => this.#redisMemory;
    new Gauge({
      name: "aopay_redis_memory_read_ok",
      help:
        "With REDIS_URL: 1 when the last read of Redis's memory (INFO memory, at least every REDIS_MEMORY_POLL_SECONDS) " +
        "answered, 0 when it failed (aopay_redis_memory_used_bytes and aopay_redis_memory_max_bytes are then left " +
        "off the page). In a cluster, the worst worker's.",
      registers,
      aggregator: "min",
      collect() {
        this.set(last() === undefined ? 0 : 1);
      },
    });
    new LastReadGauge(
      "aopay_redis_memory_used_bytes",
      "With REDIS_URL: Redis's used_memory at the last read (INFO memory, at least every REDIS_MEMORY_POLL_SECONDS); no " +
        "sample while the last read failed. With noeviction, at aopay_redis_memory_max_bytes every write is refused.",
      registers,
      () => last()?.usedBytes,
    );
    new LastReadGauge(
      "aopay_redis_memory_max_bytes",
      "With REDIS_URL: Redis's maxmemory at the last read, 0 for no limit; no sample while the last read failed.",
      registers,
      () => last()?.maxBytes,
    );
  }

  /** Stops the event-loop sampler's timer (on a stopped app: the timer is unref'd and holds no process open). */
  close(): void {
    this.#eventLoopLag.close();
  }

  /** A request refused before GraphQL (http/: the access line's `refused`, or Node's parser's refusals). */
  edgeRefused(status: number, code: string): void {
    this.#edgeRefusedChild(status, code).inc();
  }

  /** A request answered with a failure of ours (the access line's INTERNAL_SERVER_ERROR at 500): rare, no cache. */
  edgeFailed(status: number): void {
    this.#edgeFailed.inc({ status: String(status) });
  }

  #edgeRefusedChild(status: number, code: string): Counter.Internal {
    return child(this.#counters, `e\n${status}\n${code}`, () =>
      this.#edgeRefused.labels({ status: String(status), code }),
    );
  }

  /** A connection the connection guard closed (http/connection-guard.ts): rare, so no cached child. */
  connectionRefused(listener: string, reason: ConnectionRefusal): void {
    this.#connectionsRefused.inc({ listener, reason });
  }

  shed(reason: ShedReason): void {
    this.#shedChild(reason).inc();
  }

  #shedChild(reason: ShedReason): Counter.Internal {
    return child(this.#counters, `s\n${reason}`, () => this.#shed.labels({ reason }));
  }

  graphqlOperation(name: string | null | undefined, type: string, result: "ok" | "error", seconds: number): void {
    this.#graphqlChild(operationLabel(name), type, result)(seconds);
  }

  #graphqlChild(operation: string, type: string, result: "ok" | "error"): (value: number) => void {
    let byType = this.#graphqlChildren.get(operation);
    if (byType === undefined) this.#graphqlChildren.set(operation, (byType = new Map()));
    let byResult = byType.get(type);
    if (byResult === undefined) byType.set(type, (byResult = new Map()));
    let observe = byResult.get(result);
    if (observe === undefined) byResult.set(result, (observe = this.#graphql.child({ operation, type, result })));
    return observe;
  }
}

/**
 * A gauge of one figure of the last read, with no sample at all while `read` says undefined (a failed read):
 * prom-client lists an unlabelled gauge at 0 whatever is done to it, and 0 here would say "empty" or "no limit" of a
 * Redis not read. A cluster's primary takes the largest worker's (aggregator max): each worker reads the same server.
 */
class LastReadGauge extends Gauge {
  constructor(name: string, help: string, registers: Registry[], read: () => number | undefined) {
    super({
      name,
      help,
      registers,
      aggregator: "max",
      collect() {
        const value = read();
        if (value !== undefined) this.set(value);
      },
    });
    const get = this.get.bind(this);
    this.get = async () => {
      const metric = await get();
      return read() === undefined ? { ...metric, values: [] } : metric;
    };
  }
}

/** An upstream label set's counter child and histogram child. */
interface UpstreamChildren {
  count: () => void;
  observe: (value: number) => void;
}

/**
 * The child of a labelled metric for one label set, made on first use. prom-client's `inc(labels)` and
 * `observe(labels, v)` hash the label object on every call (sorting its keys into a string); a child skips that. The
 * label sets are bounded (endpoint templates, codes, known operation names: see operationLabel), so are these maps.
 * Nothing here ever resets or removes a label set, which would leave a cached child detached from its metric.
 */
function child<C>(cache: Map<string, C>, key: string, make: () => C): C {
  let c = cache.get(key);
  if (c === undefined) cache.set(key, (c = make()));
  return c;
}

/**
 * The operation's name when it is one of the generated clients' operations, else `other` (or `anonymous`). The
 * known name is returned as the list's own string, not the request's copy: its hash is computed once, so the
 * metrics' Map lookups by it do not hash a fresh string per request.
 */
export function operationLabel(name: string | null | undefined): string {
  if (!name) return "anonymous";
  return KNOWN_OPERATIONS.get(name) ?? "other";
}
