import { startReceiver, type Receiver } from "../helpers/otlp-receiver";
import { cibilInput, GENERATE_CIBIL_OTP } from "../helpers/operations";
import { startServerProcess } from "../helpers/server-process";
import { postGraphQL } from "../helpers/stack";

/** In the exported data (a resource attribute an operator set) and the collector's credential: never in clear. */
const MOBILE = "9876543210";
const COLLECTOR_KEY = "diag-collector-canary-key-27182818";

/**
 * OTEL_LOG_LEVEL=debug: the SDK's own diagnostics (the NodeSDK sets a DiagConsoleLogger for it) wrote multi-line dumps
 * of whole spans and exports to stdout, past the scrubber and between the JSON lines. They go through the logger
 * (observability/telemetry.ts, diagLogger): one JSON line each, scrubbed.
 */
describe("trace export with OTEL_LOG_LEVEL=debug", () => {
  let receiver: Receiver;
  let stdout = "";
  let output = "";

  beforeAll(async () => {
    receiver = await startReceiver();
    const p = startServerProcess({
      NODE_ENV: "development",
      LOG_LEVEL: "debug",
      OTEL_LOG_LEVEL: "debug",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_HEADERS: `x-collector-key=${COLLECTOR_KEY}`,
      OTEL_RESOURCE_ATTRIBUTES: `deployment.note=customer-${MOBILE}`,
    });
    try {
      const url = await p.ready;
      const res = await postGraphQL(`${url}/graphql`, { query: GENERATE_CIBIL_OTP, variables: cibilInput() });
      expect(res.status).toBe(200);
      // The drain exports what is buffered: the exporter's debug lines are written then.
      p.child.kill("SIGTERM");
      expect(await p.exited).toBe(0);
    } finally {
      await p.kill();
      stdout = p.stdout();
      output = p.output();
    }
  }, 60_000);
  afterAll(async () => {
    await receiver?.close();
  });

  it("exported the spans, the canary among their resource attributes (what the debug dump shows)", () => {
    expect(receiver.spans().length).toBeGreaterThan(0);
    expect(receiver.exports.map((e) => e.text).join("")).toContain(MOBILE);
  });

  it("writes every diagnostic as one JSON line on stdout, none on stderr", () => {
    const lines = stdout.split("\n").filter((line) => line !== "");
    const notJson = lines.filter((line) => {
      try {
        return typeof JSON.parse(line) !== "object";
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
    expect(output.length).toBe(stdout.length);
    const diag = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.component === "otel");
    expect(diag.length).toBeGreaterThan(0);
    expect(diag.filter((l) => l.level === "debug").length).toBeGreaterThan(0);
  });

  it("shows neither the canary nor the collector's key in clear, the canary masked", () => {
    expect(output).not.toContain(MOBILE);
    expect(output).not.toContain(COLLECTOR_KEY);
    // The EnvDetector's resource, dumped at debug; the number glued to a word is masked whole (pii/scrub.ts).
    expect(stdout).toContain("'deployment.note', 'customer-XXXXXXXXXX'");
    // And the spans the exporter sends, on one line.
    expect(stdout).toMatch(/"msg":"OTLPExportDelegate items to be sent \[ SpanImpl \{ name: '/);
  });
});
