import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { useSearchParams } from "react-router";
import { api, ok, type Schemas } from "../../api/client";
import { useProject } from "../../app/project";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { formatDateTime, formatDay } from "../../lib/format";
import { ColumnChart } from "./charts/ColumnChart";
import { DeliveryFrame } from "./DeliveryFrame";
import { bandBadge, count, daysLabel, defaultEnvironment, DORA_PERIODS as PERIODS, frequencyLabel, hoursLabel, periodStart, rate, todayIn, type Band } from "./format";
import { useEnvironments } from "./queries";

type Dora = Schemas["DoraMetrics"];


/** DORA's five numbers for an environment, with their DORA 2024 bands, counts and a weekly series. */
export default function DoraScreen() {
  const project = useProject();
  const envs = useEnvironments(project.key);
  const [params, setParams] = useSearchParams();
  const days = PERIODS.some((p) => String(p.days) === params.get("days")) ? Number(params.get("days")) : 90;
  const asOf = /^\d{4}-\d{2}-\d{2}$/.test(params.get("as_of") ?? "") ? params.get("as_of")! : "";
  const today = todayIn(project.settings.time_zone);
  const environment = params.get("environment") || defaultEnvironment(envs.data ?? []) || "";
  const to = asOf && asOf < today ? asOf : today;
  const from = periodStart(to, days);
  const dora = useQuery({
    queryKey: ["dora", project.key, environment, from, asOf],
    enabled: !!envs.data,
    queryFn: () =>
      ok(
        api.GET("/api/v1/projects/{project_key}/metrics/dora", {
          params: {
            path: { project_key: project.key },
            query: {
              ...(environment ? { environment } : {}),
              from,
              ...(asOf ? { as_of: asOf } : {}),
              granularity: "week",
            },
          },
        }),
      ),
  });
  function set(name: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  }
  return (
    <DeliveryFrame title="DORA metrics">
      <form className="toolbar" onSubmit={(e) => e.preventDefault()} aria-label="What to measure">
        <div className="field">
          <label htmlFor="dora-env">Environment</label>
          <select id="dora-env" value={environment} onChange={(e) => set("environment", e.target.value)} disabled={!envs.data}>
            {(envs.data ?? []).map((e) => (
              <option key={e.id} value={e.name}>
                {e.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="dora-period">Period</label>
          <select id="dora-period" value={days} onChange={(e) => set("days", e.target.value === "90" ? "" : e.target.value)}>
            {PERIODS.map((p) => (
              <option key={p.days} value={p.days}>
                {p.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="dora-asof">
            As of <span className="hint">recompute as it was known then</span>
          </label>
          <input id="dora-asof" type="date" max={today} value={asOf} onChange={(e) => set("as_of", e.target.value)} />
        </div>
      </form>
      {envs.isError && <ErrorState error={envs.error} retry={() => void envs.refetch()} />}
      {(envs.isPending || dora.isPending) && !envs.isError && <SkeletonRows rows={5} />}
      {dora.isError && <ErrorState error={dora.error} retry={() => void dora.refetch()} />}
      {dora.data && <DoraAnswer dora={dora.data} />}
    </DeliveryFrame>
  );
}

function BandBadge({ band }: { band: Band | null | undefined }) {
  const { label, tone } = bandBadge(band);
  return (
    <span className={`badge band ${tone}`} data-testid="band">
      <span className="visually-hidden">Band: </span>
      {label}
    </span>
  );
}

function Metric({ title, value, band, children, noBand }: { title: string; value: string; band: Band | null | undefined; children: ReactNode; noBand?: string }) {
  return (
    <li className="card metric" data-testid="dora-metric">
      <h3>{title}</h3>
      <span className="metric-value">{value}</span>
      {noBand ? <span className="badge band">{noBand}</span> : <BandBadge band={band} />}
      <p className="metric-counts">{children}</p>
    </li>
  );
}

function DoraAnswer({ dora }: { dora: Dora }) {
  const f = dora.deployment_frequency;
  const lt = dora.change_lead_time;
  const cfr = dora.change_failure_rate;
  const rt = dora.failed_deployment_recovery_time;
  const rw = dora.deployment_rework_rate;
  const series = dora.series ?? [];
  const labels = series.map((p) => formatDay(p.from));
  return (
    <>
      <p className="small muted">
        {dora.environment.name}, {formatDay(dora.from, true)} – {formatDay(dora.to, true)} ({dora.time_zone}), as known {formatDateTime(dora.as_of)}. Bands:{" "}
        <strong>{dora.band_set}</strong>.
      </p>
      {f.successful === 0 && (
        <EmptyState title={`No deployment went live to ${dora.environment.name} in this period`}>
          The numbers count successful deployments. Report deployments from your CI (see docs/deployments.md), or pick a longer period or another environment.
        </EmptyState>
      )}
      <ul className="dora-cards" aria-label="DORA metrics">
        <Metric title="Deployment frequency" value={frequencyLabel(f.per_day)} band={f.band}>
          {count(f.successful, "deployment")} in {f.days} days ({f.per_week.toFixed(2)} a week); median gap {hoursLabel(f.median_hours_between)} over {count(f.intervals, "gap")}.
        </Metric>
        <Metric title="Change lead time" value={hoursLabel(lt.median_hours)} band={lt.band}>
          Median of {lt.counted} of {count(lt.commits, "commit")} shipped ({lt.commits - lt.commits_with_time} without a known time, {lt.excluded_non_positive} not after their commit)
          {lt.deployments_with_unknown_commits > 0 && `; ${count(lt.deployments_with_unknown_commits, "deployment")} shipped commits Takt couldn't establish`}.
        </Metric>
        <Metric title="Change failure rate" value={rate(cfr.rate)} band={cfr.band}>
          {cfr.failed} of {count(cfr.deployments, "deployment")} needed remediation (an incident, a rollback or a hotfix).
        </Metric>
        <Metric title="Failed deployment recovery time" value={hoursLabel(rt.median_hours)} band={rt.band}>
          Median over {rt.restored} of {count(rt.failed, "failed deployment")} restored; {rt.unrestored} not restored yet.
        </Metric>
        <Metric title="Deployment rework rate" value={rate(rw.rate)} band={rw.band} noBand="no DORA band">
          {rw.rework} of {count(rw.deployments, "deployment")} unplanned: {count(rw.hotfixes, "hotfix", "hotfixes")}, {count(rw.rollbacks, "rollback")}, {rw.fixing} fixing another.
        </Metric>
      </ul>
      <details className="small">
        <summary>How the bands are set (DORA 2024)</summary>
        <ul>
          <li>Deployment frequency: elite more than once a day, high daily to weekly, medium weekly to monthly, low less often.</li>
          <li>Change lead time: elite under a day, high under a week, medium under a month, low longer.</li>
          <li>Change failure rate: the nearest typical rate: elite up to 7.5 %, medium up to 15 %, high up to 30 %, low above.</li>
          <li>Recovery time: elite under an hour, high under a day, low a day or more.</li>
          <li>Rework rate: DORA 2024 publishes no bands.</li>
        </ul>
      </details>
      {series.length > 0 && (
        <section aria-labelledby="dora-weekly">
          <h2 id="dora-weekly">Week by week</h2>
          <div className="charts-grid">
            <div className="card">
              <h3>Deployments, and those that failed</h3>
              <ColumnChart
                title={`Deployments to ${dora.environment.name} per week, split into those that held and those that needed remediation`}
                xName="Week of"
                labels={labels}
                stacked
                series={[
                  { name: "Held", values: series.map((p) => p.change_failure_rate.deployments - p.change_failure_rate.failed), color: "var(--chart-2)" },
                  { name: "Failed", values: series.map((p) => p.change_failure_rate.failed), color: "var(--danger)" },
                ]}
              />
            </div>
            <div className="card">
              <h3>Median change lead time</h3>
              <ColumnChart
                title={`Median change lead time per week, in days, for ${dora.environment.name}`}
                xName="Week of"
                labels={labels}
                series={[
                  {
                    name: "Median lead time",
                    values: series.map((p) => (p.change_lead_time.median_hours === null ? null : Math.round((p.change_lead_time.median_hours / 24) * 100) / 100)),
                    color: "var(--chart-1)",
                  },
                ]}
                format={daysLabel}
                tickFormat={(v) => `${v} d`}
              />
            </div>
          </div>
        </section>
      )}
    </>
  );
}
