import { trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import type { FakeUpstream } from "./fake-upstream";
import { LENIENT_THROTTLE, stackOnFakeUpstream, type TestStack } from "./stack";

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
  // Before the server starts (its tracer is the global one), and turned off after it stops: Jest runs a block's
  // beforeAll and afterAll hooks in the order written.
  beforeAll(() => {
    trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
  });
  const { upstream, t } = stackOnFakeUpstream({ env: { ...LENIENT_THROTTLE, LOG_LEVEL: logLevel } });
  afterAll(() => {
    trace.disable();
  });
  return { exporter, upstream, t };
}
