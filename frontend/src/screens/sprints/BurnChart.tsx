import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../../api/client";
import { LineChart } from "../../components/charts/LineChart";
import { ErrorState, SkeletonRows } from "../../components/States";
import { formatDay } from "../../lib/format";
import type { Sprint } from "./queries";

/** Burndown (remaining vs ideal) or burnup (completed vs scope), scope changes marked. */
export function BurnChart({ sprint }: { sprint: Sprint }) {
  const [kind, setKind] = useState<"burndown" | "burnup">("burndown");
  const burndown = useQuery({
    queryKey: ["sprint", sprint.id, "burndown"],
    queryFn: () => ok(api.GET("/api/v1/sprints/{sprint_id}/burndown", { params: { path: { sprint_id: sprint.id } } })),
  });
  if (burndown.isPending) return <SkeletonRows rows={4} />;
  if (burndown.isError) return <ErrorState error={burndown.error} retry={() => void burndown.refetch()} />;
  const days = burndown.data.days;
  const labels = days.map((d) => formatDay(d.date));
  const markers = days.flatMap((d, index) =>
    d.scope_changes.length
      ? [{ index, label: d.scope_changes.map((c) => `${c.change === "added" ? "+" : "−"}${c.key}`).join(" ") }]
      : [],
  );
  const series =
    kind === "burndown"
      ? [
          { name: "Remaining points", values: days.map((d) => d.remaining_points), color: "var(--chart-1)" },
          { name: "Ideal", values: days.map((d) => d.ideal_points), color: "var(--text-muted)", dashed: true },
        ]
      : [
          { name: "Completed points", values: days.map((d) => d.completed_points), color: "var(--chart-2)" },
          { name: "Scope", values: days.map((d) => d.scope_points), color: "var(--chart-3)", dashed: true },
        ];
  return (
    <section aria-labelledby="burn-heading" className="stack">
      <div className="row">
        <h3 id="burn-heading">{kind === "burndown" ? "Burndown" : "Burnup"}</h3>
        <span className="spacer" />
        <div role="group" aria-label="Chart" className="segmented">
          <button type="button" aria-pressed={kind === "burndown"} onClick={() => setKind("burndown")}>
            Burndown
          </button>
          <button type="button" aria-pressed={kind === "burnup"} onClick={() => setKind("burnup")}>
            Burnup
          </button>
        </div>
      </div>
      <LineChart
        title={`${kind === "burndown" ? "Burndown" : "Burnup"} of ${sprint.name} in points per day`}
        labels={labels}
        series={series}
        markers={markers}
        yLabel="points"
      />
      {burndown.data.unestimated_items > 0 && (
        <p className="small muted">{burndown.data.unestimated_items} items without an estimate are not counted in points.</p>
      )}
    </section>
  );
}
