import "reflect-metadata";
import { request } from "undici";
import { hashApiKey } from "../../src/auth/authenticator";
import { loadConfig, logSecrets, SIMULATOR_COMPANY_CODE, SIMULATOR_REGISTRATION_ID } from "../../src/config";
import { createLogger } from "../../src/logging/logger";
import { type SimEndpointName, type Simulator, startSimulator } from "../../src/simulator/server";
import type { TrustedDocumentList } from "../../src/graphql/trusted-documents";
import { type Stack, startStack } from "../../src/stack";
import { type FakeHandler, type FakeUpstream, startFakeUpstream, upstreamEnv } from "./fake-upstream";
import { LogCapture } from "./log-capture";
import { deletePrefixes } from "./redis";
import { Started } from "./started";

export interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { data?: T | null; errors?: Array<{ message: string; extensions?: Record<string, unknown>; path?: unknown }> };
  text: string;
}

export interface TestStack {
  baseUrl: string;
  graphqlUrl: string;
  stack: Stack;
  simulator?: Simulator;
  logs: LogCapture;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GqlResponse<T>>;
  stop(): Promise<void>;
}

/**
 * The OTP budgets' real defaults (60 s cooldown, 3 per 10 minutes, 10 per day ...), pinned for tests that meet them,
 * whatever the test environment sets.
 */
export const DEFAULT_THROTTLE: Record<string, string> = {
  OTP_COOLDOWN_SECONDS: "60",
  OTP_WINDOW_MAX: "3",
  OTP_WINDOW_SECONDS: "600",
  OTP_DAILY_MAX: "10",
  OTP_PREFIX_MAX: "50",
  OTP_IP_MAX: "50",
  OTP_CLIENT_MAX: "300",
  OTP_GLOBAL_MAX: "1000",
  OTP_VERIFY_IP_MAX: "50",
  OTP_VERIFY_CLIENT_MAX: "300",
  REGISTER_IP_MAX: "30",
  REGISTER_CLIENT_MAX: "120",
  READ_CIBIL_MAX: "5",
  READ_CLIENT_MAX: "300",
};

/**
 * Protections that functional tests must not trip over: OTP budgets high enough for tests that send to the same
 * destination again and again, and a circuit breaker that never opens on a suite's deliberate upstream failures.
 * Both have their own tests with the real defaults (test/e2e/throttle.test.ts, test/integration/resilience.test.ts,
 * test/e2e/operations.test.ts).
 */
export const LENIENT_THROTTLE: Record<string, string> = {
  BREAKER_VOLUME_THRESHOLD: "100000",
  OTP_COOLDOWN_SECONDS: "0",
  // The most these two take (otp-throttle.settings.ts MAX_DESTINATION_POINTS: a destination keeps that many times).
  OTP_WINDOW_MAX: "100",
  OTP_DAILY_MAX: "100",
  OTP_PREFIX_MAX: "100000",
  OTP_IP_MAX: "100000",
  OTP_CLIENT_MAX: "100000",
  OTP_GLOBAL_MAX: "100000",
  OTP_VERIFY_MAX: "100000",
  OTP_VERIFY_IP_MAX: "100000",
  OTP_VERIFY_CLIENT_MAX: "100000",
  REGISTER_IP_MAX: "100000",
  REGISTER_CLIENT_MAX: "100000",
  READ_CIBIL_MAX: "100000",
  READ_CLIENT_MAX: "100000",
  READ_IP_MAX: "100000",
};

/** A test API key and its API_KEYS entry (client `test-client`). */
export const TEST_API_KEY = "aopk_test_0123456789abcdefghijklmnopqrstuvwxyzABCDEF";
export const TEST_API_KEYS_ENTRY = `test-client:${hashApiKey(TEST_API_KEY)}`;
/**
 * What production needs besides AOPay settings: an HMAC secret, a way to authenticate, and (required with REDIS_URL)
 * the key sealing stored results.
 */
export const PRODUCTION_SECURITY: Record<string, string> = {
  HMAC_SECRET: "test-hmac-secret-0123456789-abcdefghijklmnop",
  API_KEYS: TEST_API_KEYS_ENTRY,
  STORE_ENCRYPTION_KEYS: `test1:${Buffer.alloc(32, 0x5a).toString("base64")}`,
};

export interface TestStackOptions {
  simulatorClock?: () => number;
  /** false: every GraphQL request through Fastify (test/e2e/thin-graphql.test.ts compares). */
  thinGraphQLRoute?: boolean;
  /** The refused-origin warnings' limit's clock (src/http/cors.ts createCors). */
  corsClock?: () => number;
  /** The trusted documents; default the generated list (src/app.ts AppDependencies). */
  trustedDocuments?: TrustedDocumentList;
}

