import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense, type ComponentType } from "react";
import { Link, useParams } from "react-router";
import { api, ok } from "../../api/client";
import { useProject } from "../../app/project";
import { PageHeader } from "../../components/PageHeader";
import { useLiveReload } from "../retro/live";
import { EmptyState, Loading } from "../../components/States";
import { isProjectAdmin, SECTIONS, sectionOf, sectionPath, type SectionId } from "./logic";
import "./settings.css";

const General = lazy(() => import("./General"));
const Members = lazy(() => import("./Members"));
const Workflow = lazy(() => import("./Workflow"));
const Labels = lazy(() => import("./Labels"));
const Webhooks = lazy(() => import("./Webhooks"));
const Repositories = lazy(() => import("./Repositories"));

const VIEWS: Record<SectionId, ComponentType<{ admin: boolean }>> = {
  general: General,
  members: Members,
  workflow: Workflow,
  labels: Labels,
  webhooks: Webhooks,
  repositories: Repositories,
};

/** Whether you may change this project's settings (project admin, or instance admin). */
export function useIsAdmin(): boolean {
  const project = useProject();
  const me = useQuery({ queryKey: ["me"], queryFn: () => ok(api.GET("/api/v1/users/me")), staleTime: 300_000 });
  return isProjectAdmin(project.role, me.data?.is_admin);
}

/** The project's settings: one nav entry, its sub-screens as a sub-navigation. */
export default function SettingsScreen() {
  const project = useProject();
  const { section: param } = useParams();
  const section = sectionOf(param);
  const admin = useIsAdmin();
  // Another admin's changes to the workflow, labels or members show up here as they happen.
  useLiveReload(project.key, (e) => /^(status|label|member)\./.test(e.type), [
    ["statuses", project.key],
    ["labels", project.key],
    ["members", project.key],
  ]);
  const label = SECTIONS.find((s) => s.id === section)?.label ?? "Settings";
  const View = section ? VIEWS[section] : null;
  return (
    <div className="settings">
      <PageHeader
        title={`Settings: ${label}`}
        subtitle={admin ? project.name : `${project.name} · only the project's admins can change these settings`}
      />
      <nav className="tabs settings-tabs" aria-label="Settings">
        {SECTIONS.map((s) => (
          <Link key={s.id} to={sectionPath(project.key, s.id)} aria-current={section === s.id ? "page" : undefined}>
            {s.label}
          </Link>
        ))}
      </nav>
      {View ? (
        <Suspense fallback={<Loading />}>
          <View admin={admin} />
        </Suspense>
      ) : (
        <EmptyState title="No such settings page" action={<Link to={sectionPath(project.key, "general")}>Go to the general settings</Link>}>
          Pick one of the pages above.
        </EmptyState>
      )}
    </div>
  );
}
