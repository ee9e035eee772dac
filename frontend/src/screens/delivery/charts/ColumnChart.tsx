import { useId } from "react";
import "../../../components/charts/charts.css";
import { niceTicks } from "../format";

export interface ColumnSeries {
  name: string;
  values: (number | null)[];
  /** A CSS colour, normally a var(--chart-n). */
  color: string;
}

/**
 * Columns per x label: stacked (parts of one total, e.g. deployments that held and that
 * failed) or side by side. One image to assistive technology, with its data in a table.
 */
export function ColumnChart({
  title,
  xName,
  labels,
  series,
  stacked = false,
  height = 220,
  format = (v) => String(v),
  tickFormat = format,
}: {
  title: string;
  /** The table's first column ("Week", "Day"). */
  xName: string;
  labels: string[];
  series: ColumnSeries[];
  stacked?: boolean;
  height?: number;
  /** A value in the table. */
  format?: (value: number) => string;
  /** A value on the axis (default: as in the table). */
  tickFormat?: (value: number) => string;
}) {
  const id = useId();
  const width = 640;
  const pad = { top: 16, right: 12, bottom: 28, left: 44 };
  const totals = labels.map((_, i) => (stacked ? series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0) : Math.max(0, ...series.map((s) => s.values[i] ?? 0))));
  const { top: max, ticks } = niceTicks(Math.max(1, ...totals));
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const slot = innerW / Math.max(1, labels.length);
  const barW = Math.max(2, Math.min(36, slot * 0.75) / (stacked ? 1 : series.length));
  const y = (v: number) => pad.top + innerH - (v / max) * innerH;
  const every = Math.max(1, Math.ceil(labels.length / 8));
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${id}-t`}>
        <title id={`${id}-t`}>{title}</title>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={pad.left} x2={width - pad.right} y1={y(t)} y2={y(t)} className="chart-grid" />
            <text x={pad.left - 6} y={y(t) + 4} textAnchor="end" className="chart-axis">
              {tickFormat(t)}
            </text>
          </g>
        ))}
        {labels.map((label, i) => {
          const start = pad.left + i * slot + (slot - barW * (stacked ? 1 : series.length)) / 2;
          let base = 0;
          return (
            <g key={i}>
              {series.map((s, si) => {
                const v = s.values[i] ?? 0;
                const x = stacked ? start : start + si * barW;
                const bottom = stacked ? base : 0;
                if (stacked) base += v;
                if (v <= 0) return null;
                return <rect key={s.name} x={x} y={y(bottom + v)} width={Math.max(1, barW - 2)} height={y(bottom) - y(bottom + v)} rx={2} style={{ fill: s.color }} />;
              })}
              {(i % every === 0 || i === labels.length - 1) && (
                <text x={pad.left + i * slot + slot / 2} y={height - 8} textAnchor="middle" className="chart-axis">
                  {label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="chart-legend">
        {series.map((s) => (
          <span key={s.name} className="legend-entry">
            <span className="legend-swatch" style={{ borderColor: s.color }} aria-hidden="true" />
            {s.name}
          </span>
        ))}
      </figcaption>
      <details className="chart-data">
        <summary>Data as a table</summary>
        <table className="list">
          <caption className="visually-hidden">{title}</caption>
          <thead>
            <tr>
              <th scope="col">{xName}</th>
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
                  <td key={s.name}>{s.values[i] === null || s.values[i] === undefined ? "–" : format(s.values[i]!)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
