import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { Outlet } from "react-router";
import { ErrorState, Loading } from "../components/States";
import { projectQuery, useProjectKey } from "./project";

export const LAST_PROJECT = "takt.lastProject";

/** Loads the route's project once for every screen under it (404: not there, or not yours). */
export function ProjectLayout() {
  const key = useProjectKey();
  const project = useQuery(projectQuery(key));
  useEffect(() => {
    if (project.data) localStorage.setItem(LAST_PROJECT, project.data.key);
  }, [project.data]);
  if (project.isPending) return <Loading />;
  if (project.isError) return <ErrorState error={project.error} retry={() => void project.refetch()} />;
  return <Outlet />;
}
