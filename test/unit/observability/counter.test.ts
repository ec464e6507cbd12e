import { Counter, Registry } from "prom-client";
import { LabelledCounter } from "../../../src/observability/counter";

const INCS: Array<Record<"endpoint" | "outcome", string>> = [
  { endpoint: "aeps.resendOtp", outcome: "OK" },
  { endpoint: "cibil.generateOtp", outcome: "UPSTREAM_TIMEOUT" },
  { endpoint: "aeps.resendOtp", outcome: "OK" },
  { endpoint: "aeps.resendOtp", outcome: "CIRCUIT_OPEN" },
  { endpoint: "aeps.resendOtp", outcome: "OK" },
];

function both(contentType?: typeof Registry.PROMETHEUS_CONTENT_TYPE | typeof Registry.OPENMETRICS_CONTENT_TYPE) {
  const theirs = new Registry();
  const ours = new Registry();
  if (contentType) for (const r of [theirs, ours]) r.setContentType(contentType as never);
  const name = "aopay_upstream_requests_total";
  const help = "Calls (attempts) to AOPay by endpoint template and outcome.";
  const c = new Counter({ name, help, labelNames: ["endpoint", "outcome"], registers: [theirs] });
  const l = new LabelledCounter<"endpoint" | "outcome">(name, help, [ours]);
  const children = new Map<string, () => void>();
  for (const labels of INCS) {
    c.labels(labels).inc();
    const key = `${labels.endpoint}\n${labels.outcome}`;
    if (!children.has(key)) children.set(key, l.child(labels));
    children.get(key)!();
  }
  return { theirs, ours };
}

describe("LabelledCounter: exposed exactly as prom-client's Counter", () => {
  it("same text exposition (Prometheus and OpenMetrics)", async () => {
    for (const type of [Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE]) {
      const { theirs, ours } = both(type);
      const text = await ours.metrics();
      expect(text).toBe(await theirs.metrics());
      expect(text).toMatch(/^aopay_upstream_requests_total\{endpoint="aeps\.resendOtp",outcome="OK"\} 3$/m);
      expect(text.endsWith("# EOF\n")).toBe(type === Registry.OPENMETRICS_CONTENT_TYPE);
    }
  });

  it("same JSON, with and without default labels (what cluster workers send the primary to aggregate)", async () => {
    const { theirs, ours } = both();
    expect(JSON.stringify(await ours.getMetricsAsJSON())).toBe(JSON.stringify(await theirs.getMetricsAsJSON()));
    for (const r of [theirs, ours]) r.setDefaultLabels({ worker: "1" });
    const json = JSON.stringify(await ours.getMetricsAsJSON());
    expect(json).toBe(JSON.stringify(await theirs.getMetricsAsJSON()));
    expect(json).toContain('"worker":"1"');
  });

  it("lists no series before one is counted", async () => {
    const registry = new Registry();
    new LabelledCounter<"operation">("x_total", "x", [registry]);
    expect(await registry.metrics()).toBe("# HELP x_total x\n# TYPE x_total counter\n");
  });
});
