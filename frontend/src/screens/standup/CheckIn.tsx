import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, ok, type Schemas } from "../../api/client";
import { ApiError, describeError } from "../../api/problem";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { toast } from "../../components/toasts";
import { formatDateTime } from "../../lib/format";
import type { WaitingKind } from "../risks/format";
import { entryBody, initialAnswers, linesBySection, MAX_BLOCKERS, type Answers, type BlockerDraft, type Question } from "./entry";

/** My check-in for the day: the draft Takt wrote from my activity, edited, then sent. */
export function CheckIn({ projectKey, day, questions }: { projectKey: string; day: string; questions: Question[] }) {
  const draft = useQuery({
    queryKey: ["standup", projectKey, day, "draft"],
    queryFn: () =>
      ok(api.GET("/api/v1/projects/{project_key}/standups/{date}/draft", { params: { path: { project_key: projectKey, date: day } } })),
    // The form starts from the first answer; later reloads only refresh the entry's status.
    refetchOnWindowFocus: false,
  });
  return (
    <section className="card stack" aria-labelledby="checkin-title">
      <h2 id="checkin-title">My check-in</h2>
      {draft.isPending && <SkeletonRows rows={4} />}
      {draft.isError &&
        (draft.error instanceof ApiError && draft.error.status === 403 ? (
          <EmptyState title="You read this stand-up">Only the stand-up's participants check in; you see the team's summary.</EmptyState>
        ) : (
          <ErrorState error={draft.error} retry={() => void draft.refetch()} />
        ))}
      {draft.data && <CheckInForm projectKey={projectKey} day={day} questions={questions} draft={draft.data} />}
    </section>
  );
}

const KINDS: { kind: WaitingKind; label: string; placeholder: string }[] = [
  { kind: "person", label: "a person", placeholder: "username" },
  { kind: "team", label: "a team", placeholder: "team name" },
  { kind: "external", label: "someone outside", placeholder: "who" },
  { kind: "item", label: "another item", placeholder: "item key" },
];

