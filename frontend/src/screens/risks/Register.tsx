import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, etagOf, ok, type Schemas } from "../../api/client";
import { ApiError } from "../../api/problem";
import { Dialog } from "../../components/Dialog";
import { Markdown } from "../../components/Markdown";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { toast, toastError } from "../../components/toasts";
import { formatDay } from "../../lib/format";
import { IMPACT, LIKELIHOOD, matrixRows, type Risk } from "./format";
import { RiskForm } from "./RiskForm";

type Status = Schemas["RiskStatus"];
const STATUSES: Status[] = ["open", "mitigating", "occurred", "closed"];

export function Register({ projectKey, writable }: { projectKey: string; writable: boolean }) {
  const [status, setStatus] = useState<Status | "">("");
  const [cell, setCell] = useState<{ likelihood: number; impact: number } | null>(null);
  const [editing, setEditing] = useState<Risk | "new" | null>(null);
  const risks = useQuery({
    queryKey: ["risks", projectKey, "list", status],
    queryFn: () =>
      ok(
        api.GET("/api/v1/projects/{project_key}/risks", {
          params: { path: { project_key: projectKey }, query: { limit: 100, status: status || undefined } },
        }),
      ),
  });
  // A cell of the matrix shows what the matrix counts there: the open and mitigating risks.
  const shown = (risks.data?.data ?? []).filter(
    (r) => !cell || (r.likelihood === cell.likelihood && r.impact === cell.impact && (r.status === "open" || r.status === "mitigating")),
  );
  const newButton = writable ? (
    <button type="button" className="primary" onClick={() => setEditing("new")}>
      New risk
    </button>
  ) : null;
  return (
    <div className="register-layout">
      <Matrix
        projectKey={projectKey}
        selected={cell}
        onSelect={(c) => {
          setCell(c);
          if (c) setStatus("");
        }}
      />
      <section className="stack" aria-labelledby="register-title">
        <div className="row">
          <h2 id="register-title">Register</h2>
          <span className="spacer" />
          <label htmlFor="risk-status" className="visually-hidden">
            Status
          </label>
          <select id="risk-status" value={status} onChange={(e) => setStatus(e.target.value as Status | "")}>
            <option value="">Every status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          {newButton}
        </div>
        {cell && (
          <p className="row small" role="status">
            Open risks of likelihood {cell.likelihood} × impact {cell.impact} only.
            <button type="button" className="ghost" onClick={() => setCell(null)}>
              Show every risk
            </button>
          </p>
        )}
        {risks.isPending && <SkeletonRows />}
        {risks.isError && <ErrorState error={risks.error} retry={() => void risks.refetch()} />}
        {risks.data &&
          (shown.length === 0 ? (
            <EmptyState title={risks.data.data.length ? "No risk matches" : "The register is empty"} action={risks.data.data.length ? undefined : newButton}>
              {risks.data.data.length
                ? "Choose another status or cell."
                : "Add what might stop the team, rated by likelihood and impact, or escalate a blocker that threatens the sprint."}
            </EmptyState>
          ) : (
            <ul className="risk-list">
              {shown.map((r) => (
                <RiskRow key={r.id} risk={r} projectKey={projectKey} writable={writable} onEdit={() => setEditing(r)} />
              ))}
            </ul>
          ))}
      </section>
      <Dialog open={editing !== null} onClose={() => setEditing(null)} title={editing === "new" ? "New risk" : "Edit risk"}>
        {editing && <RiskForm projectKey={projectKey} risk={editing === "new" ? null : editing} onDone={() => setEditing(null)} />}
      </Dialog>
    </div>
  );
}

