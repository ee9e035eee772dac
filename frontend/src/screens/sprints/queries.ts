import { api, ok, type Schemas } from "../../api/client";

export type Sprint = Schemas["SprintRead"];

export function sprintsKey(projectKey: string) {
  return ["sprints", projectKey] as const;
}

export function fetchSprints(projectKey: string) {
  return ok(
    api.GET("/api/v1/projects/{project_key}/sprints", {
      params: { path: { project_key: projectKey }, query: { limit: 100 } },
    }),
  );
}

export function sprintItems(projectKey: string, q: string, limit = 100) {
  return ok(
    api.GET("/api/v1/projects/{project_key}/items", {
      params: { path: { project_key: projectKey }, query: { q, sort: "rank", limit } },
    }),
  );
}

/** The sprint a screen opens on: the active one, else the next planned, else the latest. */
export function defaultSprint(sprints: Sprint[]): Sprint | undefined {
  return (
    sprints.find((s) => s.state === "active") ??
    sprints.filter((s) => s.state === "planned").sort((a, b) => a.start_date.localeCompare(b.start_date))[0] ??
    [...sprints].sort((a, b) => b.start_date.localeCompare(a.start_date))[0]
  );
}
