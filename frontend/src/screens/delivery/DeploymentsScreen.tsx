import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import type { Schemas } from "../../api/client";
import { useProject } from "../../app/project";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { DeliveryFrame } from "./DeliveryFrame";
import { deploymentName, Moment, Shipped, StateBadge, type Deployment } from "./DeploymentBits";
import { shortSha, stateTone } from "./format";
import { deploymentsQuery, useDeliveryLive, useEnvironments } from "./queries";

const PER_ENVIRONMENT = 6;

/** Deployments per environment, in promotion order: what runs where, and what each shipped. */
export default function DeploymentsScreen() {
  const project = useProject();
  const live = useDeliveryLive(project.key);
  const envs = useEnvironments(project.key);
  return (
    <DeliveryFrame title="Deployments" live={live}>
      {envs.isPending && <SkeletonRows rows={4} />}
      {envs.isError && <ErrorState error={envs.error} retry={() => void envs.refetch()} />}
      {envs.data && envs.data.length === 0 && (
        <EmptyState title="No environments">
          A project admin adds the environments of the promotion path (development, staging, production) with{" "}
          <code>POST /projects/{project.key}/environments</code>.
        </EmptyState>
      )}
      {envs.data && envs.data.length > 0 && (
        <div className="env-columns" data-testid="environments">
          {envs.data.map((env, i) => (
            <EnvironmentColumn key={env.id} env={env} step={i + 1} of={envs.data.length} projectKey={project.key} />
          ))}
        </div>
      )}
    </DeliveryFrame>
  );
}

function EnvironmentColumn({ env, step, of, projectKey }: { env: Schemas["EnvironmentRead"]; step: number; of: number; projectKey: string }) {
  const list = useQuery(deploymentsQuery(projectKey, env.name, PER_ENVIRONMENT));
  const headingId = `env-${env.id}`;
  const deployments = list.data?.data ?? [];
  const running = deployments.find((d) => d.state === "success");
  return (
    <section className="env-column" aria-labelledby={headingId}>
      <header>
        <h2 id={headingId}>{env.name}</h2>
        <span className="badge">{env.type}</span>
        <span className="env-step">
          step {step} of {of}
        </span>
      </header>
      {list.isPending && <SkeletonRows rows={3} />}
      {list.isError && <ErrorState error={list.error} retry={() => void list.refetch()} />}
      {list.data && deployments.length === 0 && (
        <EmptyState title="Nothing deployed yet">Report deployments from your CI (see docs/deployments.md) and they appear here.</EmptyState>
      )}
      {running && (
        <p className="env-running">
          Running <strong>{deploymentName(running)}</strong> <span className="sha">{shortSha(running.sha)}</span> since{" "}
          <Moment at={running.succeeded_at ?? running.started_at} />
        </p>
      )}
      {deployments.length > 0 && (
        <ol className="deploy-list" aria-label={`Latest deployments to ${env.name}, newest first`}>
          {deployments.map((d) => (
            <DeploymentRow key={d.id} deployment={d} projectKey={projectKey} />
          ))}
        </ol>
      )}
      {list.data?.next_cursor && (
        <p className="small muted">
          The latest {PER_ENVIRONMENT} are shown; earlier ones feed the <Link to={`/p/${projectKey}/delivery/dora?environment=${encodeURIComponent(env.name)}`}>DORA</Link> numbers.
        </p>
      )}
    </section>
  );
}

function DeploymentRow({ deployment: d, projectKey }: { deployment: Deployment; projectKey: string }) {
  const [open, setOpen] = useState(false);
  const tone = stateTone(d.state);
  return (
    <li className={`deploy${tone ? ` tone-${tone}` : ""}${d.failed ? " is-failed" : ""}`} data-testid="deployment">
      <div className="deploy-head">
        <Link to={`/p/${projectKey}/delivery/deployments/${d.id}`}>{deploymentName(d)}</Link>
        <StateBadge deployment={d} />
      </div>
      <div className="muted">
        <span className="sha">{shortSha(d.sha)}</span>
        {d.ref && <> on {d.ref}</>} · <Moment at={d.started_at} />
        {d.triggered_by && <> · {d.triggered_by}</>}
      </div>
      <details onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
        <summary>
          What it shipped: {d.shipped_commit_count} {d.shipped_commit_count === 1 ? "commit" : "commits"}
          {!d.shipped_complete && " (not fully known)"}
        </summary>
        {open && <Shipped deploymentId={d.id} projectKey={projectKey} commitLimit={5} />}
      </details>
    </li>
  );
}
