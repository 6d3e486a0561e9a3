import type { Metric, Registry } from "prom-client";

/** One label set's counts: a cumulative count is only computed when Prometheus scrapes. */
interface Series {
  labels: { method: string; route: string; status: string };
  /** Observations per bucket (not cumulative); the last slot is `+Inf`. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/** What prom-client's registry reads from a metric when it renders `/metrics`. */
interface RenderedValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * The HTTP request duration histogram (`<name>_bucket`, `_sum`, `_count` by method, route and status), rendered
 * by prom-client's registry like its own histograms. It exists because prom-client's `observe` validates the
 * labels, hashes them into a string and indexes its buckets by the bound converted to a string, on every
 * request: a large share of a fast route. Here an observation is a map lookup and a few numeric writes.
 */
export class DurationHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #bounds: Float64Array;
  /** By route, then method, then status: the route and method strings are the same objects on every request
   * (the router's pattern, Node's method name), so each lookup hashes nothing new and nothing is concatenated. */
  readonly #series = new Map<string, Map<string, Map<number, Series>>>();

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
  ) {
    this.#bounds = Float64Array.from([...buckets].sort((a, b) => a - b));
  }

  /** Registers the histogram with a prom-client registry, so `registry.metrics()` renders it. */
  register(registry: Registry): this {
    // The registry reads only name, help, type, aggregator, get() and reset(): this class has them all, but
    // prom-client types its parameter as the union of its own classes.
    registry.registerMetric(this as unknown as Metric);
    return this;
  }

  /** Records one request of `seconds`. */
  observe(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.#series.get(route);
    if (!byMethod) {
      byMethod = new Map();
      this.#series.set(route, byMethod);
    }
    let byStatus = byMethod.get(method);
    if (!byStatus) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let series = byStatus.get(status);
    if (!series) {
      series = {
        labels: { method, route, status: String(status) },
        counts: new Float64Array(this.#bounds.length + 1),
        sum: 0,
        count: 0,
      };
      byStatus.set(status, series);
    }
    const bounds = this.#bounds;
    let bucket = 0;
    while (bucket < bounds.length && seconds > (bounds[bucket] as number)) bucket++;
    (series.counts[bucket] as number)++;
    series.sum += seconds;
    series.count++;
  }

  /** The values in prom-client's shape: cumulative buckets with `le`, then `_sum` and `_count` per label set. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: RenderedValue[] }> {
    const values: RenderedValue[] = [];
    for (const { labels, counts, sum, count } of this.#all()) {
      let cumulative = 0;
      for (let i = 0; i <= this.#bounds.length; i++) {
        cumulative += counts[i] as number;
        const le = i < this.#bounds.length ? (this.#bounds[i] as number) : "+Inf";
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  *#all(): Iterable<Series> {
    for (const byMethod of this.#series.values()) for (const byStatus of byMethod.values()) yield* byStatus.values();
  }

  /** Forgets every observation (prom-client's `registry.resetMetrics()`). */
  reset(): void {
    this.#series.clear();
  }
}
