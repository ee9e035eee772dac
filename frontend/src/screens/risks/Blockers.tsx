import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, ok, type Schemas } from "../../api/client";
import { describeError } from "../../api/problem";
import { Dialog } from "../../components/Dialog";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { toast } from "../../components/toasts";
import { BlockerList, useBlockerInvalidation } from "./BlockerList";
import { ageLabel, waitingOnBody, type WaitingKind } from "./format";

type State = "open" | "resolved";

export function Blockers({ projectKey, writable, hoursPerDay, threshold }: { projectKey: string; writable: boolean; hoursPerDay: number; threshold: number }) {
  const [state, setState] = useState<State>("open");
  const [raising, setRaising] = useState(false);
  const list = useQuery({
    queryKey: ["blockers", projectKey, state],
    queryFn: () =>
      ok(api.GET("/api/v1/projects/{project_key}/blockers", { params: { path: { project_key: projectKey }, query: { state, limit: 100 } } })),
  });
  const raiseButton = writable ? (
    <button type="button" className="primary" onClick={() => setRaising(true)}>
      Raise a blocker
    </button>
  ) : null;
  return (
    <div className="stack">
      <div className="row">
        <label htmlFor="blocker-state">Show</label>
        <select id="blocker-state" value={state} onChange={(e) => setState(e.target.value as State)}>
          <option value="open">Open, oldest first</option>
          <option value="resolved">Resolved, latest first</option>
        </select>
        <span className="spacer" />
        {raiseButton}
      </div>
      <p className="small muted">
        Ages count working hours of the project's calendar; a blocker older than {ageLabel(threshold, hoursPerDay)} is escalated once,
        by itself. Escalate one to the risk register when it threatens the sprint.
      </p>
      {list.isPending && <SkeletonRows />}
      {list.isError && <ErrorState error={list.error} retry={() => void list.refetch()} />}
      {list.data &&
        (list.data.data.length === 0 ? (
          <EmptyState title={state === "open" ? "Nothing is blocked" : "No resolved blockers yet"} action={state === "open" ? raiseButton : undefined}>
            {state === "open" ? "When work is stuck, raise a blocker: say why and whom it waits on." : "Resolved blockers are kept here with how long they held up the work."}
          </EmptyState>
        ) : (
          <BlockerList
            blockers={list.data.data}
            projectKey={projectKey}
            hoursPerDay={hoursPerDay}
            writable={writable}
            label={state === "open" ? "Open blockers, oldest first" : "Resolved blockers"}
          />
        ))}
      {writable && state === "open" && <Suggestions projectKey={projectKey} />}
      <Dialog open={raising} onClose={() => setRaising(false)} title="Raise a blocker">
        <RaiseForm projectKey={projectKey} onDone={() => setRaising(false)} />
      </Dialog>
    </div>
  );
}

function Suggestions({ projectKey }: { projectKey: string }) {
  const invalidate = useBlockerInvalidation(projectKey);
  const suggestions = useQuery({
    queryKey: ["blockers", projectKey, "suggestions"],
    queryFn: () =>
      ok(api.GET("/api/v1/projects/{project_key}/blockers/suggestions", { params: { path: { project_key: projectKey }, query: { limit: 20 } } })),
  });
  const raise = useMutation({
    mutationFn: (body: Schemas["BlockerCreate"]) =>
      ok(api.POST("/api/v1/projects/{project_key}/blockers", { params: { path: { project_key: projectKey } }, body })),
    onSuccess: (b) => {
      toast({ kind: "success", title: `Blocker raised on ${b.item_key}` });
      invalidate();
    },
  });
  const data = suggestions.data?.data ?? [];
  if (suggestions.isError) return <ErrorState error={suggestions.error} retry={() => void suggestions.refetch()} />;
  if (!data.length) return null;
  return (
    <details className="card">
      <summary>Suggested from item links ({data.length})</summary>
      <ul className="suggestions">
        {data.map((s) => (
          <li key={`${s.item_key}-${s.blocked_by}`} className="row">
            <span>
              <span className="mono">{s.item_key}</span> is blocked by <span className="mono">{s.blocked_by}</span>
            </span>
            <span className="spacer" />
            <button type="button" disabled={raise.isPending} onClick={() => raise.mutate(s.body)} aria-label={`Raise: ${s.item_key} waits on ${s.blocked_by}`}>
              Raise
            </button>
          </li>
        ))}
      </ul>
    </details>
  );
}

function RaiseForm({ projectKey, onDone }: { projectKey: string; onDone: () => void }) {
  const [item, setItem] = useState("");
  const [reason, setReason] = useState("");
  const [kind, setKind] = useState<WaitingKind>("person");
  const [who, setWho] = useState("");
  const invalidate = useBlockerInvalidation(projectKey);
  const raise = useMutation({
    meta: { handlesError: true },
    mutationFn: () =>
      ok(
        api.POST("/api/v1/projects/{project_key}/blockers", {
          params: { path: { project_key: projectKey } },
          body: { item_key: item.trim().toUpperCase(), reason: reason.trim(), waiting_on: waitingOnBody(kind, who) },
        }),
      ),
    onSuccess: (b) => {
      toast({ kind: "success", title: `Blocker raised on ${b.item_key}`, detail: "The item is flagged blocked until it is resolved." });
      invalidate();
      onDone();
    },
  });
  const error = raise.error ? describeError(raise.error) : null;
  function submit(e: FormEvent) {
    e.preventDefault();
    raise.mutate();
  }
  return (
    <form onSubmit={submit}>
      {error && (
        <div className="form-error" role="alert">
          <strong>{error.title}</strong> {error.detail}
        </div>
      )}
      <div className="field">
        <label htmlFor="raise-item">Blocked item</label>
        <input id="raise-item" required maxLength={24} placeholder="DEMO-12" value={item} onChange={(e) => setItem(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="raise-reason">Why is it stuck?</label>
        <textarea id="raise-reason" required maxLength={2000} value={reason} onChange={(e) => setReason(e.target.value)} />
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor="raise-kind">Waiting on</label>
          <select id="raise-kind" value={kind} onChange={(e) => setKind(e.target.value as WaitingKind)}>
            <option value="person">a person (username)</option>
            <option value="team">a team</option>
            <option value="external">someone outside</option>
            <option value="item">another item (key)</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="raise-who">Who or what</label>
          <input id="raise-who" required maxLength={100} value={who} onChange={(e) => setWho(e.target.value)} />
        </div>
      </div>
      <div className="row">
        <button type="submit" className="primary" disabled={raise.isPending}>
          Raise blocker
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
