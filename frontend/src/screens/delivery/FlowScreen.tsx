import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, ok, type Schemas } from "../../api/client";
import { useProject } from "../../app/project";
import { EmptyState, ErrorState, Loading, SkeletonRows } from "../../components/States";
import { formatDateTime, formatDay } from "../../lib/format";
import { ColumnChart } from "./charts/ColumnChart";
import { ScatterChart } from "./charts/ScatterChart";
import { StackedAreaChart } from "./charts/StackedAreaChart";
import { DeliveryFrame } from "./DeliveryFrame";
import { addDays, cyclePoints, dayIndex, daysLabel, FLOW_BANDS, FLOW_LABEL, FLOW_PERIODS, flowBands, periodStart, todayIn } from "./format";

type Flow = Schemas["FlowMetrics"];

const BAND_COLOR: Record<(typeof FLOW_BANDS)[number], string> = {
  backlog: "var(--text-muted)",
  todo: "var(--chart-3)",
  in_progress: "var(--chart-1)",
  in_review: "var(--focus)",
  done: "var(--chart-2)",
};

/** Items fetched for the scatter: pages of 100, at most this many pages. */
const SCATTER_PAGES = 5;

/** Flow: throughput, cycle and lead time, WIP and item age, cumulative flow, cycle-time scatter. */
export default function FlowScreen() {
  const project = useProject();
  const [params, setParams] = useSearchParams();
  const days = FLOW_PERIODS.some((p) => String(p.days) === params.get("days")) ? Number(params.get("days")) : 30;
  const q = params.get("q") ?? "";
  const [draft, setDraft] = useState(q);
  const to = todayIn(project.settings.time_zone);
  const from = periodStart(to, days);
  const flow = useQuery({
    queryKey: ["flow", project.key, from, to, q],
    queryFn: () =>
      ok(
        api.GET("/api/v1/projects/{project_key}/metrics/flow", {
          params: { path: { project_key: project.key }, query: { from, to, ...(q ? { q } : {}) } },
        }),
      ),
  });
  function set(name: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  }
  function applyFilter(e: FormEvent) {
    e.preventDefault();
    set("q", draft.trim());
  }
  return (
    <DeliveryFrame title="Flow">
      <form className="toolbar" onSubmit={applyFilter} aria-label="What to measure">
        <div className="field">
          <label htmlFor="flow-period">Period</label>
          <select id="flow-period" value={days} onChange={(e) => set("days", e.target.value === "30" ? "" : e.target.value)}>
            {FLOW_PERIODS.map((p) => (
              <option key={p.days} value={p.days}>
                {p.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="flow-q">
            Items <span className="hint">the backlog's filter, e.g. type:bug label:api</span>
          </label>
          <input id="flow-q" value={draft} maxLength={1000} onChange={(e) => setDraft(e.target.value)} placeholder="all items" />
        </div>
        <button type="submit">Apply</button>
      </form>
      {flow.isPending && <SkeletonRows rows={5} />}
      {flow.isError && <ErrorState error={flow.error} retry={() => void flow.refetch()} />}
      {flow.data && <FlowAnswer flow={flow.data} projectKey={project.key} timeZone={project.settings.time_zone} />}
    </DeliveryFrame>
  );
}

function FlowAnswer({ flow, projectKey, timeZone }: { flow: Flow; projectKey: string; timeZone: string }) {
  const t = flow.throughput;
  const ct = flow.cycle_time;
  const lt = flow.lead_time;
  const [withBacklog, setWithBacklog] = useState(false);
  const bands = flowBands(flow.cumulative_flow).filter((b) => withBacklog || b.band !== "backlog");
  const dayLabels = flow.cumulative_flow.map((d) => formatDay(d.date));
  const nothing = t.finished === 0 && flow.wip === 0 && flow.cumulative_flow.every((d) => d.backlog === 0);
  return (
    <>
      <p className="small muted">
        {formatDay(flow.from, true)} – {formatDay(flow.to, true)} ({flow.time_zone}), working days {flow.working_days.join(", ")}
        {flow.q && (
          <>
            ; items matching <code>{flow.q}</code>
          </>
        )}
        .
      </p>
      {nothing && (
        <EmptyState title="No items to measure">
          {flow.q ? "No item matches this filter: change it or clear it." : "Create items and move them across the board: flow is measured from their status changes."}
        </EmptyState>
      )}
      <ul className="dora-cards" aria-label="Flow metrics">
        <li className="card metric" data-testid="flow-metric">
          <h3>Throughput</h3>
          <span className="metric-value">{t.per_working_day === null ? "–" : `${t.per_working_day.toFixed(1)} a day`}</span>
          <p className="metric-counts">
            {t.finished} finished in {t.working_days} working days
            {t.finished_on_other_days > 0 && ` (${t.finished_on_other_days} on days off)`}.
          </p>
        </li>
        <li className="card metric" data-testid="flow-metric">
          <h3>Cycle time (started → done)</h3>
          <span className="metric-value">{daysLabel(ct.p50)}</span>
          <p className="metric-counts">
            Median; 85 % within {daysLabel(ct.p85)}, 95 % within {daysLabel(ct.p95)}. {ct.count} finishes
            {ct.not_started > 0 && `, ${ct.not_started} never started`}.
          </p>
        </li>
        <li className="card metric" data-testid="flow-metric">
          <h3>Lead time (created → done)</h3>
          <span className="metric-value">{daysLabel(lt.p50)}</span>
          <p className="metric-counts">
            Median; 85 % within {daysLabel(lt.p85)}, 95 % within {daysLabel(lt.p95)}. {lt.count} finishes.
          </p>
        </li>
        <li className="card metric" data-testid="flow-metric">
          <h3>Work in progress</h3>
          <span className="metric-value">{flow.wip}</span>
          <p className="metric-counts">Items started and not finished now.</p>
        </li>
      </ul>
      <div className="charts-grid">
        <section className="card" aria-labelledby="flow-cfd">
          <div className="row">
            <h2 id="flow-cfd">Cumulative flow</h2>
            <span className="spacer" />
            <label className="checkbox">
              <input type="checkbox" checked={withBacklog} onChange={(e) => setWithBacklog(e.target.checked)} /> Include the backlog
            </label>
          </div>
          <StackedAreaChart
            title={`Cumulative flow from ${formatDay(flow.from)} to ${formatDay(flow.to)}: items per status category at the end of each day${withBacklog ? "" : ", backlog left out"}`}
            labels={dayLabels}
            bands={bands.map((b) => ({ name: FLOW_LABEL[b.band], top: b.top, bottom: b.bottom, color: BAND_COLOR[b.band] }))}
          />
          {flow.cumulative_flow.length > 0 && flow.cumulative_flow[flow.cumulative_flow.length - 1]!.cancelled > 0 && (
            <p className="small muted">{flow.cumulative_flow[flow.cumulative_flow.length - 1]!.cancelled} cancelled items left the flow (not drawn).</p>
          )}
        </section>
        <section className="card" aria-labelledby="flow-scatter">
          <h2 id="flow-scatter">Cycle time of finished items</h2>
          <CycleScatter flow={flow} projectKey={projectKey} timeZone={timeZone} />
        </section>
        <section className="card" aria-labelledby="flow-throughput">
          <h2 id="flow-throughput">Throughput per working day</h2>
          <ColumnChart
            title={`Items finished on each working day from ${formatDay(flow.from)} to ${formatDay(flow.to)}`}
            xName="Day"
            labels={t.days.map((d) => formatDay(d.date))}
            series={[{ name: "Finished", values: t.days.map((d) => d.finished), color: "var(--chart-2)" }]}
            height={200}
          />
        </section>
        <section className="card" aria-labelledby="flow-age">
          <h2 id="flow-age">Work in progress by age</h2>
          <AgeList flow={flow} projectKey={projectKey} />
        </section>
      </div>
    </>
  );
}

function CycleScatter({ flow, projectKey, timeZone }: { flow: Flow; projectKey: string; timeZone: string }) {
  const filter = `${flow.q ? `(${flow.q}) ` : ""}category:done updated:>=${addDays(flow.from, -1)}`;
  const items = useQuery({
    queryKey: ["items", projectKey, "flow-scatter", filter],
    queryFn: async () => {
      const all: Pick<Schemas["ItemRead"], "key" | "title" | "started_at" | "finished_at">[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < SCATTER_PAGES; page++) {
        const answer = await ok(
          api.GET("/api/v1/projects/{project_key}/items", {
            params: { path: { project_key: projectKey }, query: { q: filter, sort: "-updated_at", limit: 100, ...(cursor ? { cursor } : {}) } },
          }),
        );
        all.push(...answer.data);
        cursor = answer.next_cursor ?? undefined;
        if (!cursor) return { items: all, truncated: false };
      }
      return { items: all, truncated: true };
    },
  });
  if (items.isPending) return <Loading label="Loading finished items…" />;
  if (items.isError) return <ErrorState error={items.error} retry={() => void items.refetch()} />;
  const { points, notStarted } = cyclePoints(items.data.items, flow.from, flow.to, timeZone);
  if (!points.length) {
    return (
      <EmptyState title="No item finished in this period">
        When items reach done after being started, each appears here as a point: when it finished and how long it took.
      </EmptyState>
    );
  }
  const count = dayIndex(flow.from, flow.to) + 1;
  const ct = flow.cycle_time;
  const references = [
    ct.p50 !== null && { value: ct.p50, label: "P50" },
    ct.p85 !== null && { value: ct.p85, label: "P85" },
    ct.p95 !== null && { value: ct.p95, label: "P95" },
  ].filter((r): r is { value: number; label: string } => !!r);
  return (
    <>
      <ScatterChart
        title={`Cycle time in days of the ${points.length} items finished from ${formatDay(flow.from)} to ${formatDay(flow.to)}, by the day they finished, with the 50th, 85th and 95th percentiles`}
        xCount={count}
        xLabels={(i) => formatDay(addDays(flow.from, i))}
        points={points.map((p) => ({
          x: dayIndex(flow.from, p.day),
          y: p.days,
          label: `${p.key}: ${daysLabel(p.days)}`,
          head: (
            <Link to={`/p/${projectKey}/items/${p.key}`} className="mono">
              {p.key}
            </Link>
          ),
          cells: [p.title, formatDateTime(p.finishedAt), daysLabel(p.days)],
        }))}
        references={references}
        columns={["Item", "Title", "Finished", "Cycle time"]}
        yLabel="days"
      />
      <p className="small muted">
        Each item at its latest finish; the percentile lines are the period's, over every finish.
        {notStarted > 0 && ` ${notStarted} finished without starting (no cycle time).`}
        {items.data.truncated && ` The ${SCATTER_PAGES * 100} most recently updated done items are shown.`}
      </p>
    </>
  );
}

function AgeList({ flow, projectKey }: { flow: Flow; projectKey: string }) {
  const age = flow.work_item_age;
  const p85 = flow.cycle_time.p85;
  if (!age.items.length) {
    return <EmptyState title="Nothing in progress">Items appear here, oldest first, once someone starts them.</EmptyState>;
  }
  return (
    <>
      <table className="list">
        <caption className="visually-hidden">Items in progress, the oldest first</caption>
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col">Status</th>
            <th scope="col">Age</th>
          </tr>
        </thead>
        <tbody>
          {age.items.map((i) => {
            const old = p85 !== null && i.age_days > p85;
            return (
              <tr key={i.key}>
                <th scope="row">
                  <Link to={`/p/${projectKey}/items/${i.key}`} className="mono">
                    {i.key}
                  </Link>{" "}
                  <span className="truncate">{i.title}</span>
                </th>
                <td>{i.status}</td>
                <td className={`nowrap${old ? " age-old" : ""}`} title={`Started ${formatDateTime(i.started_at)}`}>
                  {daysLabel(i.age_days)}
                  {old && <span className="visually-hidden"> (older than 85 % of cycle times)</span>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="small muted">
        {age.count} in progress
        {age.count > age.items.length && `, the ${age.items.length} oldest shown`}
        {p85 !== null && `; in red: older than the 85th percentile of cycle time (${daysLabel(p85)}), likely to be late`}.
      </p>
    </>
  );
}
