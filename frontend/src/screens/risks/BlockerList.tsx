import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, etagOf, ok } from "../../api/client";
import { describeError } from "../../api/problem";
import { Dialog } from "../../components/Dialog";
import { toast } from "../../components/toasts";
import { formatDateTime } from "../../lib/format";
import { ageLabel, waitingOnText, type Blocker } from "./format";
import "./risks.css";

/** Everything a blocker change may move: blockers, the register, the stand-up summary, items. */
export function useBlockerInvalidation(projectKey: string) {
  const client = useQueryClient();
  return () => {
    for (const key of [["blockers", projectKey], ["risks", projectKey], ["standup", projectKey], ["items", projectKey]]) {
      void client.invalidateQueries({ queryKey: key });
    }
  };
}

/** Blockers with their age, whom they wait on, and (for writers) resolve and promote. */
export function BlockerList({
  blockers,
  projectKey,
  hoursPerDay,
  writable,
  label,
}: {
  blockers: Blocker[];
  projectKey: string;
  hoursPerDay: number;
  writable: boolean;
  label: string;
}) {
  const [resolving, setResolving] = useState<Blocker | null>(null);
  const invalidate = useBlockerInvalidation(projectKey);
  const promote = useMutation({
    mutationFn: (b: Blocker) =>
      ok(api.POST("/api/v1/blockers/{blocker_id}/promote", { params: { path: { blocker_id: b.id } }, body: {} })),
    onSuccess: (risk) => {
      toast({ kind: "success", title: "Escalated to the risk register", detail: `${risk.title} (score ${risk.score}, ${risk.severity})` });
      invalidate();
    },
  });
  return (
    <>
      <ul className="blocker-list" aria-label={label}>
        {blockers.map((b) => (
          <li key={b.id} className={`blocker card${b.escalated ? " escalated" : ""}`} data-blocker={b.id}>
            <div className="row">
              <Link className="mono" to={`/p/${projectKey}/items/${b.item_key}`}>
                {b.item_key}
              </Link>
              {b.status === "open" ? (
                <span className={`badge${b.escalated ? " danger" : " warning"}`} title={`Raised ${formatDateTime(b.raised_at)}`}>
                  {ageLabel(b.age_working_hours, hoursPerDay)}
                  <span className="visually-hidden"> old</span>
                </span>
              ) : (
                <span className="badge success">resolved after {ageLabel(b.age_working_hours, hoursPerDay)}</span>
              )}
              {b.escalated && <span className="badge danger">escalated</span>}
              {b.risk_id && <span className="badge accent">on the risk register</span>}
            </div>
            <p className="blocker-reason">{b.reason}</p>
            <p className="small muted">
              Waiting on <strong>{waitingOnText(b.waiting_on)}</strong>
              {b.raised_by && <> · raised by {b.raised_by.display_name || b.raised_by.username}</>}
              {b.status === "resolved" && b.resolution && <> · {b.resolution}</>}
            </p>
            {writable && b.status === "open" && (
              <div className="row">
                <button type="button" onClick={() => setResolving(b)} aria-label={`Resolve the blocker on ${b.item_key}`}>
                  Resolve
                </button>
                {!b.risk_id && (
                  <button
                    type="button"
                    disabled={promote.isPending}
                    onClick={() => promote.mutate(b)}
                    aria-label={`Escalate the blocker on ${b.item_key} to a risk`}
                  >
                    Escalate to a risk
                  </button>
                )}
              </div>
            )}
          </li>
        ))}
      </ul>
      <Dialog open={resolving !== null} onClose={() => setResolving(null)} title="Resolve blocker">
        {resolving && <ResolveForm blocker={resolving} onDone={() => setResolving(null)} onChanged={invalidate} />}
      </Dialog>
    </>
  );
}

function ResolveForm({ blocker, onDone, onChanged }: { blocker: Blocker; onDone: () => void; onChanged: () => void }) {
  const [resolution, setResolution] = useState("");
  const resolve = useMutation({
    meta: { handlesError: true },
    mutationFn: () =>
      ok(
        api.POST("/api/v1/blockers/{blocker_id}/resolve", {
          params: { path: { blocker_id: blocker.id }, header: { "if-match": etagOf(blocker.version) } },
          body: { resolution: resolution.trim() },
        }),
      ),
    onSuccess: () => {
      toast({ kind: "success", title: `Blocker on ${blocker.item_key} resolved` });
      onChanged();
      onDone();
    },
    onError: (error) => {
      // A 412 means someone changed it meanwhile: show theirs.
      if ((error as { status?: number }).status === 412) onChanged();
    },
  });
  const error = resolve.error ? describeError(resolve.error) : null;
  function submit(e: FormEvent) {
    e.preventDefault();
    resolve.mutate();
  }
  return (
    <form onSubmit={submit}>
      <p className="small">
        <span className="mono">{blocker.item_key}</span>: {blocker.reason}
      </p>
      {error && (
        <div className="form-error" role="alert">
          <strong>{error.title}</strong> {error.detail}
        </div>
      )}
      <div className="field">
        <label htmlFor="blocker-resolution">
          How was it unblocked? <span className="hint">optional</span>
        </label>
        <textarea id="blocker-resolution" maxLength={2000} value={resolution} onChange={(e) => setResolution(e.target.value)} />
      </div>
      <div className="row">
        <button type="submit" className="primary" disabled={resolve.isPending}>
          Resolve
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
