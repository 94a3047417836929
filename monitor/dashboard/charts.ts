/**
 * The dashboard's four per-second charts, drawn as SVG step lines: each sample holds its value over the
 * second `(t - 1, t]` it counts, a missing second or a null breaks the line, and the y axis steps by 1, 2
 * or 5 times a power of ten. Each chart also states its latest value in words, for its caption and for
 * screen readers.
 *
 * @module
 */
import type { SeriesSample } from "../source.ts";
import { formatMeasure, formatSpan, formatTick } from "./format.ts";

export const WINDOW_SECONDS_MIN = 30;
export const WINDOW_SECONDS_MAX = 600;
const CHART_HEIGHT_PX = 170;
const CHART_WIDTH_PX_MIN = 240;
const TIME_LABEL_PX_MIN = 72;
const SVG_NS = "http://www.w3.org/2000/svg";
const MARGIN = { left: 46, right: 12, top: 10, bottom: 22 };

type SeriesKey = Exclude<keyof SeriesSample, "t">;

interface ChartLine {
  key: SeriesKey;
  label: string;
  className?: string;
  dash?: "dashed" | "dotted";
}

interface Chart {
  id: string;
  title: string;
  unit: string;
  integer: boolean;
  fill: boolean;
  lines: ChartLine[];
}

export const CHARTS: readonly Chart[] = [
  {
    id: "chart-throughput",
    title: "Throughput",
    unit: "requests/s",
    integer: true,
    fill: true,
    lines: [{ key: "requests", label: "requests" }],
  },
  {
    id: "chart-latency",
    title: "Latency",
    unit: "ms",
    integer: false,
    fill: false,
    lines: [
      { key: "p50_ms", label: "p50", className: "s-p50" },
      { key: "p90_ms", label: "p90", className: "s-p90", dash: "dashed" },
      { key: "p99_ms", label: "p99", className: "s-p99", dash: "dotted" },
    ],
  },
  {
    id: "chart-connections",
    title: "Open connections",
    unit: "connections",
    integer: true,
    fill: true,
    lines: [{ key: "connections", label: "open" }],
  },
  {
    id: "chart-errors",
    title: "Errors and rejections",
    unit: "per second",
    integer: true,
    fill: false,
    lines: [
      { key: "errors", label: "errors" },
      { key: "rejected", label: "rejected", dash: "dashed" },
    ],
  },
];

/** Where a chart's figures land: x for a second, y for a value, and the frame both fit in. */
interface Frame {
  width: number;
  height: number;
  plotWidth: number;
  plotHeight: number;
  endT: number;
  span: number;
  step: number;
  yMax: number;
  x(t: number): number;
  y(value: number): number;
}

