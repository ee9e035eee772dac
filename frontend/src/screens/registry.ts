/**
 * Every screen of the app, in one list: the router and the navigation are built from it.
 * To add a screen: make a folder under src/screens/ with a component as its default export,
 * and add one entry here (see README.md). Screens load lazily, each in its own chunk.
 */
import type { ComponentType } from "react";

export interface ScreenDef {
  /** Under `/p/:projectKey/` for project screens, under `/` for global ones. */
  path: string;
  scope: "global" | "project";
  /** Listed in the navigation (in `order`) when given. */
  nav?: { label: string; order: number };
  load: () => Promise<{ default: ComponentType }>;
}

export const screens: ScreenDef[] = [
  {
    path: "projects",
    scope: "global",
    nav: { label: "Projects", order: 0 },
    load: () => import("./projects/ProjectsScreen"),
  },
  {
    path: "backlog",
    scope: "project",
    nav: { label: "Backlog", order: 10 },
    load: () => import("./backlog/BacklogScreen"),
  },
  {
    path: "board",
    scope: "project",
    nav: { label: "Board", order: 20 },
    load: () => import("./board/BoardScreen"),
  },
  {
    path: "sprints",
    scope: "project",
    nav: { label: "Sprints", order: 30 },
    load: () => import("./sprints/SprintsScreen"),
  },
  {
    path: "sprints/:sprintId",
    scope: "project",
    load: () => import("./sprints/SprintsScreen"),
  },
  {
    path: "items/:itemKey",
    scope: "project",
    load: () => import("./item/ItemScreen"),
  },
  // Ceremonies (web-ceremonies): stand-up, retros, planning poker, risks and blockers.
  {
    path: "standup",
    scope: "project",
    nav: { label: "Stand-up", order: 40 },
    load: () => import("./standup/StandupScreen"),
  },
  {
    path: "retros",
    scope: "project",
    nav: { label: "Retros", order: 50 },
    load: () => import("./retro/RetrosScreen"),
  },
  {
    path: "retros/:retroId",
    scope: "project",
    load: () => import("./retro/RetroScreen"),
  },
  {
    path: "poker",
    scope: "project",
    nav: { label: "Poker", order: 60 },
    load: () => import("./poker/PokerScreen"),
  },
  {
    path: "poker/:sessionId",
    scope: "project",
    load: () => import("./poker/SessionScreen"),
  },
  {
    path: "risks",
    scope: "project",
    nav: { label: "Risks", order: 70 },
    load: () => import("./risks/RisksScreen"),
  },
  // Delivery (web-delivery): deployments, review queue, readiness, incidents, DORA and flow.
  {
    path: "delivery",
    scope: "project",
    nav: { label: "Delivery", order: 80 },
    load: () => import("./delivery/DeploymentsScreen"),
  },
  {
    path: "delivery/deployments/:deploymentId",
    scope: "project",
    load: () => import("./delivery/DeploymentScreen"),
  },
  {
    path: "delivery/reviews",
    scope: "project",
    load: () => import("./delivery/ReviewsScreen"),
  },
  {
    path: "delivery/readiness",
    scope: "project",
    load: () => import("./delivery/ReadinessScreen"),
  },
  {
    path: "delivery/incidents",
    scope: "project",
    load: () => import("./delivery/IncidentsScreen"),
  },
  {
    path: "delivery/dora",
    scope: "project",
    load: () => import("./delivery/DoraScreen"),
  },
  {
    path: "delivery/flow",
    scope: "project",
    load: () => import("./delivery/FlowScreen"),
  },
  // Settings (web-settings): general, members, workflow, labels, webhooks, repositories.
  {
    path: "settings",
    scope: "project",
    nav: { label: "Settings", order: 90 },
    load: () => import("./settings/SettingsScreen"),
  },
  {
    path: "settings/:section",
    scope: "project",
    load: () => import("./settings/SettingsScreen"),
  },
];

export function navEntries(scope: ScreenDef["scope"]): ScreenDef[] {
  return screens.filter((s) => s.scope === scope && s.nav).sort((a, b) => a.nav!.order - b.nav!.order);
}
