/** Project-wide data many screens need (workflow statuses, members), cached per project. */
import { useQuery } from "@tanstack/react-query";
import { api, ok } from "../api/client";

export function useStatuses(projectKey: string) {
  return useQuery({
    queryKey: ["statuses", projectKey],
    queryFn: () =>
      ok(api.GET("/api/v1/projects/{project_key}/statuses", { params: { path: { project_key: projectKey } } })),
    staleTime: 60_000,
    select: (list) => [...list.data].sort((a, b) => a.position - b.position),
  });
}

export function useMembers(projectKey: string) {
  return useQuery({
    queryKey: ["members", projectKey],
    queryFn: () =>
      ok(
        api.GET("/api/v1/projects/{project_key}/members", {
          params: { path: { project_key: projectKey }, query: { limit: 100 } },
        }),
      ),
    staleTime: 60_000,
    select: (page) => page.data,
  });
}

export function canWrite(role: string | null | undefined): boolean {
  return role === "admin" || role === "member";
}
