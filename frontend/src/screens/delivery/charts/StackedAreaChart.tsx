import { useId } from "react";
import "../../../components/charts/charts.css";
import { niceTicks } from "../format";

export interface AreaBand {
  name: string;
  /** The band's upper and lower edge per x label (stacked totals). */
  top: number[];
  bottom: number[];
  /** A CSS colour, normally a var(--chart-n). */
  color: string;
}

/**
 * Stacked areas over days (a cumulative flow diagram): each band is drawn between its lower
 * and upper edge. One image to assistive technology; the table gives each band's own size
 * (upper − lower) per day.
 */
export function StackedAreaChart({ title, labels, bands, height = 260 }: { title: string; labels: string[]; bands: AreaBand[]; height?: number }) {
  const id = useId();
  const width = 640;
  const pad = { top: 16, right: 16, bottom: 28, left: 44 };
  const { top: max, ticks } = niceTicks(Math.max(1, ...bands.flatMap((b) => b.top)));
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const x = (i: number) => pad.left + (labels.length <= 1 ? innerW / 2 : (i / (labels.length - 1)) * innerW);
  const y = (v: number) => pad.top + innerH - (v / max) * innerH;
  const every = Math.max(1, Math.ceil(labels.length / 7));
  const area = (b: AreaBand) => {
    if (!labels.length) return "";
    const upper = b.top.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("");
    const lower = b.bottom
      .map((v, i) => [i, v] as const)
      .reverse()
      .map(([i, v]) => `L${x(i).toFixed(1)},${y(v).toFixed(1)}`)
      .join("");
    return `${upper}${lower}Z`;
  };
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
        {bands.map((b) => (
          <path key={b.name} d={area(b)} style={{ fill: b.color, stroke: b.color }} fillOpacity={0.55} strokeWidth={1} />
        ))}
        {labels.map((l, i) =>
          i % every === 0 || i === labels.length - 1 ? (
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
      </svg>
      <figcaption className="chart-legend">
        {bands.map((b) => (
          <span key={b.name} className="legend-entry">
            <span className="legend-swatch" style={{ borderColor: b.color }} aria-hidden="true" />
            {b.name}
          </span>
        ))}
      </figcaption>
      <details className="chart-data">
        <summary>Data as a table</summary>
        <table className="list">
          <caption className="visually-hidden">{title}: items in each category at the end of each day</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              {bands.map((b) => (
                <th key={b.name} scope="col">
                  {b.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {labels.map((l, i) => (
              <tr key={i}>
                <th scope="row">{l}</th>
                {bands.map((b) => (
                  <td key={b.name}>{(b.top[i] ?? 0) - (b.bottom[i] ?? 0)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
