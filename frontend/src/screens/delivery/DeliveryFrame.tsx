import type { ReactNode } from "react";
import { Link, useLocation } from "react-router";
import { useProject } from "../../app/project";
import { PageHeader } from "../../components/PageHeader";
import type { StreamStatus } from "../../events/stream";
import { currentView, DELIVERY_VIEWS } from "./format";
import "./delivery.css";

const LIVE_WORDS: Record<StreamStatus, string> = {
  live: "Live: new deployments and incidents appear as they happen",
  connecting: "Connecting live updates…",
  reconnecting: "Reconnecting live updates…",
  stopped: "Live updates stopped: reload the page",
};

/** The delivery screens' common frame: the title, the sub-screens as tabs, the live line. */
export function DeliveryFrame({
  title,
  actions,
  live,
  children,
}: {
  title: string;
  actions?: ReactNode;
  live?: StreamStatus;
  children: ReactNode;
}) {
  const project = useProject();
  const { pathname } = useLocation();
  const current = currentView(pathname, project.key);
  return (
    <div className="delivery">
      <PageHeader title={title} subtitle={project.name} actions={actions} />
      <nav className="tabs delivery-tabs" aria-label="Delivery">
        {DELIVERY_VIEWS.map((v) => (
          <Link key={v.path} to={`/p/${project.key}/${v.path}`} aria-current={current === v.path ? "page" : undefined}>
            {v.label}
          </Link>
        ))}
      </nav>
      {live && (
        <p className="delivery-live small muted" data-testid="live-status" data-status={live}>
          <span className={`delivery-dot dot-${live}`} aria-hidden="true" />
          <span role="status">{LIVE_WORDS[live]}</span>
        </p>
      )}
      {children}
    </div>
  );
}