/**
 * The real server on an ephemeral loopback port, with the simulator (default) or with AOPAY_BASE_URL pointing at a
 * fake upstream. Logs go to memory at `debug` (the level where a leak would be most likely). The OTP, registration
 * and credit-report read budgets are lenient (LENIENT_THROTTLE) unless `env` sets them (DEFAULT_THROTTLE: the real
 * defaults).
 */
export async function startTestStack(
  env: Record<string, string> = {},
  options: TestStackOptions = {},
): Promise<TestStack> {
  // The event-loop check is off: jest's own load (transpiling, other suites' servers in this process) would trip it at
  // random. Its in-flight cap stays on; test/e2e/overload.test.ts tests both.
  const config = loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    METRICS_PORT: "0",
    LOG_LEVEL: "debug",
    ADMISSION_MAX_EVENT_LOOP_DELAY_MS: "0",
    ...LENIENT_THROTTLE,
    ...env,
  });
  const logs = new LogCapture();
  const logger = createLogger({
    level: config.logLevel,
    secrets: logSecrets(config),
    destination: logs,
  });
  const stack = await startStack(config, {
    logger,
    simulatorClock: options.simulatorClock,
    thinGraphQLRoute: options.thinGraphQLRoute,
    corsClock: options.corsClock,
    trustedDocuments: options.trustedDocuments,
  });
  const baseUrl = await stack.app.listen();
  const graphqlUrl = `${baseUrl}/graphql`;
  return {
    baseUrl,
    graphqlUrl,
    stack,
    simulator: stack.simulator,
    logs,
    gql: (query, variables, headers) => postGraphQL(graphqlUrl, { query, variables }, headers),
    stop: () => stack.stop(),
  };
}

export async function postGraphQL<T = Record<string, unknown>>(
  url: string,
  payload: unknown,
  headers: Record<string, string> = {},
): Promise<GqlResponse<T>> {
  const res = await request(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof payload === "string" ? payload : JSON.stringify(payload),
  });
  const text = await res.body.text();
  let body: GqlResponse<T>["body"] = {};
  try {
    body = JSON.parse(text) as GqlResponse<T>["body"];
  } catch {
    // not JSON: leave body empty, the test can look at `text`
  }
  return { status: res.statusCode, headers: res.headers, body, text };
}

/** One request body as it reached the upstream (the simulator): what exactly went on the wire. */
export interface WireRequest {
  endpoint: SimEndpointName;
  body: Readonly<Record<string, unknown>>;
}

export type ProductionTestStack = TestStack & {
  simulator: Simulator;
  /** Every request body the simulator received, in order (cleared by `received.length = 0`). */
  received: WireRequest[];
};

/**
 * A production stack (startProductionStack) for a describe block, started before its tests and stopped after, with
 * every test asserting that it sent nothing to AOPay: for suites about requests refused before any upstream call.
 */
export function productionStackSendingNothing(env: Record<string, string> = {}): { readonly t: ProductionTestStack } {
  const s = {} as { t: ProductionTestStack };
  beforeAll(async () => {
    s.t = await startProductionStack(env);
  });
  afterAll(async () => {
    await s.t?.stop();
  });
  beforeEach(() => s.t.simulator.resetCalls());
  afterEach(() => expect(s.t.simulator.calls()).toBe(0));
  return s;
}

/**
 * A stack per test on one of storeBackends' stores (test/helpers/redis.ts), for a `describe.each(BACKENDS)` body:
 * `start(extra)` starts it with the store's environment (on Redis a key prefix of its own) and `extra`; after each test
 * it is stopped and, on Redis, its keys are deleted. `env()` is what the last stack started with (its
 * REDIS_KEY_PREFIX); `stop()` stops it sooner, before something it uses (a Redis proxy) goes away. Call it in the
 * describe body (it registers an afterEach, which runs before the afterEach hooks written after it).
 */
export function stackPerTest(backendEnv: () => Record<string, string>): {
  start: (extra?: Record<string, string>) => Promise<TestStack>;
  env: () => Record<string, string>;
  stop: () => Promise<void>;
} {
  let t: TestStack | undefined;
  let env: Record<string, string> = {};
  const stop = async () => {
    await t?.stop();
    t = undefined;
  };
  afterEach(async () => {
    await stop();
    if (env.REDIS_KEY_PREFIX) await deletePrefixes([env.REDIS_KEY_PREFIX]);
  });
  return {
    start: async (extra = {}) => {
      env = { ...backendEnv(), ...extra };
      t = await startTestStack(env);
      return t;
    },
    env: () => env,
    stop,
  };
}

