import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { api, ok } from "../../api/client";
import { ApiError, describeError } from "../../api/problem";
import { Dialog } from "../../components/Dialog";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import "./projects.css";

export default function ProjectsScreen() {
  const projects = useQuery({
    queryKey: ["projects"],
    queryFn: () => ok(api.GET("/api/v1/projects", { params: { query: { limit: 100 } } })),
  });
  const [creating, setCreating] = useState(false);
  const newButton = (
    <button type="button" className="primary" onClick={() => setCreating(true)}>
      New project
    </button>
  );
  return (
    <>
      <PageHeader title="Projects" subtitle="The projects you're a member of." actions={newButton} />
      {projects.isPending && <SkeletonRows rows={3} />}
      {projects.isError && <ErrorState error={projects.error} retry={() => void projects.refetch()} />}
      {projects.data && projects.data.data.length === 0 && (
        <EmptyState title="No projects yet" action={newButton}>
          Create a project for your team, or ask a project admin to add you to theirs.
        </EmptyState>
      )}
      {projects.data && projects.data.data.length > 0 && (
        <ul className="project-grid">
          {projects.data.data.map((p) => (
            <li key={p.id} className="card project-card">
              <div className="row">
                <span className="badge accent mono">{p.key}</span>
                {p.role && <span className="badge">{p.role}</span>}
              </div>
              <h2>
                <Link to={`/p/${p.key}/backlog`}>{p.name}</Link>
              </h2>
              {p.description && <p className="muted small">{p.description}</p>}
              <nav aria-label={`${p.name} screens`} className="row small">
                <Link to={`/p/${p.key}/backlog`}>Backlog</Link>
                <Link to={`/p/${p.key}/board`}>Board</Link>
                <Link to={`/p/${p.key}/sprints`}>Sprints</Link>
              </nav>
            </li>
          ))}
        </ul>
      )}
      <Dialog open={creating} onClose={() => setCreating(false)} title="New project">
        <CreateProject onDone={() => setCreating(false)} />
      </Dialog>
    </>
  );
}

function CreateProject({ onDone }: { onDone: () => void }) {
  const [key, setKey] = useState("");
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const client = useQueryClient();
  const navigate = useNavigate();
  const create = useMutation({
    meta: { handlesError: true },
    mutationFn: () =>
      ok(api.POST("/api/v1/projects", { body: { key: key.trim().toUpperCase(), name: name.trim(), description } })),
    onSuccess: (project) => {
      void client.invalidateQueries({ queryKey: ["projects"] });
      onDone();
      navigate(`/p/${project.key}/backlog`);
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate();
  }
  const error = create.error ? describeError(create.error) : null;
  const fieldError = (pointer: string) =>
    create.error instanceof ApiError ? create.error.errors.find((f) => f.pointer === pointer)?.message : undefined;
  return (
    <form onSubmit={submit}>
      {error && (
        <div className="form-error" role="alert">
          <strong>{error.title}</strong> {error.detail}
        </div>
      )}
      <div className="field">
        <label htmlFor="project-key">
          Key <span className="hint">2–10 capital letters or digits, e.g. API; item keys start with it.</span>
        </label>
        <input
          id="project-key"
          required
          pattern="[A-Za-z][A-Za-z0-9]{1,9}"
          maxLength={10}
          value={key}
          onChange={(e) => setKey(e.target.value.toUpperCase())}
          aria-invalid={fieldError("/key") ? true : undefined}
        />
      </div>
      <div className="field">
        <label htmlFor="project-name">Name</label>
        <input id="project-name" required maxLength={255} value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="project-description">Description</label>
        <textarea
          id="project-description"
          maxLength={65536}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
      </div>
      <div className="row">
        <span className="spacer" />
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create project
        </button>
      </div>
    </form>
  );
}
