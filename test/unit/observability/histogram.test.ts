import { Histogram, Registry } from "prom-client";
import { LabelledHistogram } from "../../../src/observability/histogram";

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20];
const OBSERVATIONS: Array<[Record<"endpoint" | "outcome", string>, number]> = [
  [{ endpoint: "aeps.resendOtp", outcome: "OK" }, 0.0031],
  [{ endpoint: "aeps.resendOtp", outcome: "OK" }, 0.005], // on a bound: counted in it
  [{ endpoint: "cibil.generateOtp", outcome: "UPSTREAM_TIMEOUT" }, 6.2],
  [{ endpoint: "aeps.resendOtp", outcome: "OK" }, 0],
  [{ endpoint: "cibil.generateOtp", outcome: "UPSTREAM_TIMEOUT" }, 42], // above every bound: +Inf only
  [{ endpoint: "aeps.resendOtp", outcome: "OK" }, 0.7],
];

function both(contentType?: typeof Registry.PROMETHEUS_CONTENT_TYPE | typeof Registry.OPENMETRICS_CONTENT_TYPE) {
  const theirs = new Registry();
  const ours = new Registry();
  if (contentType) for (const r of [theirs, ours]) r.setContentType(contentType as never);
  const name = "aopay_upstream_request_duration_seconds";
  const help = "Duration of each call (attempt) to AOPay, by endpoint template and outcome code.";
  const h = new Histogram({ name, help, labelNames: ["endpoint", "outcome"], buckets: BUCKETS, registers: [theirs] });
  const l = new LabelledHistogram<"endpoint" | "outcome">(name, help, BUCKETS, [ours]);
  const children = new Map<string, (v: number) => void>();
  for (const [labels, value] of OBSERVATIONS) {
    h.labels(labels).observe(value);
    const key = `${labels.endpoint}\n${labels.outcome}`;
    if (!children.has(key)) children.set(key, l.child(labels));
    children.get(key)!(value);
  }
  return { theirs, ours };
}

describe("LabelledHistogram: exposed exactly as prom-client's Histogram", () => {
  it("same text exposition (Prometheus and OpenMetrics)", async () => {
    for (const type of [Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE]) {
      const { theirs, ours } = both(type);
      const text = await ours.metrics();
      expect(text).toBe(await theirs.metrics());
      expect(text.endsWith("# EOF\n")).toBe(type === Registry.OPENMETRICS_CONTENT_TYPE);
      expect(text).toMatch(/_bucket\{le="\+Inf",endpoint="cibil\.generateOtp",outcome="UPSTREAM_TIMEOUT"\} 2$/m);
    }
  });

  it("same JSON (what cluster workers send the primary to aggregate)", async () => {
    const { theirs, ours } = both();
    expect(JSON.stringify(await ours.getMetricsAsJSON())).toBe(JSON.stringify(await theirs.getMetricsAsJSON()));
  });

  it("lists no series before one is observed; a non-finite value is refused, as by prom-client", async () => {
    const registry = new Registry();
    const l = new LabelledHistogram<"operation">("x_seconds", "x", BUCKETS, [registry]);
    expect(await registry.metrics()).toBe("# HELP x_seconds x\n# TYPE x_seconds histogram\n");
    const observe = l.child({ operation: "a" });
    expect(() => observe(Number.NaN)).toThrow(TypeError);
  });
});
