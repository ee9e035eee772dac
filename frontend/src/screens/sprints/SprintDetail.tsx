import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, ok } from "../../api/client";
import type { Project } from "../../app/project";
import { Dialog } from "../../components/Dialog";
import { Estimate, PriorityBadge, StatusBadge, TypeIcon } from "../../components/ItemBits";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { toast } from "../../components/toasts";
import { formatDay, percent, points } from "../../lib/format";
import { BurnChart } from "./BurnChart";
import { sprintItems, sprintsKey, type Sprint } from "./queries";

export function SprintDetail({
  sprint,
  project,
  sprints,
  writable,
}: {
  sprint: Sprint;
  project: Project;
  sprints: Sprint[];
  writable: boolean;
}) {
  return (
    <section className="card stack" aria-labelledby="sprint-heading">
      <header className="row">
        <div>
          <h2 id="sprint-heading">
            {sprint.name} <span className={`badge sprint-${sprint.state}`}>{sprint.state}</span>
          </h2>
          <p className="muted small">
            {formatDay(sprint.start_date, true)} – {formatDay(sprint.end_date, true)}
            {sprint.goal && (
              <>
                {" · "}Goal: <strong>{sprint.goal}</strong>
              </>
            )}
          </p>
        </div>
        <span className="spacer" />
        {writable && sprint.state === "planned" && <StartButton sprint={sprint} projectKey={project.key} />}
        {writable && sprint.state === "active" && <CompleteButton sprint={sprint} projectKey={project.key} sprints={sprints} />}
      </header>
      {sprint.state === "planned" && <Planning sprint={sprint} project={project} writable={writable} />}
      {sprint.state === "active" && (
        <>
          <Forecast sprint={sprint} />
          <BurnChart sprint={sprint} />
          <SprintItems sprint={sprint} project={project} writable={false} />
        </>
      )}
      {(sprint.state === "completed" || sprint.state === "cancelled") && (
        <>
          {sprint.report && <Report report={sprint.report} />}
          <BurnChart sprint={sprint} />
        </>
      )}
    </section>
  );
}

function useInvalidateSprint(projectKey: string) {
  const client = useQueryClient();
  return () => {
    void client.invalidateQueries({ queryKey: sprintsKey(projectKey) });
    void client.invalidateQueries({ queryKey: ["sprint"] });
    void client.invalidateQueries({ queryKey: ["items", projectKey] });
    void client.invalidateQueries({ queryKey: ["board", projectKey] });
  };
}

function StartButton({ sprint, projectKey }: { sprint: Sprint; projectKey: string }) {
  const invalidate = useInvalidateSprint(projectKey);
  const start = useMutation({
    mutationFn: () => ok(api.POST("/api/v1/sprints/{sprint_id}/start", { params: { path: { sprint_id: sprint.id } } })),
    onSuccess: (s) => {
      toast({ kind: "success", title: `${s.name} started`, detail: `Committed ${s.commitment?.items ?? 0} items, ${points(s.commitment?.points)} points.` });
      invalidate();
    },
  });
  return (
    <button type="button" className="primary" onClick={() => start.mutate()} disabled={start.isPending}>
      Start sprint
    </button>
  );
}

function CompleteButton({ sprint, projectKey, sprints }: { sprint: Sprint; projectKey: string; sprints: Sprint[] }) {
  const [open, setOpen] = useState(false);
  const [target, setTarget] = useState("next");
  const invalidate = useInvalidateSprint(projectKey);
  const planned = sprints.filter((s) => s.state === "planned");
  const complete = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/sprints/{sprint_id}/complete", {
          params: { path: { sprint_id: sprint.id } },
          body: { carry_over_to: target },
        }),
      ),
    onSuccess: (s) => {
      setOpen(false);
      const carried = s.report?.carried_over;
      toast({
        kind: "success",
        title: `${s.name} completed`,
        detail: carried ? `${carried.items} unfinished items carried over (${points(carried.points)} points).` : undefined,
      });
      invalidate();
    },
  });
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Complete sprint
      </button>
      <Dialog open={open} onClose={() => setOpen(false)} title={`Complete ${sprint.name}`}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            complete.mutate();
          }}
        >
          <fieldset className="stack carry-over">
            <legend>Where do unfinished items go?</legend>
            <label>
              <input type="radio" name="carry" value="next" checked={target === "next"} onChange={() => setTarget("next")} /> The next
              planned sprint {planned.length === 0 && "(a new one is created)"}
            </label>
            <label>
              <input type="radio" name="carry" value="backlog" checked={target === "backlog"} onChange={() => setTarget("backlog")} /> Back
              to the backlog
            </label>
            {planned.map((s) => (
              <label key={s.id}>
                <input type="radio" name="carry" value={s.id} checked={target === s.id} onChange={() => setTarget(s.id)} /> {s.name}
              </label>
            ))}
          </fieldset>
          <p className="small muted">The sprint report is frozen when it completes.</p>
          <div className="row">
            <span className="spacer" />
            <button type="button" onClick={() => setOpen(false)}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={complete.isPending}>
              Complete sprint
            </button>
          </div>
        </form>
      </Dialog>
    </>
  );
}

