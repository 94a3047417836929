/**
 * A latency histogram of fixed size: 1 % log-scale buckets from 1 us to one day (about 2,500 buckets), so
 * quantiles are within 0.5 % whatever the number of values, and memory never grows with them.
 *
 * @module
 */
import { assert } from "./assert.ts";

const GROWTH = 1.01;
/** The longest duration a histogram tells apart (one day); longer ones fall in its last bucket. */
export const HISTOGRAM_VALUE_MS_MAX = 24 * 3_600_000;
const VALUE_US_MAX = HISTOGRAM_VALUE_MS_MAX * 1_000;
const BUCKETS = Math.ceil(Math.log(VALUE_US_MAX) / Math.log(GROWTH)) + 2;
const LOG_GROWTH_INVERSE = 1 / Math.log(GROWTH);

/**
 * Records durations in milliseconds; answers quantiles, min, max and mean.
 *
 * @example Usage
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { LatencyHistogram } from "./histogram.ts";
 * const histogram = new LatencyHistogram();
 * for (const ms of [1, 2, 3, 4]) histogram.record(ms);
 * assertEquals(histogram.maxMs, 4);
 * ```
 */
export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sumMs = 0;
  #minMs = Infinity;
  #maxMs = 0;

  get count(): number {
    return this.#count;
  }

  record(valueMs: number): void {
    assert(Number.isFinite(valueMs), `Cannot record a duration of ${valueMs} ms`);
    assert(valueMs >= 0, `Cannot record a duration of ${valueMs} ms`);
    const valueUs = valueMs * 1_000;
    const index = valueUs < 1
      ? 0
      : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(valueUs) * LOG_GROWTH_INVERSE));
    this.#counts[index] = this.#counts[index]! + 1;
    this.#count += 1;
    this.#sumMs += valueMs;
    if (valueMs < this.#minMs) this.#minMs = valueMs;
    if (valueMs > this.#maxMs) this.#maxMs = valueMs;
  }

  /** The value below which `fraction` of the recorded values lie, within 0.5 %; null when empty. */
  quantileMs(fraction: number): number | null {
    assert(fraction > 0, `Cannot take quantile ${fraction}`);
    assert(fraction <= 1, `Cannot take quantile ${fraction}`);
    if (this.#count === 0) return null;
    const rank = Math.ceil(fraction * this.#count);
    let seen = 0;
    for (let index = 0; index < BUCKETS; index++) {
      seen += this.#counts[index]!;
      if (seen >= rank) {
        const middleMs = index === 0 ? 0 : GROWTH ** (index - 0.5) / 1_000;
        return Math.min(this.#maxMs, Math.max(this.#minMs, middleMs));
      }
    }
    assert(false, `Histogram holds ${this.#count} values but its buckets ${seen}`);
  }

  get minMs(): number | null {
    return this.#count === 0 ? null : this.#minMs;
  }

  get maxMs(): number | null {
    return this.#count === 0 ? null : this.#maxMs;
  }

  get meanMs(): number | null {
    return this.#count === 0 ? null : this.#sumMs / this.#count;
  }
}
