import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';

/**
 * Small hand-drawn SVG charts. Colours come from CSS classes (the CSP forbids inline styles, and
 * presentation attributes cannot use CSS variables); sizes follow the container's width.
 */

function useWidth(fallback = 640): [{ current: HTMLDivElement | null }, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(fallback);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = () => setWidth(Math.max(240, Math.floor(element.getBoundingClientRect().width)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

/** 0, a "nice" step (1, 2, 5 × 10^n) and its multiples up to at least `max`. */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

export interface Series {
  label: string;
  /** CSS class giving the fill or stroke colour. */
  tone: 'ok' | 'fail' | 'other' | 'accent';
  values: number[];
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function Axes({ frame, ticks, max, format, labels }: { frame: Frame; ticks: number[]; max: number; format: (v: number) => string; labels: { x: number; text: string }[] }) {
  const y = (v: number) => frame.top + (frame.height - frame.top - frame.bottom) * (1 - v / max);
  return (
    <g aria-hidden="true">
      {ticks.map((tick) => (
        <g key={tick}>
          <line class="chart-grid" x1={frame.left} x2={frame.width - frame.right} y1={y(tick)} y2={y(tick)} />
          <text class="chart-label" x={frame.left - 8} y={y(tick)} dy="0.32em" text-anchor="end">
            {format(tick)}
          </text>
        </g>
      ))}
      {labels.map((label) => (
        <text key={label.x} class="chart-label" x={label.x} y={frame.height - 6} text-anchor="middle">
          {label.text}
        </text>
      ))}
    </g>
  );
}

/** Which of `n` buckets get an x-axis label: about one per 90 px. */
function labelIndexes(n: number, plotWidth: number): number[] {
  const wanted = Math.max(2, Math.min(n, Math.floor(plotWidth / 90)));
  const every = Math.ceil(n / wanted);
  const out: number[] = [];
  for (let i = 0; i < n; i += every) out.push(i);
  return out;
}

interface ChartProps {
  /** What the chart shows, for screen readers (the chart is one image to them). */
  summary: string;
  /** Bucket labels for the x axis and the hover titles. */
  buckets: string[];
  height?: number;
  format?: (v: number) => string;
}

/** Stacked columns, one per bucket (e.g. succeeded + failed runs per minute). */
export function StackedBars({ summary, buckets, series, height = 200, format = (v) => String(v) }: ChartProps & { series: Series[] }) {
  const [ref, width] = useWidth();
  const frame: Frame = { width, height, left: 44, right: 8, top: 10, bottom: 26 };
  const totals = buckets.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const ticks = niceTicks(Math.max(...totals, 0));
  const max = ticks[ticks.length - 1] || 1;
  const plotWidth = width - frame.left - frame.right;
  const plotHeight = height - frame.top - frame.bottom;
  const slot = plotWidth / Math.max(1, buckets.length);
  const bar = Math.max(1, Math.min(28, slot * 0.7));
  return (
    <div class="chart" ref={ref}>
      <svg width={width} height={height} role="img" aria-label={summary} class="chart-svg">
        <Axes
          frame={frame}
          ticks={ticks}
          max={max}
          format={format}
          labels={labelIndexes(buckets.length, plotWidth).map((i) => ({ x: frame.left + slot * (i + 0.5), text: buckets[i] }))}
        />
        {buckets.map((bucket, i) => {
          let base = 0;
          const x = frame.left + slot * i + (slot - bar) / 2;
          return (
            <g key={bucket + i}>
              <title>{`${bucket}: ${series.map((s) => `${s.values[i] ?? 0} ${s.label}`).join(', ')}`}</title>
              {/* A transparent full-height column so hovering anywhere over the bucket shows its title. */}
              <rect class="chart-hit" x={frame.left + slot * i} y={frame.top} width={slot} height={plotHeight} />
              {series.map((s) => {
                const value = s.values[i] ?? 0;
                if (value <= 0) return null;
                const h = (value / max) * plotHeight;
                const y = frame.top + plotHeight - ((base + value) / max) * plotHeight;
                base += value;
                return <rect key={s.label} class={`chart-fill-${s.tone}`} x={x} y={y} width={bar} height={Math.max(1, h)} rx={Math.min(3, bar / 3)} />;
              })}
            </g>
          );
        })}
        <line class="chart-axis" x1={frame.left} x2={width - frame.right} y1={frame.top + plotHeight} y2={frame.top + plotHeight} aria-hidden="true" />
      </svg>
    </div>
  );
}

/** A line with a soft area under it; gaps (null) break the line. */
export function LineChart({ summary, buckets, values, height = 200, format = (v) => String(v) }: ChartProps & { values: (number | null)[] }) {
  const [ref, width] = useWidth();
  const frame: Frame = { width, height, left: 52, right: 10, top: 10, bottom: 26 };
  const ticks = niceTicks(Math.max(0, ...values.filter((v): v is number => v !== null)));
  const max = ticks[ticks.length - 1] || 1;
  const plotWidth = width - frame.left - frame.right;
  const plotHeight = height - frame.top - frame.bottom;
  const slot = plotWidth / Math.max(1, buckets.length);
  const point = (i: number, v: number) => [frame.left + slot * (i + 0.5), frame.top + plotHeight * (1 - v / max)] as const;

  // Runs of consecutive values, each drawn as one path.
  const runs: { i: number; v: number }[][] = [];
  values.forEach((v, i) => {
    if (v === null) return;
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1].i === i - 1) last.push({ i, v });
    else runs.push([{ i, v }]);
  });
  const floor = frame.top + plotHeight;
  return (
    <div class="chart" ref={ref}>
      <svg width={width} height={height} role="img" aria-label={summary} class="chart-svg">
        <Axes
          frame={frame}
          ticks={ticks}
          max={max}
          format={format}
          labels={labelIndexes(buckets.length, plotWidth).map((i) => ({ x: frame.left + slot * (i + 0.5), text: buckets[i] }))}
        />
        {runs.map((run) => {
          const line = run.map(({ i, v }, n) => `${n === 0 ? 'M' : 'L'}${point(i, v).join(',')}`).join(' ');
          const area = `${line} L${point(run[run.length - 1].i, 0)[0]},${floor} L${point(run[0].i, 0)[0]},${floor} Z`;
          return (
            <g key={run[0].i}>
              <path class="chart-area" d={area} />
              <path class="chart-line" d={line} />
            </g>
          );
        })}
        {values.map((v, i) =>
          v === null ? null : (
            <circle key={i} class="chart-dot" cx={point(i, v)[0]} cy={point(i, v)[1]} r={run1(runs, i) ? 3 : 2}>
              <title>{`${buckets[i]}: ${format(v)}`}</title>
            </circle>
          ),
        )}
        <line class="chart-axis" x1={frame.left} x2={width - frame.right} y1={floor} y2={floor} aria-hidden="true" />
      </svg>
    </div>
  );
}

/** A lone point (no neighbours) is drawn a little larger, since it has no line. */
const run1 = (runs: { i: number }[][], i: number) => runs.some((run) => run.length === 1 && run[0].i === i);

/** A ring showing a ratio (success rate), with the figure in the middle. */
export function Ring({ ratio, label, children }: { ratio: number | null; label: string; children: ComponentChildren }) {
  const radius = 42;
  const circumference = 2 * Math.PI * radius;
  const filled = ratio === null ? 0 : Math.max(0, Math.min(1, ratio)) * circumference;
  return (
    <div class="ring">
      <svg viewBox="0 0 100 100" width="112" height="112" role="img" aria-label={label}>
        <circle class="ring-track" cx="50" cy="50" r={radius} />
        {ratio !== null && (
          <circle
            class={`ring-value ${ratio >= 0.95 ? 'ring-ok' : ratio >= 0.8 ? 'ring-warn' : 'ring-bad'}`}
            cx="50"
            cy="50"
            r={radius}
            stroke-dasharray={`${filled} ${circumference}`}
            transform="rotate(-90 50 50)"
          />
        )}
      </svg>
      <div class="ring-text" aria-hidden="true">
        {children}
      </div>
    </div>
  );
}

/** Horizontal bars with labels (top failing flows): a list, so screen readers read label and value. */
export function BarList({
  items,
  format = (v) => String(v),
  label,
}: {
  items: { key: string; label: ComponentChildren; value: number; detail?: string }[];
  format?: (v: number) => string;
  label: string;
}) {
  const max = Math.max(1, ...items.map((i) => i.value));
  return (
    <ul class="bar-list" aria-label={label}>
      {items.map((item) => (
        <li key={item.key}>
          <div class="bar-list-row">
            <span class="bar-list-label">{item.label}</span>
            <span class="bar-list-value">
              {format(item.value)}
              {item.detail && <span class="muted small"> {item.detail}</span>}
            </span>
          </div>
          <svg class="bar-list-track" width="100%" height="6" aria-hidden="true" preserveAspectRatio="none" viewBox="0 0 100 6">
            <rect class="bar-list-bg" x="0" y="0" width="100" height="6" rx="3" />
            <rect class="bar-list-fill" x="0" y="0" width={Math.max(2, (item.value / max) * 100)} height="6" rx="3" />
          </svg>
        </li>
      ))}
    </ul>
  );
}