function Matrix({
  projectKey,
  selected,
  onSelect,
}: {
  projectKey: string;
  selected: { likelihood: number; impact: number } | null;
  onSelect: (cell: { likelihood: number; impact: number } | null) => void;
}) {
  const matrix = useQuery({
    queryKey: ["risks", projectKey, "matrix"],
    queryFn: () => ok(api.GET("/api/v1/projects/{project_key}/risks/matrix", { params: { path: { project_key: projectKey } } })),
  });
  if (matrix.isPending) return <SkeletonRows rows={5} />;
  if (matrix.isError) return <ErrorState error={matrix.error} retry={() => void matrix.refetch()} />;
  const m = matrix.data;
  return (
    <section className="card stack matrix-card" aria-labelledby="matrix-title">
      <h2 id="matrix-title">Open risks: {m.total}</h2>
      <table className="risk-matrix" data-testid="risk-matrix">
        <caption className="visually-hidden">Open and mitigating risks by likelihood (rows) and impact (columns)</caption>
        <thead>
          <tr>
            <th scope="col">
              <span className="visually-hidden">Likelihood</span>
            </th>
            {IMPACT.map((label, i) => (
              <th key={label} scope="col" title={label}>
                {i + 1}
                <span className="visually-hidden"> {label} impact</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrixRows(m.counts).map((row) => (
            <tr key={row.likelihood}>
              <th scope="row" title={LIKELIHOOD[row.likelihood - 1]}>
                {row.likelihood}
                <span className="visually-hidden"> {LIKELIHOOD[row.likelihood - 1]}</span>
              </th>
              {row.cells.map((c) => {
                const isSelected = selected?.likelihood === row.likelihood && selected.impact === c.impact;
                return (
                  <td key={c.impact} className={`sev-${c.severity}`}>
                    {c.count > 0 ? (
                      <button
                        type="button"
                        aria-pressed={isSelected}
                        aria-label={`${c.count} ${c.count === 1 ? "risk" : "risks"} of likelihood ${row.likelihood} and impact ${c.impact}, ${c.severity}`}
                        onClick={() => onSelect(isSelected ? null : { likelihood: row.likelihood, impact: c.impact })}
                      >
                        {c.count}
                      </button>
                    ) : (
                      <span className="visually-hidden">none</span>
                    )}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="small muted matrix-axes">Rows: likelihood, 1 rare to 5 almost certain. Columns: impact, 1 negligible to 5 severe.</p>
      <ul className="row severity-totals" aria-label="Open risks by severity">
        {(["critical", "high", "medium", "low"] as const).map((s) => (
          <li key={s} className={`badge sev-${s}`}>
            {m.by_severity[s] ?? 0} {s}
          </li>
        ))}
      </ul>
    </section>
  );
}

function RiskRow({ risk, projectKey, writable, onEdit }: { risk: Risk; projectKey: string; writable: boolean; onEdit: () => void }) {
  const client = useQueryClient();
  const invalidate = () => void client.invalidateQueries({ queryKey: ["risks", projectKey] });
  const setStatus = useMutation({
    meta: { handlesError: true },
    mutationFn: (status: Status) =>
      ok(
        api.PATCH("/api/v1/risks/{risk_id}", {
          params: { path: { risk_id: risk.id }, header: { "if-match": etagOf(risk.version) } },
          body: { status },
        }),
      ),
    onSuccess: invalidate,
    onError: (error) => {
      if (error instanceof ApiError && error.status === 412) {
        toast({ kind: "error", title: "Someone changed this risk meanwhile", detail: "It has been reloaded; change it again if it still should." });
        invalidate();
      } else toastError(error);
    },
  });
  const remove = useMutation({
    mutationFn: () => ok(api.DELETE("/api/v1/risks/{risk_id}", { params: { path: { risk_id: risk.id }, header: { "if-match": etagOf(risk.version) } } })),
    onSuccess: () => {
      toast({ kind: "success", title: "Risk deleted", detail: risk.title });
      invalidate();
    },
  });
  const titleId = `risk-${risk.id}`;
  return (
    <li className="card risk" aria-labelledby={titleId} data-risk={risk.id}>
      <div className="row">
        <span className={`score sev-${risk.severity}`} title={`likelihood ${risk.likelihood} × impact ${risk.impact}`}>
          {risk.score}
          <span className="visually-hidden"> ({risk.severity})</span>
        </span>
        <h3 id={titleId} className="risk-title">
          {risk.title}
        </h3>
      </div>
      <p className="small muted">
        Likelihood {risk.likelihood} ({LIKELIHOOD[risk.likelihood - 1]}) × impact {risk.impact} ({IMPACT[risk.impact - 1]}) · {risk.severity}
        {risk.owner && <> · owner {risk.owner.display_name || risk.owner.username}</>}
        {risk.review_date && (
          <>
            {" "}
            · review {formatDay(risk.review_date, true)} {risk.overdue && <span className="badge danger">overdue</span>}
          </>
        )}
      </p>
      {risk.mitigation && (
        <div className="small">
          <strong>Mitigation:</strong> <Markdown source={risk.mitigation} />
        </div>
      )}
      {risk.item_keys.length > 0 && (
        <p className="small">
          Threatens{" "}
          {risk.item_keys.map((k, i) => (
            <span key={k}>
              {i > 0 && ", "}
              <Link to={`/p/${projectKey}/items/${k}`}>{k}</Link>
            </span>
          ))}
          {risk.blocker_id && " · escalated from a blocker"}
        </p>
      )}
      <div className="row">
        {writable ? (
          <>
            <label htmlFor={`status-${risk.id}`} className="visually-hidden">
              Status of {risk.title}
            </label>
            <select id={`status-${risk.id}`} value={risk.status} disabled={setStatus.isPending} onChange={(e) => setStatus.mutate(e.target.value as Status)}>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
            <button type="button" onClick={onEdit} aria-label={`Edit ${risk.title}`}>
              Edit
            </button>
            <button
              type="button"
              className="ghost danger"
              disabled={remove.isPending}
              onClick={() => {
                if (window.confirm(`Delete the risk “${risk.title}”?`)) remove.mutate();
              }}
              aria-label={`Delete ${risk.title}`}
            >
              Delete
            </button>
          </>
        ) : (
          <span className="badge">{risk.status}</span>
        )}
      </div>
    </li>
  );
}
