import type { ReactNode } from "react";
import { useId } from "react";
import "../../../components/charts/charts.css";
import { niceTicks } from "../format";

export interface ScatterPoint {
  /** Position along x: 0 … xCount − 1 (e.g. the day's index in the period). */
  x: number;
  y: number;
  /** Shown on hover and in the table's first column. */
  label: string;
  /** The table row's header (default: the label), e.g. a link to the item. */
  head?: ReactNode;
  /** The table row's cells after the label. */
  cells: ReactNode[];
}

export interface Reference {
  value: number;
  label: string;
}

/**
 * Points over a period with horizontal reference lines (a cycle-time scatter with its
 * percentiles). One image to assistive technology, with every point in a table.
 */
export function ScatterChart({
  title,
  xCount,
  xLabels,
  points,
  references = [],
  columns,
  yLabel,
  height = 260,
}: {
  title: string;
  xCount: number;
  /** Label of an x index, for the axis (first, last and a few between). */
  xLabels: (index: number) => string;
  points: ScatterPoint[];
  references?: Reference[];
  /** The table's headers: the label's, then the cells'. */
  columns: string[];
  yLabel?: string;
  height?: number;
}) {
  const id = useId();
  const width = 640;
  const pad = { top: 16, right: 56, bottom: 28, left: 44 };
  const { top: max, ticks } = niceTicks(Math.max(1, ...points.map((p) => p.y), ...references.map((r) => r.value)));
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const x = (i: number) => pad.left + (xCount <= 1 ? innerW / 2 : (i / (xCount - 1)) * innerW);
  const y = (v: number) => pad.top + innerH - (v / max) * innerH;
  const xTicks = xCount <= 1 ? [0] : Array.from(new Set([0, Math.round((xCount - 1) / 3), Math.round((2 * (xCount - 1)) / 3), xCount - 1]));
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${id}-t`}>
        <title id={`${id}-t`}>{title}</title>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={pad.left} x2={width - pad.right} y1={y(t)} y2={y(t)} className="chart-grid" />
            <text x={pad.left - 6} y={y(t) + 4} textAnchor="end" className="chart-axis">
              {t}
            </text>
          </g>
        ))}
        {xTicks.map((t) => (
          <text key={t} x={x(t)} y={height - 8} textAnchor={t === 0 ? "start" : t === xCount - 1 ? "end" : "middle"} className="chart-axis">
            {xLabels(t)}
          </text>
        ))}
        {references.map((r) => (
          <g key={r.label}>
            <line x1={pad.left} x2={width - pad.right} y1={y(r.value)} y2={y(r.value)} className="chart-mean" />
            <text x={width - pad.right + 4} y={y(r.value) + 4} className="chart-axis">
              {r.label}
            </text>
          </g>
        ))}
        {points.map((p, i) => (
          <circle key={i} cx={x(p.x)} cy={y(p.y)} r={4.5} style={{ fill: "var(--chart-1)", stroke: "var(--surface)" }} fillOpacity={0.75} strokeWidth={1}>
            <title>{p.label}</title>
          </circle>
        ))}
        {yLabel && (
          <text x={12} y={pad.top + innerH / 2} transform={`rotate(-90 12 ${pad.top + innerH / 2})`} textAnchor="middle" className="chart-axis">
            {yLabel}
          </text>
        )}
      </svg>
      <figcaption className="chart-legend">
        <span className="legend-entry">
          <span className="legend-swatch" style={{ borderColor: "var(--chart-1)" }} aria-hidden="true" />
          one item
        </span>
        {references.length > 0 && (
          <span className="legend-entry">
            <span className="legend-swatch dashed" aria-hidden="true" />
            {references.map((r) => r.label).join(", ")}
          </span>
        )}
      </figcaption>
      <details className="chart-data">
        <summary>Data as a table</summary>
        <table className="list">
          <caption className="visually-hidden">{title}</caption>
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c} scope="col">
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {points.map((p, i) => (
              <tr key={i}>
                <th scope="row">{p.head ?? p.label}</th>
                {p.cells.map((c, ci) => (
                  <td key={ci}>{c}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
