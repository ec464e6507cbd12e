import type { Registry } from "prom-client";

/** One label set's count, in exactly the shape prom-client's Counter keeps it (and hands its Registry). */
interface Series {
  value: number;
  labels: Readonly<Record<string, string>>;
}

/**
 * A labelled counter for the request path, registered in a prom-client Registry, which formats it: its values have
 * exactly the shape of prom-client's Counter's (test/unit/observability/counter.test.ts compares the two
 * expositions, text, OpenMetrics and JSON).
 *
 * Why not prom-client's Counter: its child's inc() (`labels(...).inc()`, a bound inc) hashes the label object (its
 * keys sorted into a string), validates every label and looks the series up by that string, on every call; here a
 * child holds its series and an inc is one addition. Counted once per upstream attempt (metrics.ts).
 */
export class LabelledCounter<L extends string> {
  readonly type = "counter";
  readonly aggregator = "sum";
  readonly #series: Series[] = [];

  constructor(
    /** Not readonly: prom-client's Registry renames a counter in place for OpenMetrics (standardizeCounterName). */
    public name: string,
    readonly help: string,
    registers: readonly Registry[],
  ) {
    for (const registry of registers) registry.registerMetric(this as never);
  }

  /**
   * The incrementer of one label set, listed from now on (at 0 until counted: metrics.ts startAtZero lists the known
   * label sets before any count). Once per label set (the caller caches it).
   */
  child(labels: Readonly<Record<L, string>>): () => void {
    const series: Series = { value: 0, labels: { ...labels } };
    this.#series.push(series);
    return () => {
      series.value += 1;
    };
  }

  /** What prom-client's Counter.get() returns (Registry.metrics and getMetricsAsJSON read it). */
  async get(): Promise<{ help: string; name: string; type: string; values: Series[]; aggregator: string }> {
    return {
      help: this.help,
      name: this.name,
      type: this.type,
      values: this.#series.map((s) => ({ value: s.value, labels: s.labels })),
      aggregator: this.aggregator,
    };
  }
}
