import { Link, useSearchParams } from "react-router";
import { useProject } from "../../app/project";
import { canWrite } from "../../app/projectData";
import { PageHeader } from "../../components/PageHeader";
import { LiveStatus, useLiveReload } from "../retro/live";
import { Blockers } from "./Blockers";
import { workdayHours } from "./format";
import { Register } from "./Register";
import "./risks.css";

/** The risk register with its 5×5 matrix, and the project's blockers with their age. */
export default function RisksScreen() {
  const project = useProject();
  const [params] = useSearchParams();
  const view = params.get("view") === "blockers" ? "blockers" : "register";
  const live = useLiveReload(
    project.key,
    (e) => e.type.startsWith("risk.") || e.type.startsWith("blocker."),
    [["risks", project.key], ["blockers", project.key]],
  );
  const writable = canWrite(project.role);
  return (
    <>
      <PageHeader title={view === "blockers" ? "Blockers" : "Risks"} subtitle={project.name} />
      <nav className="tabs" aria-label="Risks and blockers">
        <Link to={`/p/${project.key}/risks`} aria-current={view === "register" ? "page" : undefined}>
          Risk register
        </Link>
        <Link to={`/p/${project.key}/risks?view=blockers`} aria-current={view === "blockers" ? "page" : undefined}>
          Blockers
        </Link>
      </nav>
      <p>
        <LiveStatus status={live} />
      </p>
      {view === "register" ? (
        <Register projectKey={project.key} writable={writable} />
      ) : (
        <Blockers
          projectKey={project.key}
          writable={writable}
          hoursPerDay={workdayHours(project.settings.workday_start, project.settings.workday_end)}
          threshold={project.settings.blocker_escalation_hours}
        />
      )}
    </>
  );
}
