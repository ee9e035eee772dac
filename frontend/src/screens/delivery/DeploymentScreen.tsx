import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, etagOf, ok } from "../../api/client";
import { ApiError } from "../../api/problem";
import { useProject } from "../../app/project";
import { canWrite } from "../../app/projectData";
import { Dialog } from "../../components/Dialog";
import { Markdown } from "../../components/Markdown";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { toast, toastError } from "../../components/toasts";
import { formatDateTime } from "../../lib/format";
import { DeliveryFrame } from "./DeliveryFrame";
import { deploymentName, Shipped, StateBadge } from "./DeploymentBits";
import { hoursLabel } from "./format";
import { IncidentList } from "./IncidentList";
import { OpenIncidentForm } from "./IncidentForms";
import { deploymentQuery, useDeliveryLive, useInvalidateDelivery } from "./queries";

/** One deployment: its facts, what it shipped, the incidents linked to it. */
export default function DeploymentScreen() {
  const project = useProject();
  const { deploymentId = "" } = useParams();
  const live = useDeliveryLive(project.key);
  const detail = useQuery(deploymentQuery(deploymentId));
  const incidents = useQuery({
    queryKey: ["incidents", project.key, "deployment", deploymentId],
    queryFn: () =>
      ok(
        api.GET("/api/v1/projects/{project_key}/incidents", {
          params: { path: { project_key: project.key }, query: { deployment_id: deploymentId, limit: 50 } },
        }),
      ),
  });
  const [opening, setOpening] = useState(false);
  const [rollingBack, setRollingBack] = useState(false);
  const writable = canWrite(project.role);
  const invalidate = useInvalidateDelivery(project.key);
  const rollBack = useMutation({
    meta: { handlesError: true },
    mutationFn: (revision: number) =>
      ok(
        api.PATCH("/api/v1/deployments/{deployment_id}", {
          params: { path: { deployment_id: deploymentId }, header: { "if-match": etagOf(revision) } },
          body: { state: "rolled_back" },
        }),
      ),
    onSuccess: () => {
      toast({ kind: "success", title: "Marked rolled back", detail: "It now counts as failed in the change failure rate." });
      setRollingBack(false);
      invalidate();
    },
    onError: (error) => {
      setRollingBack(false);
      if (error instanceof ApiError && error.status === 412) {
        toast({ kind: "error", title: "Someone changed this deployment meanwhile", detail: "It has been reloaded; look again before rolling it back." });
        invalidate();
      } else toastError(error);
    },
  });
  const d = detail.data;
  const actions =
    d && writable ? (
      <>
        <button type="button" className="primary" onClick={() => setOpening(true)}>
          Open an incident it caused
        </button>
        {d.state === "success" && (
          <button type="button" className="danger" onClick={() => setRollingBack(true)}>
            Mark rolled back
          </button>
        )}
      </>
    ) : null;
  return (
    <DeliveryFrame title={d ? `${deploymentName(d)} to ${d.environment.name}` : "Deployment"} actions={actions} live={live}>
      <p className="small">
        <Link to={`/p/${project.key}/delivery`}>← All deployments</Link>
      </p>
      {detail.isPending && <SkeletonRows rows={5} />}
      {detail.isError && <ErrorState error={detail.error} retry={() => void detail.refetch()} />}
      {d && (
        <div className="two-columns">
          <section className="card" aria-labelledby="deployment-facts">
            <h2 id="deployment-facts">The deployment</h2>
            <p className="row">
              <StateBadge deployment={d} />
            </p>
            <dl className="facts">
              <dt>Environment</dt>
              <dd>
                {d.environment.name} ({d.environment.type})
              </dd>
              <dt>Commit</dt>
              <dd className="sha">{d.sha ?? "not reported"}</dd>
              {d.ref && (
                <>
                  <dt>Branch or tag</dt>
                  <dd>{d.ref}</dd>
                </>
              )}
              <dt>Started</dt>
              <dd>{formatDateTime(d.started_at)}</dd>
              <dt>Finished</dt>
              <dd>
                {d.finished_at ? formatDateTime(d.finished_at) : "not yet"}
                {d.finished_at && ` (${hoursLabel((Date.parse(d.finished_at) - Date.parse(d.started_at)) / 3_600_000)})`}
              </dd>
              {d.failed_at && (
                <>
                  <dt>Failed in service</dt>
                  <dd>
                    from {formatDateTime(d.failed_at)}
                    {d.restored_at ? `, restored ${formatDateTime(d.restored_at)} (${hoursLabel((Date.parse(d.restored_at) - Date.parse(d.failed_at)) / 3_600_000)})` : ", not restored yet"}
                  </dd>
                </>
              )}
              {d.fixes_deployment_id && (
                <>
                  <dt>{d.is_rollback ? "Rolls back" : "Fixes"}</dt>
                  <dd>
                    <Link to={`/p/${project.key}/delivery/deployments/${d.fixes_deployment_id}`}>the deployment it remediates</Link>
                  </dd>
                </>
              )}
              {d.previous_deployment_id && (
                <>
                  <dt>After</dt>
                  <dd>
                    <Link to={`/p/${project.key}/delivery/deployments/${d.previous_deployment_id}`}>the previous successful deployment here</Link>
                  </dd>
                </>
              )}
              <dt>Triggered by</dt>
              <dd>
                {d.triggered_by ?? "not said"}
                {d.reported_by && ` (reported by ${d.reported_by.display_name || d.reported_by.username})`}, from {d.source === "api" ? "a CI call" : d.source}
              </dd>
              {d.url && (
                <>
                  <dt>Link</dt>
                  <dd>
                    <a href={d.url} target="_blank" rel="noreferrer noopener">
                      {d.url}
                    </a>
                  </dd>
                </>
              )}
            </dl>
            {d.description && <Markdown source={d.description} />}
          </section>
          <section className="card" aria-labelledby="deployment-shipped">
            <h2 id="deployment-shipped">What it shipped</h2>
            <Shipped deploymentId={d.id} projectKey={project.key} commitLimit={100} />
          </section>
        </div>
      )}
      {d && (
        <section aria-labelledby="deployment-incidents">
          <h2 id="deployment-incidents">Incidents it caused or fixed</h2>
          {incidents.isPending && <SkeletonRows rows={2} />}
          {incidents.isError && <ErrorState error={incidents.error} retry={() => void incidents.refetch()} />}
          {incidents.data &&
            (incidents.data.data.length === 0 ? (
              <EmptyState title="No incident linked">
                If this deployment broke something, open an incident it caused: it then counts as failed, and resolving the incident ends its recovery time.
              </EmptyState>
            ) : (
              <IncidentList incidents={incidents.data.data} projectKey={project.key} writable={writable} deploymentId={d.id} />
            ))}
        </section>
      )}
      <Dialog open={opening} onClose={() => setOpening(false)} title="Open an incident">
        {d && <OpenIncidentForm projectKey={project.key} causedBy={d} onDone={() => setOpening(false)} />}
      </Dialog>
      <Dialog open={rollingBack} onClose={() => setRollingBack(false)} title="Mark rolled back?">
        {d && (
          <div className="stack">
            <p>
              Say that {deploymentName(d)} was undone by hand in {d.environment.name}. It becomes <strong>rolled back</strong> and counts as a failed deployment.
              A rollback reported by your CI does this by itself.
            </p>
            <div className="row">
              <button type="button" className="danger" disabled={rollBack.isPending} onClick={() => rollBack.mutate(d.revision)}>
                Mark rolled back
              </button>
              <button type="button" onClick={() => setRollingBack(false)}>
                Cancel
              </button>
            </div>
          </div>
        )}
      </Dialog>
    </DeliveryFrame>
  );
}
