import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, ok } from "../../api/client";
import { ErrorState, SkeletonRows } from "../../components/States";
import { formatDateTime, relativeTime } from "../../lib/format";
import type { Item } from "./ItemScreen";
import { formatDuration, promotionRows, reachedAny } from "./promotion";

/** The item's way to production: committed → pull request ready → first review → merged →
 * deployed to each environment, with the time each step took (`GET /items/{key}/promotion`). */
export function Promotion({ item }: { item: Item }) {
  const timeline = useQuery({
    queryKey: ["promotion", item.key],
    queryFn: () => ok(api.GET("/api/v1/items/{item_key}/promotion", { params: { path: { item_key: item.key } } })),
    staleTime: 30_000,
  });
  return (
    <section aria-labelledby="promotion-heading" className="card" data-testid="promotion">
      <div className="row">
        <h2 id="promotion-heading">Promotion</h2>
        <span className="spacer" />
        {timeline.data?.total_seconds != null && (
          <span className="muted small">{formatDuration(timeline.data.total_seconds)} from first to last step</span>
        )}
      </div>
      {timeline.isPending && <SkeletonRows rows={3} />}
      {timeline.isError && <ErrorState error={timeline.error} retry={() => void timeline.refetch()} />}
      {timeline.data && !reachedAny(timeline.data) && (
        <p className="muted">
          Not on its way yet: the timeline starts with the first commit or pull request that names {item.key}.
        </p>
      )}
      {timeline.data && reachedAny(timeline.data) && (
        <ol className="promotion" aria-label={`Promotion timeline of ${item.key}`}>
          {promotionRows(timeline.data).map((row) => (
            <li key={row.key} className={`promotion-step${row.at ? " reached" : ""}${row.current ? " current" : ""}`}>
              <span className="promotion-dot" aria-hidden="true" />
              <div className="promotion-body">
                <div className="row">
                  <strong>{row.label}</strong>
                  {row.current && <span className="badge accent">now</span>}
                  {!row.at && <span className="muted small">not yet</span>}
                  {row.deploymentId && (
                    <Link className="small" to={`/p/${item.project_key}/delivery/deployments/${row.deploymentId}`}>
                      deployment
                    </Link>
                  )}
                </div>
                {row.at && (
                  <div className="muted small">
                    <time dateTime={row.at} title={formatDateTime(row.at)}>
                      {formatDateTime(row.at)} ({relativeTime(row.at)})
                    </time>
                    {row.waited != null && <> · {formatDuration(row.waited)} after the step before</>}
                  </div>
                )}
              </div>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
