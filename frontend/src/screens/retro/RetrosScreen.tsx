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
import { LiveStatus, useLiveReload } from "./live";
import { NewRetro } from "./NewRetro";
import { PHASE_LABEL } from "./phases";
import "./retro.css";

/** The project's retrospectives, newest first, and starting a new one. */
export default function RetrosScreen() {
  const project = useProject();
  const [creating, setCreating] = useState(false);
  const retros = useQuery({
    queryKey: ["retros", project.key],
    queryFn: () => ok(api.GET("/api/v1/projects/{project_key}/retros", { params: { path: { project_key: project.key }, query: { limit: 50 } } })),
  });
  const live = useLiveReload(project.key, (e) => e.type === "retro.created" || e.type === "retro.advanced", [["retros", project.key]]);
  const newButton = canWrite(project.role) ? (
    <button type="button" className="primary" onClick={() => setCreating(true)}>
      New retro
    </button>
  ) : null;
  return (
    <>
      <PageHeader title="Retrospectives" subtitle={project.name} actions={newButton} />
      <p>
        <LiveStatus status={live} />
      </p>
      {retros.isPending && <SkeletonRows />}
      {retros.isError && <ErrorState error={retros.error} retry={() => void retros.refetch()} />}
      {retros.data &&
        (retros.data.data.length === 0 ? (
          <EmptyState title="No retros yet" action={newButton}>
            Start one at the end of a sprint: it opens with evidence from the sprint's data and the last retro's action items.
          </EmptyState>
        ) : (
          <ul className="retro-list">
            {retros.data.data.map((r) => (
              <li key={r.id} className="card row">
                <Link to={`/p/${project.key}/retros/${r.id}`} className="retro-link">
                  {r.title}
                </Link>
                <span className={`badge phase-${r.phase}`}>{PHASE_LABEL[r.phase]}</span>
                {r.anonymous && <span className="badge">anonymous</span>}
                <span className="spacer" />
                <span className="small muted">
                  {r.facilitator ? `${r.facilitator.display_name || r.facilitator.username} · ` : ""}
                  {formatDateTime(r.created_at)}
                </span>
              </li>
            ))}
          </ul>
        ))}
      <Dialog open={creating} onClose={() => setCreating(false)} title="New retro">
        <NewRetro projectKey={project.key} onDone={() => setCreating(false)} />
      </Dialog>
    </>
  );
}
