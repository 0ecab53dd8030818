// One metric as a uPlot line chart: drag across it to zoom into that time span (the page then
// fetches that span at a finer step), double-click to go back. Cursors of a device's charts move
// together. The canvas is summarized in text for screen readers.

import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { formatMetric, metricLabel } from '../format/labels';

export interface SeriesData {
  name: string;
  /** Unix seconds, ascending. */
  xs: number[];
  ys: (number | null)[];
}

const AXIS = {
  stroke: '#a3b3c6',
  grid: { stroke: '#2e3f55', width: 1 },
  ticks: { stroke: '#2e3f55', width: 1 },
};

function summary(series: SeriesData): string {
  const values = series.ys.filter((v): v is number => v !== null);
  if (values.length === 0) return `${metricLabel(series.name)}: no samples in this range`;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const last = values[values.length - 1] ?? 0;
  return `${metricLabel(series.name)}: latest ${formatMetric(series.name, last)}, range ${formatMetric(series.name, min)} to ${formatMetric(series.name, max)}`;
}

export function MetricChart({
  series,
  onZoom,
  onReset,
}: {
  series: SeriesData;
  onZoom: (fromSeconds: number, toSeconds: number) => void;
  onReset: () => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const handlers = useRef({ onZoom, onReset });
  handlers.current = { onZoom, onReset };

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const options: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 180,
      legend: { show: false },
      scales: { x: { time: true } },
      cursor: { drag: { x: true, y: false, setScale: false }, sync: { key: 'device-metrics' } },
      series: [
        {},
        {
          label: metricLabel(series.name),
          stroke: '#5aaaff',
          width: 2,
          fill: 'rgba(90,170,255,0.10)',
          points: { show: false },
        },
      ],
      axes: [
        AXIS,
        {
          ...AXIS,
          size: 60,
          values: (_u, values) => values.map((v) => formatMetric(series.name, v)),
        },
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 5) return;
            const from = u.posToVal(u.select.left, 'x');
            const to = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            handlers.current.onZoom(from, to);
          },
        ],
      },
    };
    const chart = new uPlot(options, [series.xs, series.ys], el);
    plot.current = chart;
    const onDblClick = (): void => handlers.current.onReset();
    chart.over.addEventListener('dblclick', onDblClick);
    const resize = new ResizeObserver(() => {
      chart.setSize({ width: Math.max(200, el.clientWidth), height: 180 });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.over.removeEventListener('dblclick', onDblClick);
      chart.destroy();
      plot.current = null;
    };
    // The chart is built once per metric; data changes go through setData below.
  }, [series.name]);

  useEffect(() => {
    plot.current?.setData([series.xs, series.ys]);
  }, [series]);

  const last = [...series.ys].reverse().find((v): v is number => v !== null);
  return (
    <figure class="chart" data-metric={series.name}>
      <h3>
        <span>{metricLabel(series.name)}</span>
        <span class="chart-value">
          {last === undefined ? '—' : formatMetric(series.name, last)}
        </span>
      </h3>
      <div ref={box} class="chart-canvas" role="img" aria-label={summary(series)} />
    </figure>
  );
}
