import { api, ok, type Schemas } from "../../api/client";

export type ItemSummary = Schemas["ItemSummary"];
export type ItemPage = Schemas["ItemPage"];

export const PAGE = 50;
export const FACETS = "status,assignee,type,label,priority";

export function backlogKey(projectKey: string, q: string) {
  return ["items", projectKey, "backlog", q] as const;
}

export function fetchBacklogPage(projectKey: string, q: string, cursor: string | undefined) {
  return ok(
    api.GET("/api/v1/projects/{project_key}/items", {
      params: {
        path: { project_key: projectKey },
        query: { q: q || undefined, sort: "rank", limit: PAGE, cursor, facets: cursor ? undefined : FACETS },
      },
    }),
  );
}
