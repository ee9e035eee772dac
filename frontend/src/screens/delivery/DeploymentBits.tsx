/** Small pieces the deployment screens share: a moment, a state badge, what a deployment shipped. */
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import type { Schemas } from "../../api/client";
import { StatusBadge } from "../../components/ItemBits";
import { ErrorState, Loading } from "../../components/States";
import { formatDateTime, relativeTime } from "../../lib/format";
import { shortSha, STATE_LABEL, stateTone } from "./format";
import { deploymentQuery } from "./queries";

export type Deployment = Schemas["DeploymentRead"];

export function Moment({ at, now }: { at: string; now?: number }) {
  return (
    <time dateTime={at} title={formatDateTime(at)}>
      {relativeTime(at, now)}
    </time>
  );
}

export function StateBadge({ deployment }: { deployment: Pick<Deployment, "state" | "failed" | "is_hotfix" | "is_rollback"> }) {
  return (
    <>
      <span className={`badge ${stateTone(deployment.state)}`}>{STATE_LABEL[deployment.state]}</span>
      {deployment.failed && (
        <span className="badge danger" title="It needed remediation: an incident, a rollback or a hotfix">
          failed in service
        </span>
      )}
      {deployment.is_hotfix && <span className="badge warning">hotfix</span>}
      {deployment.is_rollback && <span className="badge warning">rollback</span>}
    </>
  );
}

/** What a deployment is called: its version, else its commit. */
export function deploymentName(d: Pick<Deployment, "version" | "sha">): string {
  return d.version ?? (d.sha ? shortSha(d.sha) : "unnamed deployment");
}

/** What a deployment shipped (loaded when shown): items, pull requests and commits. */
export function Shipped({ deploymentId, projectKey, commitLimit = 10 }: { deploymentId: string; projectKey: string; commitLimit?: number }) {
  const detail = useQuery(deploymentQuery(deploymentId));
  if (detail.isPending) return <Loading label="Loading what it shipped…" />;
  if (detail.isError) return <ErrorState error={detail.error} retry={() => void detail.refetch()} />;
  const shipped = detail.data.shipped;
  if (detail.data.state !== "success" && detail.data.state !== "rolled_back" && shipped.commit_count === 0) {
    return <p className="muted small">Nothing shipped: what a deployment ships is worked out when it succeeds.</p>;
  }
  const commits = shipped.commits.slice(0, commitLimit);
  return (
    <div className="shipped">
      {!shipped.complete && (
        <p className="small muted">
          Not fully known: Takt never saw this commit or the previous deployment's, so only what it could establish is listed.
        </p>
      )}
      <div>
        <h3>Items ({shipped.items.length})</h3>
        {shipped.items.length === 0 ? (
          <p className="muted small">No work item named by its commits or pull requests.</p>
        ) : (
          <ul>
            {shipped.items.map((i) => (
              <li key={i.key}>
                <Link to={`/p/${projectKey}/items/${i.key}`} className="mono">
                  {i.key}
                </Link>{" "}
                {i.title} <StatusBadge status={i.status} />
              </li>
            ))}
          </ul>
        )}
      </div>
      {shipped.pull_requests.length > 0 && (
        <div>
          <h3>Pull requests ({shipped.pull_requests.length})</h3>
          <ul>
            {shipped.pull_requests.map((p) => (
              <li key={p.id}>
                {p.url ? (
                  <a href={p.url} target="_blank" rel="noreferrer noopener">
                    #{p.number}
                  </a>
                ) : (
                  `#${p.number}`
                )}{" "}
                {p.title} <span className="badge">{p.state}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
      <div>
        <h3>
          Commits ({shipped.commit_count}
          {shipped.commit_count > commits.length ? `, the newest ${commits.length} shown` : ""})
        </h3>
        <ul>
          {commits.map((c) => (
            <li key={c.sha}>
              <span className="sha">{shortSha(c.sha)}</span> {c.message ?? <span className="muted">(a commit Takt never saw)</span>}
              {c.author && <span className="muted"> · {c.author}</span>}
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}
