/**
 * The dashboard's view of the last minutes: requests, errors, rejections, open connections and latency
 * percentiles per second, and the most recent transfers (amounts and account ids only). Both have
 * ceilings: {@link SERIES_SECONDS_MAX} seconds and {@link RECENT_TRANSFERS_MAX} transfers.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { LatencyHistogram } from "../../lib/histogram.ts";
import type { RecentTransfer, SeriesSample, SeriesView } from "../../monitor/source.ts";
import { RECENT_TRANSFERS_MAX, SERIES_SECONDS_MAX } from "../limits.ts";
import type { JournaledTransfer } from "./sink.ts";

/** Counts the current second, and keeps the finished ones. */
export class SecondSeries {
  readonly #samples: SeriesSample[] = [];
  readonly #recent: RecentTransfer[] = [];
  #second = emptySecond();

  /** Counts one answered request of the current second. */
  request(answer: { ok: boolean; durationMs: number }): void {
    this.#second.requests += 1;
    if (!answer.ok) this.#second.errors += 1;
    this.#second.latencies.record(answer.durationMs);
  }

  /** Counts rejections (connections, rate-limited requests, monitor requests) of the current second. */
  rejected(count = 1): void {
    this.#second.rejected += count;
  }

  transfer(transfer: JournaledTransfer): void {
    this.#recent.unshift({
      at: transfer.at.toISOString(),
      from: transfer.sourceAccountId,
      to: transfer.targetAccountId,
      amount_minor: transfer.amountMinor.toString(),
    });
    if (this.#recent.length > RECENT_TRANSFERS_MAX) this.#recent.pop();
  }

  /** Closes the current second; call once a second with the connections open at its end. */
  tick(at: { nowMs: number; connections: number }): void {
    const { requests, errors, rejected, latencies } = this.#second;
    this.#samples.push({
      t: Math.floor(at.nowMs / 1000),
      requests,
      errors,
      rejected,
      connections: at.connections,
      p50_ms: rounded(latencies.quantileMs(0.5)),
      p90_ms: rounded(latencies.quantileMs(0.9)),
      p99_ms: rounded(latencies.quantileMs(0.99)),
    });
    if (this.#samples.length > SERIES_SECONDS_MAX) this.#samples.shift();
    assert(this.#samples.length <= SERIES_SECONDS_MAX, "The series keeps at most its ceiling");
    this.#second = emptySecond();
  }

  view(): SeriesView {
    return { samples: [...this.#samples], recent_transfers: [...this.#recent] };
  }
}

function emptySecond() {
  return { requests: 0, errors: 0, rejected: 0, latencies: new LatencyHistogram() };
}

function rounded(valueMs: number | null): number | null {
  return valueMs === null ? null : Math.round(valueMs * 1000) / 1000;
}
