/** Server data shared by the delivery screens, and their live reloads. */
import { useQuery, useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useCallback, useEffect, useRef } from "react";
import { api, ok } from "../../api/client";
import type { StreamStatus } from "../../events/stream";
import { useProjectEvents } from "../../events/useProjectEvents";

/** The project's environments in promotion order (at most 20: one page). */
export function useEnvironments(projectKey: string) {
  return useQuery({
    queryKey: ["environments", projectKey],
    queryFn: () => ok(api.GET("/api/v1/projects/{project_key}/environments", { params: { path: { project_key: projectKey } } })),
    staleTime: 60_000,
    select: (list) => [...list.data].sort((a, b) => a.position - b.position),
  });
}

/** Deployments of one environment, newest first. */
export function deploymentsQuery(projectKey: string, environment: string, limit: number, state?: "success") {
  return {
    queryKey: ["deployments", projectKey, "list", environment, limit, state ?? "any"] as const,
    queryFn: () =>
      ok(
        api.GET("/api/v1/projects/{project_key}/deployments", {
          params: { path: { project_key: projectKey }, query: { environment, limit, ...(state ? { state } : {}) } },
        }),
      ),
  };
}

export function deploymentQuery(deploymentId: string) {
  return {
    queryKey: ["deployments", "one", deploymentId] as const,
    queryFn: () => ok(api.GET("/api/v1/deployments/{deployment_id}", { params: { path: { deployment_id: deploymentId } } })),
  };
}

/** What a write to deployments or incidents changes: both lists, the details, the metrics. */
export const DELIVERY_KEYS = (projectKey: string): QueryKey[] => [
  ["deployments"],
  ["incidents", projectKey],
  ["readiness", projectKey],
  ["dora", projectKey],
];

export function useInvalidateDelivery(projectKey: string): () => void {
  const client = useQueryClient();
  return useCallback(() => {
    for (const key of DELIVERY_KEYS(projectKey)) void client.invalidateQueries({ queryKey: key });
  }, [client, projectKey]);
}

/**
 * Reloads the delivery data when a deployment, incident or environment event arrives (a burst
 * costs one reload), and on (re)connect without a cursor, so two people see each other's work.
 */
export function useDeliveryLive(projectKey: string): StreamStatus {
  const invalidate = useInvalidateDelivery(projectKey);
  const client = useQueryClient();
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const reload = useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      invalidate();
      void client.invalidateQueries({ queryKey: ["environments", projectKey] });
    }, 100);
  }, [client, invalidate, projectKey]);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return useProjectEvents(
    projectKey,
    (event) => {
      if (/^(deployment|incident|environment|readiness_policy)\./.test(event.type)) reload();
    },
    reload,
  );
}
