import { useQuery } from "@tanstack/react-query";
import { api, ok } from "../../api/client";
import { BarChart } from "../../components/charts/BarChart";
import { ErrorState, SkeletonRows } from "../../components/States";
import { points } from "../../lib/format";

export function VelocityChart({ projectKey }: { projectKey: string }) {
  const velocity = useQuery({
    queryKey: ["velocity", projectKey],
    queryFn: () =>
      ok(
        api.GET("/api/v1/projects/{project_key}/velocity", {
          params: { path: { project_key: projectKey }, query: { sprints: 6 } },
        }),
      ),
  });
  return (
    <section className="card" aria-labelledby="velocity-heading">
      <h2 id="velocity-heading">Velocity</h2>
      {velocity.isPending && <SkeletonRows rows={2} />}
      {velocity.isError && <ErrorState error={velocity.error} retry={() => void velocity.refetch()} />}
      {velocity.data &&
        (velocity.data.sprints.length === 0 ? (
          <p className="muted">Velocity appears after the first completed sprint.</p>
        ) : (
          <>
            <p className="small muted">
              Mean {points(velocity.data.mean)} points per sprint
              {velocity.data.std_dev !== null && ` (± ${points(velocity.data.std_dev)})`} over the last{" "}
              {velocity.data.sprints.length} completed sprints.
            </p>
            <BarChart
              title="Committed and completed points of the last completed sprints"
              groups={[...velocity.data.sprints].reverse().map((s) => ({
                label: s.name,
                values: [s.committed_points, s.completed_points],
              }))}
              names={["Committed", "Completed"]}
              colors={["var(--chart-3)", "var(--chart-1)"]}
              mean={velocity.data.mean}
            />
          </>
        ))}
    </section>
  );
}
