import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, etagOf, ok, type Schemas } from "../../api/client";
import { ApiError, describeError } from "../../api/problem";
import { useMembers } from "../../app/projectData";
import { toast } from "../../components/toasts";
import { IMPACT, LIKELIHOOD, severityOf, type Risk } from "./format";

/** Add a risk, or change one (with If-Match: a change made meanwhile is not overwritten). */
export function RiskForm({ projectKey, risk, onDone }: { projectKey: string; risk: Risk | null; onDone: () => void }) {
  const client = useQueryClient();
  const members = useMembers(projectKey);
  const [title, setTitle] = useState(risk?.title ?? "");
  const [likelihood, setLikelihood] = useState(risk?.likelihood ?? 3);
  const [impact, setImpact] = useState(risk?.impact ?? 3);
  const [owner, setOwner] = useState(risk?.owner?.username ?? "");
  const [mitigation, setMitigation] = useState(risk?.mitigation ?? "");
  const [review, setReview] = useState(risk?.review_date ?? "");
  const [description, setDescription] = useState(risk?.description ?? "");
  const save = useMutation({
    meta: { handlesError: true },
    mutationFn: () => {
      const fields = {
        title: title.trim(),
        likelihood,
        impact,
        owner: owner || null,
        mitigation,
        description,
        review_date: review || null,
      } satisfies Schemas["RiskUpdate"];
      return risk
        ? ok(api.PATCH("/api/v1/risks/{risk_id}", { params: { path: { risk_id: risk.id }, header: { "if-match": etagOf(risk.version) } }, body: fields }))
        : ok(api.POST("/api/v1/projects/{project_key}/risks", { params: { path: { project_key: projectKey } }, body: fields }));
    },
    onSuccess: (saved) => {
      toast({ kind: "success", title: risk ? "Risk saved" : "Risk added", detail: `${saved.title}: score ${saved.score} (${saved.severity})` });
      void client.invalidateQueries({ queryKey: ["risks", projectKey] });
      onDone();
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 412) void client.invalidateQueries({ queryKey: ["risks", projectKey] });
    },
  });
  const error = save.error ? describeError(save.error) : null;
  const writers = (members.data ?? []).filter((m) => m.role !== "viewer");
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }
  return (
    <form onSubmit={submit}>
      {error && (
        <div className="form-error" role="alert">
          <strong>{error.title}</strong> {error.detail}
          {save.error instanceof ApiError && save.error.status === 412 && " Close this form and open the risk again to see the change."}
        </div>
      )}
      <div className="field">
        <label htmlFor="risk-title">Title</label>
        <input id="risk-title" required maxLength={255} value={title} onChange={(e) => setTitle(e.target.value)} />
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor="risk-likelihood">Likelihood</label>
          <select id="risk-likelihood" value={likelihood} onChange={(e) => setLikelihood(Number(e.target.value))}>
            {LIKELIHOOD.map((l, i) => (
              <option key={l} value={i + 1}>
                {i + 1} {l}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="risk-impact">Impact</label>
          <select id="risk-impact" value={impact} onChange={(e) => setImpact(Number(e.target.value))}>
            {IMPACT.map((l, i) => (
              <option key={l} value={i + 1}>
                {i + 1} {l}
              </option>
            ))}
          </select>
        </div>
        <p className="small" aria-live="polite">
          Score {likelihood * impact}: <span className={`badge sev-${severityOf(likelihood * impact)}`}>{severityOf(likelihood * impact)}</span>
        </p>
      </div>
      <div className="field">
        <label htmlFor="risk-description">Description</label>
        <textarea id="risk-description" maxLength={60000} value={description} onChange={(e) => setDescription(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="risk-mitigation">Mitigation</label>
        <textarea id="risk-mitigation" maxLength={60000} value={mitigation} onChange={(e) => setMitigation(e.target.value)} />
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor="risk-owner">Owner</label>
          <select id="risk-owner" value={owner} onChange={(e) => setOwner(e.target.value)}>
            <option value="">Nobody yet</option>
            {writers.map((m) => (
              <option key={m.user.id} value={m.user.username}>
                {m.user.display_name || m.user.username}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="risk-review">Review on</label>
          <input id="risk-review" type="date" value={review} onChange={(e) => setReview(e.target.value)} />
        </div>
      </div>
      <div className="row">
        <button type="submit" className="primary" disabled={save.isPending}>
          {risk ? "Save risk" : "Add risk"}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
