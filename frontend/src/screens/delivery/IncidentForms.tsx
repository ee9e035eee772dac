/** Opening an incident (linked to the deployment that caused it) and resolving one. */
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, etagOf, ok, type Schemas } from "../../api/client";
import { ApiError, describeError } from "../../api/problem";
import { toast } from "../../components/toasts";
import { formatDateTime } from "../../lib/format";
import { deploymentName } from "./DeploymentBits";
import { defaultEnvironment, shortSha, type Severity } from "./format";
import { deploymentsQuery, useEnvironments, useInvalidateDelivery } from "./queries";

export type Incident = Schemas["IncidentRead"];

const SEVERITIES: { value: Severity; label: string }[] = [
  { value: "sev1", label: "sev1: down for everyone" },
  { value: "sev2", label: "sev2: a major function broken" },
  { value: "sev3", label: "sev3: degraded, a workaround exists" },
  { value: "sev4", label: "sev4: minor" },
];

function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  const { title, detail } = describeError(error);
  return (
    <div className="form-error" role="alert">
      <strong>{title}</strong> {detail}
    </div>
  );
}

/** The successful deployments of an environment, newest first, as options of a select. */
function DeploymentOptions({ projectKey, environment }: { projectKey: string; environment: string }) {
  const list = useQuery({ ...deploymentsQuery(projectKey, environment, 20, "success"), enabled: !!environment });
  return (
    <>
      {(list.data?.data ?? []).map((d) => (
        <option key={d.id} value={d.id}>
          {deploymentName(d)} ({shortSha(d.sha)}), {formatDateTime(d.succeeded_at ?? d.started_at)}
        </option>
      ))}
    </>
  );
}

export function OpenIncidentForm({
  projectKey,
  causedBy,
  onDone,
}: {
  projectKey: string;
  causedBy?: Pick<Schemas["DeploymentRead"], "id" | "environment">;
  onDone: (incident: Incident) => void;
}) {
  const envs = useEnvironments(projectKey);
  const [title, setTitle] = useState("");
  const [severity, setSeverity] = useState<Severity>("sev2");
  const [environment, setEnvironment] = useState(causedBy?.environment.name ?? "");
  const [cause, setCause] = useState(causedBy?.id ?? "");
  const [description, setDescription] = useState("");
  const invalidate = useInvalidateDelivery(projectKey);
  const env = environment || defaultEnvironment(envs.data ?? []) || "";
  const open = useMutation({
    meta: { handlesError: true },
    mutationFn: () =>
      ok(
        api.POST("/api/v1/projects/{project_key}/incidents", {
          params: { path: { project_key: projectKey } },
          body: {
            title: title.trim(),
            severity,
            environment: env,
            description,
            ...(cause ? { caused_by_deployment_id: cause } : {}),
          },
        }),
      ),
    onSuccess: (incident) => {
      toast({
        kind: "success",
        title: `INC-${incident.number} opened`,
        detail: incident.caused_by_deployment_id ? "The deployment that caused it now counts as failed." : undefined,
      });
      invalidate();
      onDone(incident);
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    open.mutate();
  }
  return (
    <form onSubmit={submit}>
      <FormError error={open.error} />
      <div className="field">
        <label htmlFor="incident-title">What broke?</label>
        <input id="incident-title" required maxLength={255} value={title} onChange={(e) => setTitle(e.target.value)} placeholder="Checkout returns 500 for card payments" />
      </div>
      <div className="field">
        <label htmlFor="incident-severity">Severity</label>
        <select id="incident-severity" value={severity} onChange={(e) => setSeverity(e.target.value as Severity)}>
          {SEVERITIES.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="incident-environment">Environment</label>
        <select
          id="incident-environment"
          value={env}
          disabled={!!causedBy}
          onChange={(e) => {
            setEnvironment(e.target.value);
            setCause("");
          }}
        >
          {(envs.data ?? []).map((e) => (
            <option key={e.id} value={e.name}>
              {e.name}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="incident-cause">
          Caused by <span className="hint">the deployment that broke it: it then counts as failed (never guessed)</span>
        </label>
        <select id="incident-cause" value={cause} onChange={(e) => setCause(e.target.value)} disabled={!!causedBy}>
          <option value="">No known cause</option>
          {causedBy && <option value={causedBy.id}>This deployment</option>}
          {!causedBy && env && <DeploymentOptions projectKey={projectKey} environment={env} />}
        </select>
      </div>
      <div className="field">
        <label htmlFor="incident-description">
          Impact <span className="hint">Markdown, optional</span>
        </label>
        <textarea id="incident-description" maxLength={65536} value={description} onChange={(e) => setDescription(e.target.value)} />
      </div>
      <div className="row">
        <button type="submit" className="primary" disabled={open.isPending || !title.trim() || !env}>
          Open incident
        </button>
      </div>
    </form>
  );
}

export function ResolveIncidentForm({ projectKey, incident, onDone }: { projectKey: string; incident: Incident; onDone: () => void }) {
  const [fix, setFix] = useState(incident.fixed_by_deployment_id ?? "");
  const invalidate = useInvalidateDelivery(projectKey);
  const resolve = useMutation({
    meta: { handlesError: true },
    mutationFn: () =>
      ok(
        api.PATCH("/api/v1/incidents/{incident_id}", {
          params: { path: { incident_id: incident.id }, header: { "if-match": etagOf(incident.version) } },
          body: { state: "resolved", ...(fix ? { fixed_by_deployment_id: fix } : {}) },
        }),
      ),
    onSuccess: (i) => {
      toast({ kind: "success", title: `INC-${i.number} resolved`, detail: i.caused_by_deployment_id ? "Its cause's recovery time ends now." : undefined });
      invalidate();
      onDone();
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 412) invalidate();
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    resolve.mutate();
  }
  const stale = resolve.error instanceof ApiError && resolve.error.status === 412;
  return (
    <form onSubmit={submit}>
      {stale ? (
        <div className="form-error" role="alert">
          <strong>Someone changed this incident meanwhile.</strong> It has been reloaded: close this and look again before resolving.
        </div>
      ) : (
        <FormError error={resolve.error} />
      )}
      <p className="small">
        <strong>
          INC-{incident.number} {incident.title}
        </strong>{" "}
        in {incident.environment}, open since {formatDateTime(incident.opened_at)}. Resolving it now records service as restored now.
      </p>
      <div className="field">
        <label htmlFor="resolve-fix">
          Fixed by <span className="hint">the deployment that fixed it, if one did</span>
        </label>
        <select id="resolve-fix" value={fix} onChange={(e) => setFix(e.target.value)}>
          <option value="">No deployment (fixed another way)</option>
          <DeploymentOptions projectKey={projectKey} environment={incident.environment} />
        </select>
      </div>
      <div className="row">
        <button type="submit" className="primary" disabled={resolve.isPending || stale}>
          Resolve
        </button>
      </div>
    </form>
  );
}
