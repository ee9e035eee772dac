import { useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { api, ok, type Schemas } from "../../api/client";
import { useProject } from "../../app/project";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { formatDateTime } from "../../lib/format";
import { DeliveryFrame } from "./DeliveryFrame";
import { ageSince, hoursSince, waitTone } from "./format";

type PullRequest = Schemas["PullRequestRead"];

const THRESHOLDS = [
  { hours: 0, label: "Any wait" },
  { hours: 4, label: "Over 4 hours" },
  { hours: 24, label: "Over a day" },
  { hours: 72, label: "Over 3 days" },
];

/** Pull requests waiting for a review, the longest wait first, with their age. */
export default function ReviewsScreen() {
  const project = useProject();
  const [params, setParams] = useSearchParams();
  const threshold = Number(params.get("over") ?? 0) || 0;
  const list = useQuery({
    queryKey: ["pull-requests", project.key, "waiting", threshold],
    queryFn: () =>
      ok(
        api.GET("/api/v1/projects/{project_key}/pull-requests", {
          params: { path: { project_key: project.key }, query: { waiting_for_review_hours: threshold, limit: 100 } },
        }),
      ),
    // The ages move with the clock.
    refetchInterval: 60_000,
  });
  const waiting = [...(list.data?.data ?? [])]
    .filter((p) => p.waiting_since)
    .sort((a, b) => a.waiting_since!.localeCompare(b.waiting_since!));
  const now = Date.now();
  return (
    <DeliveryFrame title="Review queue">
      <div className="toolbar">
        <div className="field">
          <label htmlFor="pr-threshold">Waiting</label>
          <select
            id="pr-threshold"
            value={threshold}
            onChange={(e) => {
              const next = new URLSearchParams(params);
              if (e.target.value === "0") next.delete("over");
              else next.set("over", e.target.value);
              setParams(next, { replace: true });
            }}
          >
            {THRESHOLDS.map((t) => (
              <option key={t.hours} value={t.hours}>
                {t.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <p className="small muted">
        Pull requests ready for review (or asked again) and not reviewed since, from the repositories linked to {project.key}. The longest wait comes first.
      </p>
      {list.isPending && <SkeletonRows rows={4} />}
      {list.isError && <ErrorState error={list.error} retry={() => void list.refetch()} />}
      {list.data &&
        (waiting.length === 0 ? (
          <EmptyState title={threshold ? "Nothing has waited that long" : "Nothing is waiting for a review"}>
            {threshold
              ? "Every pull request waiting for a review has waited less than that."
              : "Pull requests appear here when they are ready for review and nobody has reviewed them since. Link a repository to see its pull requests."}
          </EmptyState>
        ) : (
          <>
            <ol className="pr-list" aria-label="Pull requests waiting for review, the longest wait first" data-testid="waiting-prs">
              {waiting.map((p) => (
                <PullRequestRow key={p.id} pr={p} projectKey={project.key} now={now} />
              ))}
            </ol>
            {list.data.next_cursor && <p className="small muted">The 100 most recently opened are shown.</p>}
          </>
        ))}
    </DeliveryFrame>
  );
}

function PullRequestRow({ pr, projectKey, now }: { pr: PullRequest; projectKey: string; now: number }) {
  const since = pr.waiting_since!;
  const tone = waitTone(hoursSince(since, now));
  const requested = pr.reviewers.filter((r) => r.requested);
  const size = pr.size.additions !== null && pr.size.additions !== undefined ? `+${pr.size.additions} −${pr.size.deletions ?? 0}` : null;
  return (
    <li className="card pr">
      <div className="pr-age">
        <span className="muted small">waiting</span>
        <strong>
          <time dateTime={since} title={`Since ${formatDateTime(since)}`}>
            {ageSince(since, now)}
          </time>
        </strong>
        {tone && <span className={`badge ${tone}`}>{tone === "danger" ? "over 3 days" : "over a day"}</span>}
      </div>
      <div className="pr-body">
        <span className="pr-title">
          {pr.url ? (
            <a href={pr.url} target="_blank" rel="noreferrer noopener">
              {pr.repository}#{pr.number}
            </a>
          ) : (
            `${pr.repository}#${pr.number}`
          )}{" "}
          {pr.title}
        </span>
        <span className="small muted">
          by {pr.author.user ? pr.author.user.display_name || pr.author.user.username : (pr.author.login ?? "someone unknown")}
          {pr.source_branch && (
            <>
              {" "}
              · <span className="mono">{pr.source_branch}</span>
              {pr.target_branch && <> → {pr.target_branch}</>}
            </>
          )}
          {size && <> · {size} lines</>}
          {pr.review_rounds > 0 && <> · {pr.review_rounds} review {pr.review_rounds === 1 ? "round" : "rounds"}</>}
        </span>
        <span className="small">
          {requested.length ? (
            <>
              Asked:{" "}
              {requested.map((r, i) => (
                <span key={r.login}>
                  {i > 0 && ", "}
                  {r.user ? r.user.display_name || r.user.username : r.login}
                </span>
              ))}
            </>
          ) : (
            <span className="muted">No reviewer asked</span>
          )}
          {pr.item_keys.length > 0 && (
            <>
              {" "}
              · Items:{" "}
              {pr.item_keys.map((k, i) => (
                <span key={k}>
                  {i > 0 && ", "}
                  <Link to={`/p/${projectKey}/items/${k}`} className="mono">
                    {k}
                  </Link>
                </span>
              ))}
            </>
          )}
        </span>
      </div>
    </li>
  );
}
