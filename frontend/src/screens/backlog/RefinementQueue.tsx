import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, ok } from "../../api/client";
import type { Project } from "../../app/project";
import { Estimate, PriorityBadge, TypeIcon } from "../../components/ItemBits";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { missingLabel } from "../../lib/format";

/** The top-ranked items that are not ready yet, each with what it lacks. */
export function RefinementQueue({ project }: { project: Project }) {
  const queue = useQuery({
    queryKey: ["items", project.key, "refinement"],
    queryFn: () =>
      ok(
        api.GET("/api/v1/projects/{project_key}/refinement", {
          params: { path: { project_key: project.key }, query: { limit: 50 } },
        }),
      ),
  });
  if (queue.isPending) return <SkeletonRows />;
  if (queue.isError) return <ErrorState error={queue.error} retry={() => void queue.refetch()} />;
  return (
    <section aria-label="Refinement queue" className="stack">
      <div className="card small">
        <strong>Definition of Ready:</strong> an estimate, a description
        {queue.data.definition_of_ready.map((e) => `, ${e.text.toLowerCase()}`).join("")}.
      </div>
      {queue.data.data.length === 0 ? (
        <EmptyState title="Everything at the top of the backlog is ready">
          Nothing to refine right now. New items appear here until they meet the Definition of Ready.
        </EmptyState>
      ) : (
        <ol className="backlog-list">
          {queue.data.data.map((item) => (
            <li key={item.key} className="backlog-row">
              <TypeIcon type={item.type} />
              <span className="item-key mono">{item.key}</span>
              <Link className="item-title" to={`/p/${project.key}/items/${item.key}`}>
                {item.title}
              </Link>
              <span className="row-meta">
                <span className="visually-hidden">Missing:</span>
                {item.missing.map((m) => (
                  <span key={m} className="badge warning">
                    {missingLabel(m, queue.data.definition_of_ready)}
                  </span>
                ))}
                <PriorityBadge priority={item.priority} />
                <Estimate value={item.estimate} />
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
