import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, etagOf, ok } from "../../api/client";
import { Dialog } from "../../components/Dialog";
import { Markdown } from "../../components/Markdown";
import { toast } from "../../components/toasts";
import { formatDateTime } from "../../lib/format";
import { Moment } from "./DeploymentBits";
import { hoursLabel } from "./format";
import { ResolveIncidentForm, type Incident } from "./IncidentForms";
import { useInvalidateDelivery } from "./queries";

/** Incidents as cards: severity, state, where, since when, the deployments linked; resolve or reopen. */
export function IncidentList({
  incidents,
  projectKey,
  writable,
  deploymentId,
}: {
  incidents: Incident[];
  projectKey: string;
  writable: boolean;
  /** On a deployment's page: links to it read "this deployment". */
  deploymentId?: string;
}) {
  const [resolving, setResolving] = useState<Incident | null>(null);
  const invalidate = useInvalidateDelivery(projectKey);
  const reopen = useMutation({
    mutationFn: (incident: Incident) =>
      ok(
        api.PATCH("/api/v1/incidents/{incident_id}", {
          params: { path: { incident_id: incident.id }, header: { "if-match": etagOf(incident.version) } },
          body: { state: "open" },
        }),
      ),
    onSuccess: (i) => toast({ kind: "success", title: `INC-${i.number} reopened` }),
    onSettled: invalidate,
  });
  function deploymentLink(id: string, what: string) {
    if (id === deploymentId) return <span>this deployment</span>;
    return <Link to={`/p/${projectKey}/delivery/deployments/${id}`}>{what}</Link>;
  }
  return (
    <>
      <ul className="incident-list" aria-label="Incidents">
        {incidents.map((i) => (
          <li key={i.id} className={`card incident ${i.state}`} data-testid="incident">
            <div className="incident-head">
              <h3>
                <span className="mono">INC-{i.number}</span> {i.title}
              </h3>
              <span className={`badge sev-${i.severity}`}>{i.severity}</span>
              <span className={`badge ${i.state === "open" ? "danger" : "success"}`}>{i.state}</span>
              <span className="badge">{i.environment}</span>
            </div>
            <p className="small muted">
              Opened <Moment at={i.opened_at} />
              {i.opened_by && ` by ${i.opened_by.display_name || i.opened_by.username}`}
              {i.resolved_at && (
                <>
                  {" "}
                  · resolved <Moment at={i.resolved_at} /> after {hoursLabel((Date.parse(i.resolved_at) - Date.parse(i.opened_at)) / 3_600_000)}
                </>
              )}
            </p>
            <p className="small">
              Caused by: {i.caused_by_deployment_id ? deploymentLink(i.caused_by_deployment_id, "the deployment that caused it") : <span className="muted">no deployment linked</span>}
              {i.fixed_by_deployment_id && <> · fixed by: {deploymentLink(i.fixed_by_deployment_id, "the deployment that fixed it")}</>}
            </p>
            {i.description && (
              <details>
                <summary className="small muted">Impact and notes</summary>
                <Markdown source={i.description} />
              </details>
            )}
            {writable && (
              <div className="row">
                {i.state === "open" ? (
                  <button type="button" onClick={() => setResolving(i)} aria-label={`Resolve INC-${i.number}`}>
                    Resolve
                  </button>
                ) : (
                  <button type="button" disabled={reopen.isPending} onClick={() => reopen.mutate(i)} aria-label={`Reopen INC-${i.number}`}>
                    Reopen
                  </button>
                )}
                <span className="small muted">Opened {formatDateTime(i.opened_at)}</span>
              </div>
            )}
          </li>
        ))}
      </ul>
      <Dialog open={!!resolving} onClose={() => setResolving(null)} title="Resolve the incident">
        {resolving && <ResolveIncidentForm projectKey={projectKey} incident={resolving} onDone={() => setResolving(null)} />}
      </Dialog>
    </>
  );
}
