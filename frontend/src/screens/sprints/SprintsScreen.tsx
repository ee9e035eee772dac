import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { NavLink, useParams } from "react-router";
import { useProject } from "../../app/project";
import { canWrite } from "../../app/projectData";
import { Dialog } from "../../components/Dialog";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { formatDay } from "../../lib/format";
import { NewSprint } from "./NewSprint";
import { defaultSprint, fetchSprints, sprintsKey } from "./queries";
import { SprintDetail } from "./SprintDetail";
import { VelocityChart } from "./VelocityChart";
import "./sprints.css";

export default function SprintsScreen() {
  const project = useProject();
  const { sprintId } = useParams();
  const [creating, setCreating] = useState(false);
  const sprints = useQuery({ queryKey: sprintsKey(project.key), queryFn: () => fetchSprints(project.key) });
  const writable = canWrite(project.role);
  const newButton = writable ? (
    <button type="button" className="primary" onClick={() => setCreating(true)}>
      New sprint
    </button>
  ) : null;
  const list = sprints.data?.data ?? [];
  const selected = sprintId ? list.find((s) => s.id === sprintId) : defaultSprint(list);
  const ordered = [...list].sort((a, b) => b.start_date.localeCompare(a.start_date));
  return (
    <>
      <PageHeader title="Sprints" subtitle={project.name} actions={newButton} />
      {sprints.isPending && <SkeletonRows />}
      {sprints.isError && <ErrorState error={sprints.error} retry={() => void sprints.refetch()} />}
      {sprints.data && list.length === 0 && (
        <EmptyState title="No sprints yet" action={newButton}>
          Create a sprint, add items from the backlog within the team's capacity, then start it.
        </EmptyState>
      )}
      {list.length > 0 && (
        <div className="sprints-layout">
          <nav aria-label="Sprints" className="sprint-list card">
            <ul>
              {ordered.map((s) => (
                <li key={s.id}>
                  <NavLink
                    to={`/p/${project.key}/sprints/${s.id}`}
                    aria-current={selected?.id === s.id ? "page" : undefined}
                    className={selected?.id === s.id ? "selected" : undefined}
                  >
                    <span className="sprint-name">{s.name}</span>
                    <span className={`badge sprint-${s.state}`}>{s.state}</span>
                    <span className="muted small">
                      {formatDay(s.start_date)} – {formatDay(s.end_date)}
                    </span>
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
          <div className="stack">
            {selected ? (
              <SprintDetail key={selected.id} sprint={selected} project={project} sprints={list} writable={writable} />
            ) : (
              <EmptyState title="No such sprint">Choose a sprint from the list.</EmptyState>
            )}
            <VelocityChart projectKey={project.key} />
          </div>
        </div>
      )}
      <Dialog open={creating} onClose={() => setCreating(false)} title="New sprint">
        <NewSprint projectKey={project.key} onDone={() => setCreating(false)} />
      </Dialog>
    </>
  );
}
