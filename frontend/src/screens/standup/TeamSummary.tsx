import { useQuery } from "@tanstack/react-query";
import { api, ok, type Schemas } from "../../api/client";
import { Markdown } from "../../components/Markdown";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { formatDateTime, percent } from "../../lib/format";
import { BlockerList } from "../risks/BlockerList";
import type { Question } from "./entry";

/** The day as the lead reads it: open blockers first, who is missing, the entries, the numbers. */
export function TeamSummary({
  projectKey,
  day,
  questions,
  hoursPerDay,
  writable,
}: {
  projectKey: string;
  day: string;
  questions: Question[];
  hoursPerDay: number;
  writable: boolean;
}) {
  const summary = useQuery({
    queryKey: ["standup", projectKey, day, "summary"],
    queryFn: () => ok(api.GET("/api/v1/projects/{project_key}/standups/{date}", { params: { path: { project_key: projectKey, date: day } } })),
  });
  if (summary.isPending)
    return (
      <section className="stack" aria-label="Team summary">
        <SkeletonRows />
      </section>
    );
  if (summary.isError) return <ErrorState error={summary.error} retry={() => void summary.refetch()} />;
  const s = summary.data;
  return (
    <section className="stack" aria-labelledby="summary-title">
      <h2 id="summary-title" className="visually-hidden">
        Team summary
      </h2>
      <section aria-labelledby="open-blockers-title" className="stack">
        <h3 id="open-blockers-title">
          Open blockers <span className="badge danger">{s.open_blocker_count}</span>
        </h3>
        {s.open_blockers.length === 0 ? (
          <p className="muted small">Nothing is blocked. A blocker raised in a check-in shows here first.</p>
        ) : (
          <BlockerList blockers={s.open_blockers} projectKey={projectKey} hoursPerDay={hoursPerDay} writable={writable} label="Open blockers, oldest first" />
        )}
        {s.open_blocker_count > s.open_blockers.length && (
          <p className="small muted">And {s.open_blocker_count - s.open_blockers.length} more.</p>
        )}
      </section>
      <Numbers summary={s} />
      <section aria-labelledby="entries-title" className="stack">
        <h3 id="entries-title">Check-ins ({s.entries.length})</h3>
        {s.entries.length === 0 ? (
          <EmptyState title="Nobody has checked in yet">Check in with your draft; the team's entries appear here as they come.</EmptyState>
        ) : (
          <ul className="entries">
            {s.entries.map((e) => (
              <Entry key={e.id} entry={e} questions={questions} />
            ))}
          </ul>
        )}
      </section>
    </section>
  );
}

function Numbers({ summary: s }: { summary: Schemas["StandupSummary"] }) {
  const p = s.participation;
  const name = (u: Schemas["UserSummary"]) => u.display_name || u.username;
  return (
    <section className="card standup-numbers" aria-label="Participation">
      <div>
        <div className="small muted" id="participation-label">
          Checked in
        </div>
        <div className="big-number">
          {p.submitted} of {p.expected}
        </div>
        {p.expected > 0 && <meter aria-labelledby="participation-label" min={0} max={p.expected} value={p.submitted} />}
      </div>
      <div>
        <div className="small muted">Blocked</div>
        <div className="big-number">{percent(s.blocked_rate)}</div>
      </div>
      {s.sprint && (
        <div>
          <div className="small muted">{s.sprint.name}: chance to finish</div>
          <div className="big-number">
            {percent(s.sprint.probability)}
            {s.sprint.change !== null && (
              <span className={`small ${s.sprint.change < 0 ? "trend-down" : "trend-up"}`}>
                {" "}
                {s.sprint.change >= 0 ? "+" : "−"}
                {Math.abs(Math.round(s.sprint.change * 100))} pts
              </span>
            )}
          </div>
          {s.sprint.reason && <div className="small muted">{s.sprint.reason}</div>}
        </div>
      )}
      <div className="standup-people small">
        {s.missing.length > 0 && (
          <p>
            <strong>Not checked in:</strong> {s.missing.map(name).join(", ")}
          </p>
        )}
        {s.absent.length > 0 && (
          <p>
            <strong>Away:</strong> {s.absent.map(name).join(", ")}
          </p>
        )}
        <p className="muted">
          Cut-off {formatDateTime(s.cutoff_at)}
          {s.past_cutoff ? " (passed)" : ""}
        </p>
      </div>
    </section>
  );
}

function Entry({ entry, questions }: { entry: Schemas["EntryRead"]; questions: Question[] }) {
  const asked = questions.filter((q) => entry.answers[q.id] !== undefined);
  return (
    <li className="card entry" data-user={entry.user.username}>
      <div className="row">
        <strong>{entry.user.display_name || entry.user.username}</strong>
        {entry.blocked && <span className="badge danger">blocked</span>}
        {entry.late && <span className="badge warning">late</span>}
        <span className="spacer" />
        <span className="small muted">{formatDateTime(entry.updated_at)}</span>
      </div>
      <dl>
        {asked.map((q) => {
          const value = entry.answers[q.id];
          return (
            <div key={q.id}>
              <dt className="small muted">{q.text}</dt>
              <dd>{typeof value === "boolean" ? (value ? "Yes" : "No") : <Markdown source={String(value)} />}</dd>
            </div>
          );
        })}
      </dl>
    </li>
  );
}
