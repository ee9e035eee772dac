import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, etagOf, ok, type Schemas } from "../../api/client";
import { ApiError, describeError } from "../../api/problem";
import { useProject } from "../../app/project";
import { SecretOnce } from "../../components/SecretOnce";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { toast } from "../../components/toasts";
import { formatDateTime } from "../../lib/format";
import { canRedeliver, inboxTone, repositoryNameProblem } from "./logic";

type Repository = Schemas["RepositoryRead"];
type Provider = Schemas["Provider"];
const PROVIDERS: Record<Provider, { label: string; secretName: string; placeholder: string }> = {
  github: { label: "GitHub", secretName: "Secret", placeholder: "owner/repo" },
  gitlab: { label: "GitLab", secretName: "Secret token", placeholder: "group/project" },
};

/** Linked GitHub and GitLab repositories (admins): link one, its webhook URL and secret, its inbox. */
export default function Repositories({ admin }: { admin: boolean }) {
  const project = useProject();
  const client = useQueryClient();
  const [linked, setLinked] = useState<{ repo: Schemas["RepositoryWithSecret"]; rotated: boolean } | null>(null);
  const repos = useQuery({
    queryKey: ["repositories", project.key],
    queryFn: () => ok(api.GET("/api/v1/projects/{project_key}/repositories", { params: { path: { project_key: project.key }, query: { limit: 100 } } })),
    select: (page) => page.data,
  });
  const invalidate = () => void client.invalidateQueries({ queryKey: ["repositories", project.key] });
  return (
    <section aria-labelledby="repos-heading" className="settings-section">
      <h2 id="repos-heading">Repositories</h2>
      <p className="small muted">
        Link a repository, then add a webhook on GitHub or GitLab with the URL and secret Takt gives: pull requests, reviews and
        deployments then reach the items they name.
      </p>
      {linked && (
        <SecretOnce
          label={`${PROVIDERS[linked.repo.provider].secretName} for ${linked.repo.full_name}`}
          secret={linked.repo.secret}
          onDone={() => setLinked(null)}
        >
          <p className="small">
            {linked.rotated ? "The new secret replaces the old one now: paste it " : "Add a webhook "}
            {linked.repo.provider === "github" ? "in the repository's Settings → Webhooks (content type application/json)" : "in the project's Settings → Webhooks"}
            {linked.rotated ? "." : " with this URL and secret:"}
          </p>
          <p className="mono small break" data-testid="webhook-url">
            {linked.repo.webhook_url}
          </p>
        </SecretOnce>
      )}
      {admin && (
        <LinkRepository
          projectKey={project.key}
          onLinked={(repo) => {
            setLinked({ repo, rotated: false });
            invalidate();
          }}
        />
      )}
      {repos.isPending ? (
        <SkeletonRows rows={3} />
      ) : repos.isError ? (
        <ErrorState error={repos.error} retry={() => void repos.refetch()} />
      ) : repos.data.length === 0 ? (
        <EmptyState title="No repositories linked">Link one above with its full name, then set up the webhook on the provider.</EmptyState>
      ) : (
        <ul className="settings-list" data-testid="repositories">
          {repos.data.map((repo) => (
            <RepositoryRow key={repo.id} repo={repo} admin={admin} onChanged={invalidate} onRotated={(r) => setLinked({ repo: r, rotated: true })} />
          ))}
        </ul>
      )}
    </section>
  );
}

