import { useId } from "react";
import { niceCeil } from "./LineChart";
import "./charts.css";
import { useWidth } from "./useWidth";

export interface BarGroup {
  label: string;
  values: number[];
}

/** Grouped bars (e.g. committed vs completed per sprint), with a mean line when given. */
export function BarChart({
  title,
  groups,
  names,
  colors,
  mean,
  height = 200,
}: {
  title: string;
  groups: BarGroup[];
  names: string[];
  colors: string[];
  mean?: number | null;
  height?: number;
}) {
  const id = useId();
  const [figure, width] = useWidth<HTMLElement>();
  const pad = { top: 16, right: 16, bottom: 28, left: 40 };
  const max = niceCeil(Math.max(1, ...groups.flatMap((g) => g.values)));
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const slot = innerW / Math.max(1, groups.length);
  const bar = Math.min(28, (slot * 0.7) / names.length);
  const y = (v: number) => pad.top + innerH - (v / max) * innerH;
  return (
    <figure className="chart" ref={figure}>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${id}-t`}>
        <title id={`${id}-t`}>{title}</title>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={pad.left} x2={width - pad.right} y1={y(f * max)} y2={y(f * max)} className="chart-grid" />
            <text x={pad.left - 6} y={y(f * max) + 4} textAnchor="end" className="chart-axis">
              {Math.round(f * max)}
            </text>
          </g>
        ))}
        {groups.map((g, gi) => {
          const start = pad.left + gi * slot + (slot - bar * names.length) / 2;
          return (
            <g key={g.label}>
              {g.values.map((v, vi) => (
                <rect key={vi} x={start + vi * bar} y={y(v)} width={bar - 2} height={Math.max(0, pad.top + innerH - y(v))} fill={colors[vi]} rx={2} />
              ))}
              <text x={pad.left + gi * slot + slot / 2} y={height - 8} textAnchor="middle" className="chart-axis">
                {g.label}
              </text>
            </g>
          );
        })}
        {mean !== undefined && mean !== null && (
          <line x1={pad.left} x2={width - pad.right} y1={y(mean)} y2={y(mean)} className="chart-mean" />
        )}
      </svg>
      <figcaption className="chart-legend">
        {names.map((n, i) => (
          <span key={n} className="legend-entry">
            <span className="legend-swatch" style={{ borderColor: colors[i] }} aria-hidden="true" />
            {n}
          </span>
        ))}
        {mean !== undefined && mean !== null && (
          <span className="legend-entry">
            <span className="legend-swatch dashed" aria-hidden="true" />
            mean {Math.round(mean * 10) / 10}
          </span>
        )}
      </figcaption>
      <details className="chart-data">
        <summary>Data as a table</summary>
        <table className="list">
          <caption className="visually-hidden">{title}</caption>
          <thead>
            <tr>
              <th scope="col">Sprint</th>
              {names.map((n) => (
                <th key={n} scope="col">
                  {n}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <tr key={g.label}>
                <th scope="row">{g.label}</th>
                {g.values.map((v, i) => (
                  <td key={i}>{v}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
