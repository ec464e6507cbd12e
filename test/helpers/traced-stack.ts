import { trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { type FakeUpstream, startFakeUpstream, upstreamEnv } from "./fake-upstream";
import { LENIENT_THROTTLE, startTestStack, type TestStack } from "./stack";

/**
 * A server in front of a scripted upstream, its spans recorded in memory, for one describe block (its hooks start
 * both before its tests and stop them after, then turn tracing off): for the suites that look for what AOPay answered
 * in the client's answer, the log and the spans (test/e2e/upstream-reference.test.ts, upstream-success-texts.test.ts).
 * The OTP budgets and the breaker are LENIENT_THROTTLE's; `logLevel` is the server's LOG_LEVEL. The upstream answers
 * `{ status: true }` until a test scripts it (FakeUpstream.respond); `exporter` holds every finished span until reset.
 */
export function tracedStack(logLevel: "debug" | "trace"): {
  readonly exporter: InMemorySpanExporter;
  readonly upstream: FakeUpstream;
  readonly t: TestStack;
} {
  const exporter = new InMemorySpanExporter();
  let upstream: FakeUpstream | undefined;
  let t: TestStack | undefined;
  beforeAll(async () => {
    trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
    upstream = await startFakeUpstream();
    t = await startTestStack({ ...upstreamEnv(upstream), ...LENIENT_THROTTLE, LOG_LEVEL: logLevel });
  });
  afterAll(async () => {
    await t?.stop();
    await upstream?.close();
    trace.disable();
  });
  return {
    exporter,
    get upstream(): FakeUpstream {
      if (!upstream) throw new Error("tracedStack: used before beforeAll");
      return upstream;
    },
    get t(): TestStack {
      if (!t) throw new Error("tracedStack: used before beforeAll");
      return t;
    },
  };
}