function LinkRepository({ projectKey, onLinked }: { projectKey: string; onLinked: (repo: Schemas["RepositoryWithSecret"]) => void }) {
  const [provider, setProvider] = useState<Provider>("github");
  const [fullName, setFullName] = useState("");
  const [branch, setBranch] = useState("main");
  const [problem, setProblem] = useState<string | null>(null);
  const link = useMutation({
    meta: { handlesError: true },
    mutationFn: () =>
      ok(
        api.POST("/api/v1/projects/{project_key}/repositories", {
          params: { path: { project_key: projectKey } },
          body: { provider, full_name: fullName.trim().replace(/^\/+|\/+$/g, ""), default_branch: branch.trim() || "main" },
        }),
      ),
    onSuccess: (repo) => {
      setFullName("");
      onLinked(repo);
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    const wrong = repositoryNameProblem(provider, fullName);
    setProblem(wrong);
    if (!wrong) link.mutate();
  }
  const error = problem ? { title: problem, detail: undefined } : link.error ? describeError(link.error) : null;
  return (
    <form className="card settings-add" onSubmit={submit} aria-label="Link a repository">
      <h3>Link a repository</h3>
      {error && (
        <div className="form-error" role="alert">
          <strong>{error.title}</strong> {error.detail}
        </div>
      )}
      <div className="row align-end">
        <div className="field">
          <label htmlFor="repo-provider">Provider</label>
          <select id="repo-provider" value={provider} onChange={(e) => setProvider(e.target.value as Provider)}>
            <option value="github">GitHub</option>
            <option value="gitlab">GitLab</option>
          </select>
        </div>
        <div className="field grow">
          <label htmlFor="repo-name">Full name</label>
          <input id="repo-name" required maxLength={255} placeholder={PROVIDERS[provider].placeholder} value={fullName} onChange={(e) => setFullName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="repo-branch">Default branch</label>
          <input id="repo-branch" maxLength={255} value={branch} onChange={(e) => setBranch(e.target.value)} />
        </div>
        <div className="field">
          <button type="submit" className="primary" disabled={link.isPending}>
            Link repository
          </button>
        </div>
      </div>
    </form>
  );
}

function RepositoryRow({
  repo,
  admin,
  onChanged,
  onRotated,
}: {
  repo: Repository;
  admin: boolean;
  onChanged: () => void;
  onRotated: (repo: Schemas["RepositoryWithSecret"]) => void;
}) {
  const path = { repository_id: repo.id };
  const ifMatch = { "if-match": etagOf(repo.version) };
  const on412 = (error: unknown) => {
    if (error instanceof ApiError && error.status === 412) onChanged();
  };
  const rotate = useMutation({
    mutationFn: () => ok(api.POST("/api/v1/repositories/{repository_id}/rotate-secret", { params: { path, header: ifMatch } })),
    onSuccess: onRotated,
    onError: on412,
    onSettled: onChanged,
  });
  const unlink = useMutation({
    mutationFn: () => ok(api.DELETE("/api/v1/repositories/{repository_id}", { params: { path, header: ifMatch } })),
    onSuccess: () => toast({ kind: "success", title: "Repository unlinked" }),
    onError: on412,
    onSettled: onChanged,
  });
  return (
    <li className="settings-row">
      <div className="grow">
        <div className="row">
          <span className="badge">{PROVIDERS[repo.provider].label}</span>
          <strong>{repo.full_name}</strong>
          <span className="small muted">default branch {repo.default_branch}</span>
        </div>
        <p className="small">
          Webhook URL <span className="mono break">{repo.webhook_url}</span>
        </p>
        <p className="small muted">
          {repo.secret_rotated_at ? `Secret replaced ${formatDateTime(repo.secret_rotated_at)}.` : `Linked ${formatDateTime(repo.created_at)}.`}
        </p>
        {admin && (
          <div className="row">
            <button
              type="button"
              onClick={() => {
                if (window.confirm(`Replace the secret of ${repo.full_name}? Deliveries signed with the old one are refused from now on.`)) rotate.mutate();
              }}
              disabled={rotate.isPending}
            >
              Rotate secret
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => {
                if (window.confirm(`Unlink ${repo.full_name}? Its deliveries are refused from now on.`)) unlink.mutate();
              }}
              disabled={unlink.isPending}
            >
              Unlink
            </button>
          </div>
        )}
        <details className="deliveries">
          <summary>Inbox: deliveries received</summary>
          <Inbox repo={repo} admin={admin} />
        </details>
      </div>
    </li>
  );
}

function Inbox({ repo, admin }: { repo: Repository; admin: boolean }) {
  const client = useQueryClient();
  const [state, setState] = useState<"" | Schemas["InboxState"]>("");
  const inbox = useQuery({
    queryKey: ["inbox", repo.id, state],
    queryFn: () =>
      ok(
        api.GET("/api/v1/repositories/{repository_id}/deliveries", {
          params: { path: { repository_id: repo.id }, query: { limit: 50, ...(state ? { state } : {}) } },
        }),
      ),
    select: (page) => page.data,
    refetchInterval: 15_000,
  });
  const redeliver = useMutation({
    mutationFn: (id: string) =>
      ok(api.POST("/api/v1/repositories/{repository_id}/deliveries/{inbound_delivery_id}/redeliver", { params: { path: { repository_id: repo.id, inbound_delivery_id: id } } })),
    onSuccess: () => toast({ kind: "success", title: "Delivery queued again", detail: "Takt processes it again from the body it kept." }),
    onSettled: () => void client.invalidateQueries({ queryKey: ["inbox", repo.id] }),
  });
  return (
    <div className="delivery-log">
      <div className="field inline">
        <label htmlFor={`inbox-state-${repo.id}`}>Show</label>
        <select id={`inbox-state-${repo.id}`} value={state} onChange={(e) => setState(e.target.value as typeof state)}>
          <option value="">All deliveries</option>
          <option value="received">Received</option>
          <option value="retrying">Retrying</option>
          <option value="processed">Processed</option>
          <option value="ignored">Ignored</option>
          <option value="failed">Failed</option>
        </select>
      </div>
      {inbox.isPending ? (
        <SkeletonRows rows={3} />
      ) : inbox.isError ? (
        <ErrorState error={inbox.error} retry={() => void inbox.refetch()} />
      ) : inbox.data.length === 0 ? (
        <p className="small muted">
          {state ? `No ${state} deliveries.` : `Nothing received yet: add the webhook on ${PROVIDERS[repo.provider].label} with the URL above, then push or open a pull request.`}
        </p>
      ) : (
        <div className="table-scroll" role="region" aria-label={`Deliveries from ${repo.full_name}`} tabIndex={0}>
          <table className="settings-table">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">State</th>
                <th scope="col">Attempts</th>
                <th scope="col">Reason</th>
                <th scope="col">Received</th>
                {admin && (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {inbox.data.map((d) => (
                <tr key={d.id}>
                  <td className="mono">
                    {d.event}
                    {d.action && `.${d.action}`}
                  </td>
                  <td>
                    <span className={`badge ${inboxTone(d.state)}`}>{d.state}</span>
                  </td>
                  <td>{d.attempts}</td>
                  <td className="small">{d.reason ?? "–"}</td>
                  <td className="nowrap">{formatDateTime(d.received_at)}</td>
                  {admin && (
                    <td>
                      {canRedeliver(d.state) && (
                        <button type="button" onClick={() => redeliver.mutate(d.id)} disabled={redeliver.isPending}>
                          Redeliver
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
