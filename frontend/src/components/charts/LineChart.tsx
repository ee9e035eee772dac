import { useId } from "react";
import "./charts.css";
import { useWidth } from "./useWidth";

export interface Series {
  name: string;
  /** One value per x label; null leaves a gap (e.g. days still to come). */
  values: (number | null)[];
  /** CSS colour, normally a var(--chart-n). */
  color: string;
  dashed?: boolean;
}

export interface Marker {
  index: number;
  label: string;
}

/**
 * A small responsive SVG line chart (no chart library: the app needs two kinds of chart and
 * this is under 150 lines). It is one image to assistive technology, with its data in a table
 * anyone can open.
 */
export function LineChart({
  title,
  labels,
  series,
  markers = [],
  height = 240,
  yLabel,
}: {
  title: string;
  labels: string[];
  series: Series[];
  markers?: Marker[];
  height?: number;
  yLabel?: string;
}) {
  const id = useId();
  const [figure, width] = useWidth<HTMLElement>();
  const pad = { top: 16, right: 16, bottom: 28, left: 40 };
  const max = Math.max(1, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  const niceMax = niceCeil(max);
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const x = (i: number) => pad.left + (labels.length <= 1 ? innerW / 2 : (i / (labels.length - 1)) * innerW);
  const y = (v: number) => pad.top + innerH - (v / niceMax) * innerH;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * niceMax);
  const every = Math.max(1, Math.ceil(labels.length / Math.max(3, Math.floor(innerW / 80))));
  return (
    <figure className="chart" ref={figure}>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${id}-title`} preserveAspectRatio="xMidYMid meet">
        <title id={`${id}-title`}>{title}</title>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={pad.left} x2={width - pad.right} y1={y(t)} y2={y(t)} className="chart-grid" />
            <text x={pad.left - 6} y={y(t) + 4} textAnchor="end" className="chart-axis">
              {Math.round(t)}
            </text>
          </g>
        ))}
        {labels.map((l, i) =>
          (i % every === 0 && labels.length - 1 - i >= every / 2) || i === labels.length - 1 ? (
            <text
              key={i}
              x={x(i)}
              y={height - 8}
              textAnchor={i === 0 && labels.length > 1 ? "start" : i === labels.length - 1 && labels.length > 1 ? "end" : "middle"}
              className="chart-axis"
            >
              {l}
            </text>
          ) : null,
        )}
        {markers.map((m, i) => (
          <g key={i} className="chart-marker">
            <line x1={x(m.index)} x2={x(m.index)} y1={pad.top} y2={pad.top + innerH} />
            <text x={x(m.index) + 3} y={pad.top + 10} className="chart-axis">
              {m.label}
            </text>
          </g>
        ))}
        {series.map((s) => (
          <path
            key={s.name}
            d={pathOf(s.values, x, y)}
            fill="none"
            stroke={s.color}
            strokeWidth={2.5}
            strokeDasharray={s.dashed ? "6 5" : undefined}
            strokeLinejoin="round"
          />
        ))}
        {yLabel && (
          <text x={12} y={pad.top + innerH / 2} transform={`rotate(-90 12 ${pad.top + innerH / 2})`} textAnchor="middle" className="chart-axis">
            {yLabel}
          </text>
        )}
      </svg>
      <figcaption className="chart-legend">
        {series.map((s) => (
          <span key={s.name} className="legend-entry">
            <span className={`legend-swatch${s.dashed ? " dashed" : ""}`} style={{ borderColor: s.color }} aria-hidden="true" />
            {s.name}
          </span>
        ))}
        {markers.length > 0 && (
          <span className="legend-entry">
            <span className="legend-swatch marker" aria-hidden="true" />
            scope change
          </span>
        )}
      </figcaption>
      <details className="chart-data">
        <summary>Data as a table</summary>
        <table className="list">
          <caption className="visually-hidden">{title}</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              {series.map((s) => (
                <th key={s.name} scope="col">
                  {s.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {labels.map((l, i) => (
              <tr key={i}>
                <th scope="row">{l}</th>
                {series.map((s) => (
                  <td key={s.name}>{s.values[i] ?? "–"}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

function pathOf(values: (number | null)[], x: (i: number) => number, y: (v: number) => number): string {
  let d = "";
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  return d;
}

export function niceCeil(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}