function CheckInForm({ projectKey, day, questions, draft }: { projectKey: string; day: string; questions: Question[]; draft: Schemas["Draft"] }) {
  const client = useQueryClient();
  const [answers, setAnswers] = useState<Answers>(() => initialAnswers(questions, draft));
  const [blocked, setBlocked] = useState(draft.entry?.blocked ?? draft.blocked);
  const [blockers, setBlockers] = useState<BlockerDraft[]>([]);
  const submit = useMutation({
    meta: { handlesError: true },
    mutationFn: () =>
      ok(
        api.PUT("/api/v1/projects/{project_key}/standups/{date}/me", {
          params: { path: { project_key: projectKey, date: day } },
          body: entryBody(questions, answers, blocked, blockers),
        }),
      ),
    onSuccess: (entry) => {
      toast({
        kind: "success",
        title: draft.entry ? "Check-in updated" : "Checked in",
        detail: entry.late ? "After the cut-off: marked late." : undefined,
      });
      setBlockers([]);
      void client.invalidateQueries({ queryKey: ["standup", projectKey] });
      void client.invalidateQueries({ queryKey: ["blockers", projectKey] });
    },
  });
  const error = submit.error ? describeError(submit.error) : null;
  const openSuggestions = draft.suggested_blockers.filter((s) => s.blocker_id);
  const newSuggestions = draft.suggested_blockers.filter((s) => !s.blocker_id && !blockers.some((b) => b.item_key === s.item_key));

  function setBlocker(i: number, change: Partial<BlockerDraft>) {
    setBlockers((list) => list.map((b, j) => (j === i ? { ...b, ...change } : b)));
  }
  function onSubmit(e: FormEvent) {
    e.preventDefault();
    submit.mutate();
  }

  return (
    <form onSubmit={onSubmit} className="stack" aria-label="My check-in">
      <p className="small muted" data-testid="checkin-status">
        {draft.entry ? (
          <>
            Sent {formatDateTime(draft.entry.submitted_at)}
            {draft.entry.late && <span className="badge warning">late</span>} · sending again replaces it.
          </>
        ) : (
          <>Drafted from what you did since {formatDateTime(draft.since)}: edit it, then send it.</>
        )}
      </p>
      {draft.lines.length > 0 && (
        <details className="draft-sources">
          <summary>Where the draft comes from ({draft.lines.length})</summary>
          {linesBySection(draft.lines).map(([title, lines]) => (
            <div key={title}>
              <h3 className="small">{title}</h3>
              <ul className="small">
                {lines.map((line, i) => (
                  <li key={`${line.event_id ?? ""}-${i}`}>
                    {line.item_key ? <Link to={`/p/${projectKey}/items/${line.item_key}`}>{line.text}</Link> : line.text}
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </details>
      )}
      {error && (
        <div className="form-error" role="alert">
          <strong>{error.title}</strong> {error.detail}
        </div>
      )}
      {questions.map((q) =>
        q.kind === "yes_no" ? (
          <fieldset key={q.id} className="field yes-no">
            <legend>{q.text}</legend>
            <div className="row">
              {[true, false].map((v) => (
                <label key={String(v)} className="choice">
                  <input
                    type="radio"
                    name={`answer-${q.id}`}
                    checked={answers[q.id] === v}
                    onChange={() => setAnswers((a) => ({ ...a, [q.id]: v }))}
                  />
                  {v ? "Yes" : "No"}
                </label>
              ))}
            </div>
          </fieldset>
        ) : (
          <div key={q.id} className="field">
            <label htmlFor={`answer-${q.id}`}>{q.text}</label>
            <textarea
              id={`answer-${q.id}`}
              maxLength={4000}
              value={typeof answers[q.id] === "string" ? (answers[q.id] as string) : ""}
              onChange={(e) => setAnswers((a) => ({ ...a, [q.id]: e.target.value }))}
            />
          </div>
        ),
      )}
      <label className="choice">
        <input type="checkbox" checked={blocked || blockers.length > 0} onChange={(e) => setBlocked(e.target.checked)} disabled={blockers.length > 0} />
        I'm blocked
      </label>
      {openSuggestions.length > 0 && (
        <div className="small">
          <strong>Your open blockers</strong>
          <ul>
            {openSuggestions.map((s) => (
              <li key={s.blocker_id}>
                <span className="mono">{s.item_key}</span>: {s.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
      {blockers.map((b, i) => (
        <fieldset key={i} className="blocker-draft">
          <legend>Blocker {i + 1}</legend>
          <div className="row">
            <div className="field">
              <label htmlFor={`blocker-item-${i}`}>Blocked item</label>
              <input id={`blocker-item-${i}`} required maxLength={24} value={b.item_key} onChange={(e) => setBlocker(i, { item_key: e.target.value })} placeholder="DEMO-12" />
            </div>
            <div className="field">
              <label htmlFor={`blocker-kind-${i}`}>Waiting on</label>
              <select id={`blocker-kind-${i}`} value={b.kind} onChange={(e) => setBlocker(i, { kind: e.target.value as WaitingKind })}>
                {KINDS.map((k) => (
                  <option key={k.kind} value={k.kind}>
                    {k.label}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`blocker-who-${i}`}>Who or what</label>
              <input
                id={`blocker-who-${i}`}
                required
                maxLength={100}
                value={b.value}
                placeholder={KINDS.find((k) => k.kind === b.kind)?.placeholder}
                onChange={(e) => setBlocker(i, { value: e.target.value })}
              />
            </div>
          </div>
          <div className="field">
            <label htmlFor={`blocker-reason-${i}`}>Why is it stuck?</label>
            <input id={`blocker-reason-${i}`} required maxLength={2000} value={b.reason} onChange={(e) => setBlocker(i, { reason: e.target.value })} />
          </div>
          <button type="button" className="ghost" onClick={() => setBlockers((list) => list.filter((_, j) => j !== i))}>
            Remove blocker {i + 1}
          </button>
        </fieldset>
      ))}
      <div className="row">
        {blockers.length < MAX_BLOCKERS && (
          <button type="button" onClick={() => setBlockers((list) => [...list, { item_key: "", reason: "", kind: "person", value: "" }])}>
            Raise a blocker
          </button>
        )}
        {newSuggestions.map((s) => (
          <button
            key={s.item_key}
            type="button"
            className="ghost small"
            onClick={() => setBlockers((list) => [...list, { item_key: s.item_key, reason: s.reason, kind: "person", value: "" }])}
          >
            Raise suggested: {s.item_key}
          </button>
        ))}
      </div>
      <div className="row">
        <button type="submit" className="primary" disabled={submit.isPending}>
          {draft.entry ? "Update check-in" : "Send check-in"}
        </button>
      </div>
    </form>
  );
}
