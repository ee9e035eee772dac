import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, ok } from "../../api/client";
import { useProject } from "../../app/project";
import { canWrite } from "../../app/projectData";
import { Dialog } from "../../components/Dialog";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { formatDateTime } from "../../lib/format";
import { LiveStatus, useLiveReload } from "../retro/live";
import { NewSession } from "./NewSession";
import "./poker.css";

/** The project's planning-poker sessions (open ones first), and starting one. */
export default function PokerScreen() {
  const project = useProject();
  const [creating, setCreating] = useState(false);
  const sessions = useQuery({
    queryKey: ["estimations", project.key],
    queryFn: () =>
      ok(api.GET("/api/v1/projects/{project_key}/estimations", { params: { path: { project_key: project.key }, query: { limit: 50 } } })),
  });
  const live = useLiveReload(
    project.key,
    (e) => e.type === "estimation.created" || e.type === "estimation.finalized" || e.type === "estimation.finished",
    [["estimations", project.key]],
  );
  const newButton = canWrite(project.role) ? (
    <button type="button" className="primary" onClick={() => setCreating(true)}>
      New session
    </button>
  ) : null;
  const list = [...(sessions.data?.data ?? [])].sort((a, b) => (a.state === b.state ? 0 : a.state === "open" ? -1 : 1));
  return (
    <>
      <PageHeader title="Planning poker" subtitle={project.name} actions={newButton} />
      <p>
        <LiveStatus status={live} />
      </p>
      {sessions.isPending && <SkeletonRows />}
      {sessions.isError && <ErrorState error={sessions.error} retry={() => void sessions.refetch()} />}
      {sessions.data &&
        (list.length === 0 ? (
          <EmptyState title="No sessions yet" action={newButton}>
            Estimate together: start a session over the items the refinement queue says lack an estimate.
          </EmptyState>
        ) : (
          <ul className="session-list">
            {list.map((s) => (
              <li key={s.id} className="card row">
                <Link to={`/p/${project.key}/poker/${s.id}`} className="session-link">
                  {s.title}
                </Link>
                <span className={`badge${s.state === "open" ? " accent" : ""}`}>{s.state}</span>
                <span className="small">
                  {s.estimated} of {s.items} estimated{s.current_item_key && <> · up now {s.current_item_key}</>}
                </span>
                <span className="spacer" />
                <span className="small muted">
                  {s.facilitator ? `${s.facilitator.display_name || s.facilitator.username} · ` : ""}
                  {formatDateTime(s.created_at)}
                </span>
              </li>
            ))}
          </ul>
        ))}
      <Dialog open={creating} onClose={() => setCreating(false)} title="New planning-poker session">
        <NewSession projectKey={project.key} defaultScale={project.settings.estimate_scale} onDone={() => setCreating(false)} />
      </Dialog>
    </>
  );
}
