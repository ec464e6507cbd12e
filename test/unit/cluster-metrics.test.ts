import { Counter, Gauge, Registry } from "prom-client";
import { ClusterMetrics, type MetricsWorker } from "../../src/cluster";

/**
 * The primary's page of every worker's metrics (src/cluster.ts ClusterMetrics), with stand-in workers that answer from
 * a registry of their own: a worker gone keeps its counters in the sums, never its gauges.
 */
class StandInWorker implements MetricsWorker {
  readonly registry = new Registry();
  readonly sent = new Counter({ name: "sends_total", help: "h", registers: [this.registry] });
  readonly inFlight = new Gauge({ name: "in_flight", help: "h", registers: [this.registry] });
  connected = true;
  /** Whether it answers an ask: false holds the ask, as a stuck worker does. */
  answers = true;
  asks: number[] = [];
  constructor(private readonly metrics: ClusterMetrics) {}
  isConnected(): boolean {
    return this.connected;
  }
  send(message: object, _handle: undefined, callback: (error: Error | null) => void): boolean {
    const { id } = message as { id: number };
    this.asks.push(id);
    if (this.answers)
      void this.registry
        .getMetricsAsJSON()
        // Through JSON, as over the IPC channel: prom-client's series objects are the counter's own, still counting.
        .then((metrics) =>
          this.metrics.message(this, JSON.parse(JSON.stringify({ type: "aopay:metrics-answer", id, metrics }))),
        );
    callback(null);
    return true;
  }
}

const value = (page: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(page)?.[1]);

describe("ClusterMetrics: the workers' series on the primary's page", () => {
  it("sums the workers alive, and keeps a dead one's last counts (not its gauges) once it has exited", async () => {
    const metrics = new ClusterMetrics();
    const [a, b] = [new StandInWorker(metrics), new StandInWorker(metrics)];
    a.sent.inc(6);
    b.sent.inc(4);
    a.inFlight.set(3);
    b.inFlight.set(1);
    const first = await metrics.page([a, b]);
    expect([value(first, "sends_total"), value(first, "in_flight")]).toEqual([10, 4]);
    metrics.exited(a);
    b.sent.inc(1);
    const next = await metrics.page([b]);
    // 4 + 1 alive, 6 kept: never below the 10 Prometheus saw (which it would read as a reset, counting 5 again)
    expect([value(next, "sends_total"), value(next, "in_flight")]).toEqual([11, 1]);
    const c = new StandInWorker(metrics); // its replacement, from 0
    c.sent.inc(2);
    metrics.exited(b);
    expect(value(await metrics.page([c]), "sends_total")).toBe(13);
  });

  it("answers a scrape whose worker exits before answering, without it twice or a timeout", async () => {
    const metrics = new ClusterMetrics(60_000);
    const [a, b] = [new StandInWorker(metrics), new StandInWorker(metrics)];
    a.sent.inc(6);
    b.sent.inc(4);
    await metrics.page([a, b]); // a's last answer: 6
    a.answers = false;
    a.sent.inc(1); // counted after its last answer: lost with it
    const page = metrics.page([a, b]);
    await new Promise((r) => setImmediate(r));
    metrics.exited(a);
    expect(value(await page, "sends_total")).toBe(10);
  });

  it("never shows a counter below what it showed, though the same counts summed in another order differ in the last bit", async () => {
    const metrics = new ClusterMetrics();
    const [a, b, c] = [new StandInWorker(metrics), new StandInWorker(metrics), new StandInWorker(metrics)];
    [a, b, c].forEach((w, i) => w.sent.inc([0.1, 0.2, 0.3][i]));
    const first = value(await metrics.page([a, b, c]), "sends_total"); // (0.1 + 0.2) + 0.3
    expect(first).toBe(0.6000000000000001);
    metrics.exited(a);
    // (0.2 + 0.3) + 0.1 is 0.6: Prometheus would read that fall as a reset
    expect(value(await metrics.page([b, c]), "sends_total")).toBe(first);
  });

  it("fails a scrape a worker leaves unanswered, with prom-client's message", async () => {
    const metrics = new ClusterMetrics(50);
    const a = new StandInWorker(metrics);
    a.answers = false;
    await expect(metrics.page([a])).rejects.toThrow("Operation timed out.");
  });
});
