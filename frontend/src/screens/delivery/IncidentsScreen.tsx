import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router";
import { api, ok } from "../../api/client";
import { useProject } from "../../app/project";
import { canWrite } from "../../app/projectData";
import { Dialog } from "../../components/Dialog";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { DeliveryFrame } from "./DeliveryFrame";
import { IncidentList } from "./IncidentList";
import { OpenIncidentForm } from "./IncidentForms";
import { useDeliveryLive, useEnvironments } from "./queries";

type StateFilter = "open" | "resolved" | "all";

/** The project's incidents: the open ones first by default; open one, resolve one. */
export default function IncidentsScreen() {
  const project = useProject();
  const live = useDeliveryLive(project.key);
  const envs = useEnvironments(project.key);
  const [params, setParams] = useSearchParams();
  const state = (["open", "resolved", "all"].includes(params.get("state") ?? "") ? params.get("state") : "open") as StateFilter;
  const environment = params.get("environment") ?? "";
  const [opening, setOpening] = useState(false);
  const writable = canWrite(project.role);
  const list = useInfiniteQuery({
    queryKey: ["incidents", project.key, "list", state, environment],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      ok(
        api.GET("/api/v1/projects/{project_key}/incidents", {
          params: {
            path: { project_key: project.key },
            query: {
              limit: 50,
              ...(state !== "all" ? { state } : {}),
              ...(environment ? { environment } : {}),
              ...(pageParam ? { cursor: pageParam } : {}),
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  function setFilter(name: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  }
  const incidents = list.data?.pages.flatMap((p) => p.data) ?? [];
  const openButton = writable ? (
    <button type="button" className="primary" onClick={() => setOpening(true)}>
      Open an incident
    </button>
  ) : null;
  return (
    <DeliveryFrame title="Incidents" actions={openButton} live={live}>
      <div className="toolbar">
        <div className="field">
          <label htmlFor="incident-state">Show</label>
          <select id="incident-state" value={state} onChange={(e) => setFilter("state", e.target.value === "open" ? "" : e.target.value)}>
            <option value="open">Open</option>
            <option value="resolved">Resolved</option>
            <option value="all">All</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="incident-env">Environment</label>
          <select id="incident-env" value={environment} onChange={(e) => setFilter("environment", e.target.value)}>
            <option value="">Any</option>
            {(envs.data ?? []).map((e) => (
              <option key={e.id} value={e.name}>
                {e.name}
              </option>
            ))}
          </select>
        </div>
      </div>
      <p className="small muted">
        An incident names the deployment that caused it (that deployment then counts as failed) and, when resolved, the one that fixed it. Resolving it ends
        the recovery time DORA measures.
      </p>
      {list.isPending && <SkeletonRows rows={3} />}
      {list.isError && <ErrorState error={list.error} retry={() => void list.refetch()} />}
      {list.data &&
        (incidents.length === 0 ? (
          <EmptyState title={state === "open" ? "No open incident" : "No incidents"} action={state === "open" ? openButton : undefined}>
            {state === "open"
              ? "Nothing is broken that anyone has reported. When something breaks, open an incident and link the deployment that caused it."
              : "Incidents opened in this project appear here, the most recently opened first."}
          </EmptyState>
        ) : (
          <IncidentList incidents={incidents} projectKey={project.key} writable={writable} />
        ))}
      {list.hasNextPage && (
        <p>
          <button type="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
            {list.isFetchingNextPage ? "Loading…" : "Show more"}
          </button>
        </p>
      )}
      <Dialog open={opening} onClose={() => setOpening(false)} title="Open an incident">
        <OpenIncidentForm projectKey={project.key} onDone={() => setOpening(false)} />
      </Dialog>
    </DeliveryFrame>
  );
}
