import { useQuery } from "@tanstack/react-query";
import { useParams } from "react-router";
import { api, ok, type Schemas } from "../api/client";

export type Project = Schemas["ProjectRead"];

export function projectQuery(key: string) {
  return {
    queryKey: ["project", key],
    queryFn: () => ok(api.GET("/api/v1/projects/{project_key}", { params: { path: { project_key: key } } })),
  } as const;
}

/** The project of the current route (`/p/:projectKey/...`); screens under ProjectLayout only. */
export function useProjectKey(): string {
  const { projectKey } = useParams();
  if (!projectKey) throw new Error("useProjectKey outside a project route");
  return projectKey;
}

export function useProject(): Project {
  const key = useProjectKey();
  const { data } = useQuery(projectQuery(key));
  if (!data) throw new Error("useProject before ProjectLayout loaded the project");
  return data;
}
