import { useQuery } from "@tanstack/react-query";
import { useSearchParams } from "react-router";
import { api, ok } from "../../api/client";
import { useProject } from "../../app/project";
import { canWrite } from "../../app/projectData";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { formatDay } from "../../lib/format";
import { LiveStatus, useLiveReload } from "../retro/live";
import { workdayHours } from "../risks/format";
import { CheckIn } from "./CheckIn";
import { isStandupDay, latestStandupDay, localDate } from "./days";
import { TeamSummary } from "./TeamSummary";
import "./standup.css";

export default function StandupScreen() {
  const project = useProject();
  const [params, setParams] = useSearchParams();
  const config = useQuery({
    queryKey: ["standup", project.key, "config"],
    queryFn: () => ok(api.GET("/api/v1/projects/{project_key}/standup-config", { params: { path: { project_key: project.key } } })),
    staleTime: 60_000,
  });
  const live = useLiveReload(
    project.key,
    (e) => e.type.startsWith("standup.") || e.type.startsWith("blocker.") || e.type === "item.updated",
    [["standup", project.key], ["blockers", project.key]],
  );

  if (config.isPending) return <SkeletonRows />;
  if (config.isError) return <ErrorState error={config.error} retry={() => void config.refetch()} />;
  const cfg = config.data;
  const today = localDate(new Date(), cfg.time_zone);
  const chosen = params.get("date");
  const day = chosen && /^\d{4}-\d{2}-\d{2}$/.test(chosen) && chosen <= today ? chosen : latestStandupDay(today, cfg.weekdays);
  const hoursPerDay = workdayHours(project.settings.workday_start, project.settings.workday_end);

  return (
    <>
      <PageHeader
        title="Stand-up"
        subtitle={
          day ? (
            <>
              {formatDay(day, true)} · cut-off {cfg.cutoff} ({cfg.time_zone}) · {project.name}
            </>
          ) : (
            project.name
          )
        }
        actions={
          <div className="field standup-day">
            <label htmlFor="standup-date">Stand-up day</label>
            <input
              id="standup-date"
              type="date"
              max={today}
              value={day ?? ""}
              onChange={(e) => {
                const p = new URLSearchParams(params);
                if (e.target.value) p.set("date", e.target.value);
                else p.delete("date");
                setParams(p, { replace: true });
              }}
            />
          </div>
        }
      />
      <p>
        <LiveStatus status={live} />
      </p>
      {!day || !isStandupDay(day, cfg.weekdays) ? (
        <EmptyState title="No stand-up on this day">
          Stand-ups run on {cfg.weekdays.join(", ") || "no day yet"}. Pick one of those days, or ask a project admin to change the
          stand-up days.
        </EmptyState>
      ) : (
        <div className="standup-layout">
          <CheckIn key={day} projectKey={project.key} day={day} questions={cfg.questions} />
          <TeamSummary projectKey={project.key} day={day} questions={cfg.questions} hoursPerDay={hoursPerDay} writable={canWrite(project.role)} />
        </div>
      )}
    </>
  );
}
