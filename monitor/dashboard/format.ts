/**
 * How the dashboard writes numbers for people. Amounts go through the protocol's own money rules
 * (BigInt minor units, never floating point); everything else is display only.
 *
 * @module
 */
import { BALANCE_MINOR_MAX } from "../../protocol/limits.ts";
import { formatDollars, parseAmountMinor } from "../../protocol/money.ts";

export function formatCount(value: number): string {
  return value.toLocaleString("en-US");
}

function pad2(value: number): string {
  return String(value).padStart(2, "0");
}

export function formatDuration(totalSeconds: number): string {
  const days = Math.floor(totalSeconds / 86400);
  const hours = Math.floor((totalSeconds % 86400) / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (days > 0) return days + "d " + pad2(hours) + "h";
  if (hours > 0) return hours + "h " + pad2(minutes) + "m";
  if (minutes > 0) return minutes + "m " + pad2(seconds) + "s";
  return seconds + "s";
}

/** A positive digit string of minor units as `$1,234.56`; null for anything else. */
export function formatAmount(amountMinor: string): string | null {
  const amount = parseAmountMinor(amountMinor, BALANCE_MINOR_MAX);
  return amount.ok ? formatDollars(amount.amountMinor, { cents: "always" }) : null;
}

export function formatClock(date: Date): string {
  return pad2(date.getHours()) + ":" + pad2(date.getMinutes()) + ":" + pad2(date.getSeconds());
}

export function formatMeasure(value: number | null, integer: boolean): string {
  if (value === null) return "–";
  if (integer) return formatCount(value);
  if (value >= 100) return String(Math.round(value));
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** A gridline label with as many decimals as the step needs (0.25 needs 2, 5 needs none). */
export function formatTick(tick: number, step: number): string {
  let decimals = 0;
  const off = (places: number) => Math.abs(step * 10 ** places - Math.round(step * 10 ** places)) > 1e-6;
  while (decimals < 3 && off(decimals)) decimals += 1;
  return decimals === 0 ? formatCount(Math.round(tick)) : tick.toFixed(decimals);
}

export function formatSpan(seconds: number): string {
  if (seconds % 60 === 0) return seconds / 60 + " min";
  if (seconds > 60) return Math.floor(seconds / 60) + " min " + (seconds % 60) + " s";
  return seconds + " s";
}

/** 20,000 as "20k", 1,048,576 as "1.0M": short enough for a counter. */
export function formatCompact(value: number): string {
  if (value >= 1e6) return (value / 1e6).toFixed(1) + "M";
  if (value >= 1e4) return Math.round(value / 1e3) + "k";
  return formatCount(value);
}
