/**
 * Prometheus metrics: counters, gauges and histograms with a fixed set of label names, rendered in the text
 * exposition format (version 0.0.4). Label values come from closed unions in the callers, so the number of
 * series is bounded by construction; {@link SERIES_PER_METRIC_MAX} guards it anyway.
 *
 * @module
 */
import { assert } from "./assert.ts";

/** The most label combinations one metric may hold. */
export const SERIES_PER_METRIC_MAX = 256;
const NAME_PATTERN = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type Labels = Record<string, string>;

abstract class Metric {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  abstract readonly type: "counter" | "gauge" | "histogram";

  constructor(name: string, help: string, labelNames: readonly string[]) {
    assert(NAME_PATTERN.test(name), `Metric name "${name}" is not valid`);
    assert(labelNames.every((label) => LABEL_PATTERN.test(label) && label !== "le"), `Bad labels on ${name}`);
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  /** The series key of a label set; checks the names match the metric's. */
  protected key(labels: Labels): string {
    const names = Object.keys(labels);
    assert(
      names.length === this.labelNames.length,
      `Metric ${this.name} takes labels ${this.labelNames.join(",")}`,
    );
    return this.labelNames.map((name) => {
      const value = labels[name];
      assert(value !== undefined, `Metric ${this.name} needs label ${name}`);
      return `${name}="${escapeLabel(value)}"`;
    }).join(",");
  }

  abstract render(): string[];
}

export class Counter extends Metric {
  readonly type = "counter";
  readonly #values = new Map<string, number>();

  inc(labels: Labels = {}, amount = 1): void {
    assert(amount >= 0, `Counter ${this.name} cannot grow by ${amount}`);
    assert(Number.isFinite(amount), `Counter ${this.name} cannot grow by ${amount}`);
    const key = this.key(labels);
    assert(
      this.#values.has(key) || this.#values.size < SERIES_PER_METRIC_MAX,
      `Too many series in ${this.name}`,
    );
    this.#values.set(key, (this.#values.get(key) ?? 0) + amount);
  }

  value(labels: Labels = {}): number {
    return this.#values.get(this.key(labels)) ?? 0;
  }

  /** The sum over every label set. */
  total(): number {
    let sum = 0;
    for (const value of this.#values.values()) sum += value;
    return sum;
  }

  render(): string[] {
    return [...this.#values].map(([key, value]) => `${this.name}${braces(key)} ${formatNumber(value)}`);
  }
}

export class Gauge extends Metric {
  readonly type = "gauge";
  readonly #values = new Map<string, number>();

  set(value: number, labels: Labels = {}): void {
    assert(Number.isFinite(value), `Gauge ${this.name} cannot be ${value}`);
    const key = this.key(labels);
    assert(
      this.#values.has(key) || this.#values.size < SERIES_PER_METRIC_MAX,
      `Too many series in ${this.name}`,
    );
    this.#values.set(key, value);
  }

  add(delta: number, labels: Labels = {}): void {
    this.set((this.#values.get(this.key(labels)) ?? 0) + delta, labels);
  }

  value(labels: Labels = {}): number {
    return this.#values.get(this.key(labels)) ?? 0;
  }

  render(): string[] {
    return [...this.#values].map(([key, value]) => `${this.name}${braces(key)} ${formatNumber(value)}`);
  }
}

/** A histogram with fixed upper bounds, in seconds for latencies. */
export class Histogram extends Metric {
  readonly type = "histogram";
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, { buckets: number[]; sum: number; count: number }>();

  constructor(
    name: string,
    help: string,
    options: { labelNames?: readonly string[]; bounds: readonly number[] },
  ) {
    super(name, help, options.labelNames ?? []);
    assert(options.bounds.length > 0, `Histogram ${name} needs buckets`);
    assert(
      options.bounds.every((bound, index) => index === 0 || bound > options.bounds[index - 1]!),
      "Sorted buckets",
    );
    this.#bounds = options.bounds;
  }

  observe(value: number, labels: Labels = {}): void {
    assert(Number.isFinite(value), `Histogram ${this.name} cannot observe ${value}`);
    assert(value >= 0, `Histogram ${this.name} cannot observe ${value}`);
    const key = this.key(labels);
    let series = this.#series.get(key);
    if (series === undefined) {
      assert(this.#series.size < SERIES_PER_METRIC_MAX, `Too many series in ${this.name}`);
      series = { buckets: this.#bounds.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    const index = this.#bounds.findIndex((bound) => value <= bound);
    if (index >= 0) series.buckets[index]! += 1;
    series.sum += value;
    series.count += 1;
  }

  render(): string[] {
    const lines: string[] = [];
    for (const [key, series] of this.#series) {
      let cumulative = 0;
      this.#bounds.forEach((bound, index) => {
        cumulative += series.buckets[index]!;
        lines.push(`${this.name}_bucket${braces(join(key, `le="${formatNumber(bound)}"`))} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket${braces(join(key, 'le="+Inf"'))} ${series.count}`);
      lines.push(`${this.name}_sum${braces(key)} ${formatNumber(series.sum)}`);
      lines.push(`${this.name}_count${braces(key)} ${series.count}`);
    }
    return lines;
  }
}

/** A set of metrics rendered together. */
export class Registry {
  readonly #metrics: Metric[] = [];

  register<M extends Metric>(metric: M): M {
    assert(
      !this.#metrics.some((known) => known.name === metric.name),
      `Metric ${metric.name} registered twice`,
    );
    this.#metrics.push(metric);
    return metric;
  }

  /** The text exposition format: HELP, TYPE, then every series of each metric. */
  render(): string {
    const lines: string[] = [];
    for (const metric of this.#metrics) {
      lines.push(`# HELP ${metric.name} ${metric.help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n")}`);
      lines.push(`# TYPE ${metric.name} ${metric.type}`);
      lines.push(...metric.render());
    }
    return lines.join("\n") + "\n";
  }
}

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function braces(key: string): string {
  return key === "" ? "" : `{${key}}`;
}

function join(key: string, extra: string): string {
  return key === "" ? extra : `${key},${extra}`;
}

function formatNumber(value: number): string {
  if (value === Infinity) return "+Inf";
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(12)));
}