/**
 * The server as production runs it (authentication required, no landing page, no introspection) against the
 * simulator started on its own, the way it runs against the real AOPay. `simulator` counts the calls that reached
 * it; `stop()` stops both.
 */
export async function startProductionStack(
  env: Record<string, string> = {},
  options: { thinGraphQLRoute?: boolean } = {},
): Promise<ProductionTestStack> {
  const received: WireRequest[] = [];
  const simulator = await startSimulator({
    registrationId: SIMULATOR_REGISTRATION_ID,
    companyCode: SIMULATOR_COMPANY_CODE,
    onRequest: (endpoint, _trigger, body) => received.push({ endpoint, body }),
  });
  try {
    const t = await startTestStack(
      {
        NODE_ENV: "production",
        AOPAY_BASE_URL: simulator.url.href,
        AOPAY_REGISTRATION_ID: SIMULATOR_REGISTRATION_ID,
        AOPAY_COMPANY_CODE: SIMULATOR_COMPANY_CODE,
        ...PRODUCTION_SECURITY,
        ...env,
      },
      options,
    );
    return {
      ...t,
      simulator,
      received,
      stop: async () => {
        await t.stop();
        await simulator.close();
      },
    };
  } catch (error) {
    await simulator.close();
    throw error;
  }
}

/** A scripted AOPay (test/helpers/fake-upstream.ts) and our server in front of it. */
export interface StackOnFakeUpstream {
  /** `respond(handler)` scripts its answers; `calls` holds every request it received (method, path, headers, body). */
  readonly upstream: FakeUpstream;
  readonly t: TestStack;
}

export interface StackOnFakeUpstreamOptions {
  /** What the upstream answers until a test calls `upstream.respond` (json, raw, byPath ...): `{ status: true }`. */
  readonly answer?: FakeHandler;
  /** The server's settings on top of upstreamEnv(upstream): AOPAY_DEADLINE_MS, NODE_ENV, API_KEYS ... */
  readonly env?: Record<string, string>;
  readonly stackOptions?: TestStackOptions;
}

/**
 * A scripted AOPay and our server in front of it (startTestStack's settings, AOPAY_BASE_URL the upstream's) for one
 * test: `stop()` stops both. A describe block's tests share one: stackOnFakeUpstream.
 */
export async function startStackOnFakeUpstream(
  options: StackOnFakeUpstreamOptions = {},
): Promise<StackOnFakeUpstream & { stop(): Promise<void> }> {
  const upstream = await startFakeUpstream(options.answer);
  try {
    const t = await startTestStack({ ...upstreamEnv(upstream), ...options.env }, options.stackOptions);
    return {
      upstream,
      t,
      stop: async () => {
        await t.stop();
        await upstream.close();
      },
    };
  } catch (error) {
    await upstream.close();
    throw error;
  }
}

/**
 * startStackOnFakeUpstream for a describe block: started in a beforeAll, stopped in an afterAll (also when the
 * beforeAll timed out: test/helpers/started.ts). Call it in the describe body, before hooks that use it (Jest runs a
 * block's hooks in the order written): `const { upstream, t } = stackOnFakeUpstream()`. The two stand for what the
 * beforeAll starts: read their fields in hooks and tests (before it, they throw). `callsPerTest`: `upstream.calls`
 * emptied before each test, so a count is the test's own (default: they add up over the block).
 */
export function stackOnFakeUpstream(
  options: StackOnFakeUpstreamOptions & { readonly callsPerTest?: boolean } = {},
): StackOnFakeUpstream {
  const started = new Started();
  let s: StackOnFakeUpstream | undefined;
  beforeAll(async () => {
    s = await started.keep(startStackOnFakeUpstream(options), (both) => both.stop());
  });
  afterAll(() => started.closeAll());
  const upstream = startedLater(() => s?.upstream);
  if (options.callsPerTest)
    beforeEach(() => {
      upstream.calls.length = 0;
    });
  return { upstream, t: startedLater(() => s?.t) };
}

/** An object whose every field is read from `current()`, what a beforeAll has started by then. */
function startedLater<T extends object>(current: () => T | undefined): T {
  return new Proxy({} as T, {
    get: (_target, key) => {
      const value = current();
      if (value === undefined) throw new Error("stackOnFakeUpstream: used before its beforeAll started it");
      return Reflect.get(value, key) as unknown;
    },
  });
}