function Planning({ sprint, project, writable }: { sprint: Sprint; project: Project; writable: boolean }) {
  const client = useQueryClient();
  const capacity = useQuery({
    queryKey: ["sprint", sprint.id, "capacity"],
    queryFn: () => ok(api.GET("/api/v1/sprints/{sprint_id}/capacity", { params: { path: { sprint_id: sprint.id } } })),
  });
  const scope = useQuery({
    queryKey: ["items", project.key, "sprint", sprint.id],
    queryFn: () => sprintItems(project.key, `sprint:${sprint.id}`),
  });
  const candidates = useQuery({
    queryKey: ["items", project.key, "candidates"],
    queryFn: () => sprintItems(project.key, "sprint:none -category:done -category:cancelled", 30),
    enabled: writable,
  });
  const scopeKey = ["items", project.key, "sprint", sprint.id];
  const candidatesKey = ["items", project.key, "candidates"];
  type ItemPage = NonNullable<typeof scope.data>;
  // The item changes lists at once, before both lists are fetched again: the two refetches land
  // at different times, and meanwhile an added item must not still be offered for adding.
  const moveBetweenLists = (key: string, from: readonly unknown[], to: readonly unknown[]) => {
    const item = client.getQueryData<ItemPage>(from)?.data.find((i) => i.key === key);
    client.setQueryData<ItemPage>(from, (page) => page && { ...page, data: page.data.filter((i) => i.key !== key) });
    if (item) client.setQueryData<ItemPage>(to, (page) => page && { ...page, data: [...page.data, item] });
  };
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ["items", project.key] });
    void client.invalidateQueries({ queryKey: ["sprint", sprint.id] });
  };
  const add = useMutation({
    mutationFn: (key: string) =>
      ok(api.POST("/api/v1/sprints/{sprint_id}/items", { params: { path: { sprint_id: sprint.id } }, body: { item_keys: [key] } })),
    onSuccess: (_answer, key) => {
      moveBetweenLists(key, candidatesKey, scopeKey);
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (key: string) =>
      ok(api.DELETE("/api/v1/sprints/{sprint_id}/items/{item_key}", { params: { path: { sprint_id: sprint.id, item_key: key } } })),
    onSuccess: (_answer, key) => {
      moveBetweenLists(key, scopeKey, candidatesKey);
      refresh();
    },
  });

  const planned = (scope.data?.data ?? []).reduce((sum, i) => sum + (i.estimate ?? 0), 0);
  const cap = capacity.data?.points.points ?? null;
  const ratio = cap ? planned / cap : null;
  return (
    <div className="stack">
      <div className="capacity card-inner" aria-live="polite">
        {capacity.isPending ? (
          <SkeletonRows rows={1} />
        ) : capacity.isError ? (
          <ErrorState error={capacity.error} />
        ) : (
          <>
            <div className="row">
              <strong>
                Planned {points(planned)} of {cap === null ? "?" : points(cap)} points
              </strong>
              <span className="spacer" />
              <span className="muted small">
                {points(capacity.data.person_days)} person-days available
                {cap === null && capacity.data.points.reason ? ` · ${capacity.data.points.reason}` : ""}
              </span>
            </div>
            <div
              className={`meter${ratio !== null && ratio > 1 ? " over" : ""}`}
              role="meter"
              aria-label="Planned points against capacity"
              aria-valuemin={0}
              aria-valuemax={cap ?? 0}
              aria-valuenow={planned}
            >
              <span style={{ width: `${Math.min(100, (ratio ?? 0) * 100)}%` }} />
            </div>
            {ratio !== null && ratio > 1 && <p className="small over-text">Over capacity by {points(planned - cap!)} points.</p>}
          </>
        )}
      </div>
      <div className="planning-columns">
        <section aria-labelledby="scope-heading">
          <h3 id="scope-heading">In this sprint ({scope.data?.data.length ?? 0})</h3>
          {scope.isPending ? (
            <SkeletonRows rows={3} />
          ) : scope.isError ? (
            <ErrorState error={scope.error} />
          ) : scope.data.data.length === 0 ? (
            <p className="muted small">No items yet. Add them from the backlog{writable ? " on the right" : ""}.</p>
          ) : (
            <ul className="plan-list" data-testid="sprint-scope">
              {scope.data.data.map((item) => (
                <li key={item.key}>
                  <TypeIcon type={item.type} />
                  <Link to={`/p/${project.key}/items/${item.key}`} className="plan-title">
                    <span className="mono muted">{item.key}</span> {item.title}
                  </Link>
                  <Estimate value={item.estimate} />
                  {writable && (
                    <button type="button" className="ghost" onClick={() => remove.mutate(item.key)} aria-label={`Remove ${item.key} from the sprint`}>
                      Remove
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
        </section>
        {writable && (
          <section aria-labelledby="candidates-heading">
            <h3 id="candidates-heading">Top of the backlog</h3>
            {candidates.isPending ? (
              <SkeletonRows rows={3} />
            ) : candidates.isError ? (
              <ErrorState error={candidates.error} />
            ) : candidates.data.data.length === 0 ? (
              <p className="muted small">Nothing left in the backlog.</p>
            ) : (
              <ul className="plan-list" data-testid="sprint-candidates">
                {candidates.data.data.map((item) => (
                  <li key={item.key}>
                    <TypeIcon type={item.type} />
                    <Link to={`/p/${project.key}/items/${item.key}`} className="plan-title">
                      <span className="mono muted">{item.key}</span> {item.title}
                    </Link>
                    {!item.ready && <span className="badge warning">not ready</span>}
                    <Estimate value={item.estimate} />
                    <button type="button" onClick={() => add.mutate(item.key)} aria-label={`Add ${item.key} to the sprint`} disabled={add.isPending}>
                      Add
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </section>
        )}
      </div>
    </div>
  );
}

function SprintItems({ sprint, project }: { sprint: Sprint; project: Project; writable: boolean }) {
  const scope = useQuery({
    queryKey: ["items", project.key, "sprint", sprint.id],
    queryFn: () => sprintItems(project.key, `sprint:${sprint.id}`),
  });
  if (scope.isPending) return <SkeletonRows rows={3} />;
  if (scope.isError) return <ErrorState error={scope.error} />;
  if (scope.data.data.length === 0) return <EmptyState title="This sprint has no items" />;
  return (
    <section aria-labelledby="sprint-items-heading">
      <h3 id="sprint-items-heading">Items ({scope.data.data.length})</h3>
      <ul className="plan-list">
        {scope.data.data.map((item) => (
          <li key={item.key}>
            <TypeIcon type={item.type} />
            <Link to={`/p/${project.key}/items/${item.key}`} className="plan-title">
              <span className="mono muted">{item.key}</span> {item.title}
            </Link>
            <PriorityBadge priority={item.priority} />
            <StatusBadge status={item.status} />
            <Estimate value={item.estimate} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function Forecast({ sprint }: { sprint: Sprint }) {
  const forecast = useQuery({
    queryKey: ["sprint", sprint.id, "forecast"],
    queryFn: () => ok(api.GET("/api/v1/sprints/{sprint_id}/forecast", { params: { path: { sprint_id: sprint.id } } })),
  });
  if (!forecast.data) return null;
  const f = forecast.data;
  return (
    <p className="forecast">
      <strong>{percent(f.probability)}</strong> chance to finish the {f.remaining_items} remaining items in the{" "}
      {f.working_days_left} working day{f.working_days_left === 1 ? "" : "s"} left{" "}
      <span className="muted small">(Monte Carlo over {f.history.finished_items} items finished in {f.history.working_days} days)</span>
    </p>
  );
}

function Report({ report }: { report: NonNullable<Sprint["report"]> }) {
  const rows: [string, { items: number; points: number }][] = [
    ["Committed", report.committed],
    ["Completed", report.completed],
    ["Added", report.added],
    ["Removed", report.removed],
    ["Carried over", report.carried_over],
  ];
  return (
    <div className="report">
      <dl className="report-tiles">
        {rows.map(([label, tally]) => (
          <div key={label} className="tile">
            <dt>{label}</dt>
            <dd>
              {points(tally.points)} <span className="muted small">pts · {tally.items} items</span>
            </dd>
          </div>
        ))}
        <div className="tile">
          <dt>Say/do</dt>
          <dd>{percent(report.say_do_ratio)}</dd>
        </div>
      </dl>
    </div>
  );
}