function svgElement(name: string, attributes: Record<string, string | number>): SVGElement {
  const element = document.createElementNS(SVG_NS, name) as SVGElement;
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

function svgText(text: string, attributes: Record<string, string | number>): SVGElement {
  const element = svgElement("text", attributes);
  element.textContent = text;
  return element;
}

/** A step of 1, 2 or 5 times a power of ten, at least `size` (and at least 1 for counts). */
export function niceStep(size: number, integer: boolean): number {
  if (!(size > 0)) return integer ? 1 : 0.25;
  const power = 10 ** Math.floor(Math.log10(size));
  const fraction = size / power;
  const step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
  return integer ? Math.max(1, step) : step;
}

/** Seconds between time labels: the smallest round step that leaves each label room. */
export function timeStep(spanSeconds: number, plotWidth: number): number {
  const steps = [15, 30, 60, 120, 300, 600];
  return steps.find((step) => (plotWidth * step) / spanSeconds >= TIME_LABEL_PX_MIN) ??
    steps[steps.length - 1]!;
}

interface Run {
  points: { t: number; value: number }[];
  lastT: number;
}

/** Contiguous runs of seconds that have a value: a gap or a null breaks the line. */
export function runsOf(samples: readonly SeriesSample[], key: SeriesKey): Run[] {
  const runs: Run[] = [];
  let run: Run | null = null;
  for (const sample of samples) {
    const value = sample[key];
    if (value === null) {
      run = null;
      continue;
    }
    if (run === null || run.lastT !== sample.t - 1) {
      run = { points: [], lastT: sample.t };
      runs.push(run);
    }
    run.points.push({ t: sample.t, value });
    run.lastT = sample.t;
  }
  return runs;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** The SVG path of each run as a step line, and the area under it. */
export function stepPaths(
  runs: readonly Run[],
  frame: Pick<Frame, "x" | "y">,
): { line: string; area: string } {
  let line = "";
  let area = "";
  const baseY = round1(frame.y(0));
  for (const run of runs) {
    const startX = round1(frame.x(run.points[0]!.t - 1));
    line += "M" + startX + " " + round1(frame.y(run.points[0]!.value));
    area += "M" + startX + " " + baseY;
    for (const [index, point] of run.points.entries()) {
      const y = round1(frame.y(point.value));
      if (index > 0) line += "V" + y;
      area += "V" + y;
      const x = round1(frame.x(point.t));
      line += "H" + x;
      area += "H" + x;
    }
    area += "V" + baseY + "Z";
  }
  return { line, area };
}

function peakOf(chart: Chart, samples: readonly SeriesSample[]): number {
  let peak = 0;
  for (const sample of samples) {
    for (const line of chart.lines) peak = Math.max(peak, sample[line.key] ?? 0);
  }
  return peak;
}

function frameOf(chart: Chart, samples: readonly SeriesSample[], width: number, peak: number): Frame {
  const step = niceStep(peak / 4, chart.integer);
  const yMax = Math.max(step, Math.ceil(peak / step - 1e-9) * step);
  const endT = samples.length > 0 ? samples[samples.length - 1]!.t : 0;
  const firstT = samples.length > 0 ? samples[0]!.t - 1 : endT;
  const span = Math.min(WINDOW_SECONDS_MAX, Math.max(WINDOW_SECONDS_MIN, endT - firstT));
  const height = CHART_HEIGHT_PX;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  return {
    width,
    height,
    plotWidth,
    plotHeight,
    endT,
    span,
    step,
    yMax,
    x: (t) => MARGIN.left + plotWidth * (1 - (endT - t) / span),
    y: (value) => MARGIN.top + plotHeight * (1 - Math.min(value, yMax) / yMax),
  };
}

function gridParts(frame: Frame): SVGElement[] {
  const parts: SVGElement[] = [];
  for (let tick = 0; tick <= frame.yMax + frame.step / 2; tick += frame.step) {
    const y = round1(frame.y(tick));
    parts.push(
      svgElement("line", { class: "grid", x1: MARGIN.left, x2: frame.width - MARGIN.right, y1: y, y2: y }),
    );
    parts.push(svgText(formatTick(tick, frame.step), { x: MARGIN.left - 6, y: y + 4, "text-anchor": "end" }));
  }
  const axisY = frame.height - MARGIN.bottom;
  const every = timeStep(frame.span, frame.plotWidth);
  for (let ago = 0; ago <= frame.span; ago += every) {
    const x = round1(frame.x(frame.endT - ago));
    parts.push(svgElement("line", { class: "axis", x1: x, x2: x, y1: axisY, y2: axisY + 4 }));
    const anchor = ago === 0 ? "end" : ago + every > frame.span ? "start" : "middle";
    const label = ago === 0 ? "now" : "−" + formatSpan(ago);
    parts.push(svgText(label, { x, y: frame.height - 6, "text-anchor": anchor }));
  }
  parts.push(
    svgElement("line", {
      class: "axis",
      x1: MARGIN.left,
      x2: frame.width - MARGIN.right,
      y1: axisY,
      y2: axisY,
    }),
  );
  return parts;
}

function seriesParts(chart: Chart, samples: readonly SeriesSample[], frame: Frame): SVGElement[] {
  const parts: SVGElement[] = [];
  for (const line of chart.lines) {
    const paths = stepPaths(runsOf(samples, line.key), frame);
    const seriesClass = line.className ?? "s-" + line.key;
    if (chart.fill) {
      parts.push(
        svgElement("path", { class: "area " + seriesClass, d: paths.area, "data-series": line.key }),
      );
    }
    const dash = line.dash === undefined ? "" : " " + line.dash;
    parts.push(
      svgElement("path", { class: "line " + seriesClass + dash, d: paths.line, "data-series": line.key }),
    );
  }
  return parts;
}

/** The latest second in words: `12 requests/s`, or `p50 0.41 · p90 0.80 · p99 1.20 ms`. */
function latestInWords(chart: Chart, last: SeriesSample | null): string {
  if (last === null) return "no data yet";
  if (chart.lines.length === 1) {
    return formatMeasure(last[chart.lines[0]!.key], chart.integer) + " " + chart.unit;
  }
  const parts = chart.lines.map((line) => line.label + " " + formatMeasure(last[line.key], chart.integer));
  return parts.join(" · ") + " " + chart.unit;
}

/** Draws one chart over the samples; returns the seconds it spans. */
export function drawChart(chart: Chart, samples: readonly SeriesSample[]): number {
  const svg = document.getElementById(chart.id) as SVGSVGElement | null;
  if (svg === null) return WINDOW_SECONDS_MIN;
  const width = Math.max(CHART_WIDTH_PX_MIN, Math.round(svg.getBoundingClientRect().width) || 600);
  const peak = peakOf(chart, samples);
  const frame = frameOf(chart, samples, width, peak);
  const last = samples.length > 0 ? samples[samples.length - 1]! : null;
  const parts = [...gridParts(frame), ...seriesParts(chart, samples, frame)];
  if (last === null) {
    const middle = { x: MARGIN.left + frame.plotWidth / 2, y: MARGIN.top + frame.plotHeight / 2 };
    parts.push(svgText("No data yet", { ...middle, "text-anchor": "middle" }));
  }
  svg.setAttribute("viewBox", "0 0 " + width + " " + frame.height);
  svg.replaceChildren(...parts);
  const firstKey = chart.lines[0]!.key;
  svg.dataset.peak = String(peak);
  svg.dataset.samples = String(samples.length);
  svg.dataset.total = String(samples.reduce((sum, sample) => sum + (sample[firstKey] ?? 0), 0));
  svg.dataset.latest = last === null || last[firstKey] === null ? "" : String(last[firstKey]);
  const latest = latestInWords(chart, last);
  const caption = document.getElementById(chart.id + "-now");
  if (caption !== null) caption.textContent = last === null ? "—" : "now: " + latest;
  const summary = chart.title + " (" + chart.unit + ") over the last " + formatSpan(frame.span);
  svg.setAttribute("aria-label", summary + ": " + latest + "; peak " + formatMeasure(peak, chart.integer));
  return frame.span;
}
