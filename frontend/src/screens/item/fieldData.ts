/** Project data the item fields and the backlog's bulk edit choose from: sprints and labels. */
import { useQuery } from "@tanstack/react-query";
import { api, ok, type Schemas } from "../../api/client";

export type Sprint = Schemas["SprintRead"];

/** The sprints an item can be put in (planned and active ones), active first. */
export function openSprints(sprints: readonly Sprint[]): Sprint[] {
  const order = { active: 0, planned: 1 } as Record<string, number>;
  return sprints
    .filter((s) => s.state === "active" || s.state === "planned")
    .sort((a, b) => (order[a.state] ?? 2) - (order[b.state] ?? 2) || a.start_date.localeCompare(b.start_date));
}

export function useSprints(projectKey: string) {
  return useQuery({
    queryKey: ["sprints", projectKey, "all"],
    queryFn: () =>
      ok(
        api.GET("/api/v1/projects/{project_key}/sprints", {
          params: { path: { project_key: projectKey }, query: { limit: 100 } },
        }),
      ),
    staleTime: 30_000,
    select: (page) => page.data,
  });
}

export function useLabels(projectKey: string) {
  return useQuery({
    queryKey: ["labels", projectKey],
    queryFn: () => ok(api.GET("/api/v1/projects/{project_key}/labels", { params: { path: { project_key: projectKey } } })),
    staleTime: 60_000,
    select: (list) => [...list.data].sort((a, b) => a.name.localeCompare(b.name)),
  });
}
