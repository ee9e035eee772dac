import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useDeferredValue, useState, type FormEvent } from "react";
import { api, ok, type Schemas } from "../../api/client";
import { describeError } from "../../api/problem";
import { useProject } from "../../app/project";
import { useMembers } from "../../app/projectData";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { toast } from "../../components/toasts";

type Role = Schemas["Role"];
const ROLES: { id: Role; label: string; hint: string }[] = [
  { id: "admin", label: "Admin", hint: "everything, settings included" },
  { id: "member", label: "Member", hint: "works on items, sprints and ceremonies" },
  { id: "viewer", label: "Viewer", hint: "reads only" },
];

/** The project's members and their roles; admins add people, change roles and remove them. */
export default function Members({ admin }: { admin: boolean }) {
  const project = useProject();
  const client = useQueryClient();
  const members = useMembers(project.key);
  const invalidate = () => void client.invalidateQueries({ queryKey: ["members", project.key] });
  const change = useMutation({
    mutationFn: ({ userId, role }: { userId: string; role: Role }) =>
      ok(api.PATCH("/api/v1/projects/{project_key}/members/{user_id}", { params: { path: { project_key: project.key, user_id: userId } }, body: { role } })),
    onSuccess: (m) => toast({ kind: "success", title: "Role changed", detail: `${m.user.display_name || m.user.username} is now ${m.role}.` }),
    onSettled: invalidate,
  });
  const remove = useMutation({
    mutationFn: (userId: string) =>
      ok(api.DELETE("/api/v1/projects/{project_key}/members/{user_id}", { params: { path: { project_key: project.key, user_id: userId } } })),
    onSuccess: () => toast({ kind: "success", title: "Member removed" }),
    onSettled: invalidate,
  });

  return (
    <section aria-labelledby="members-heading" className="settings-section">
      <h2 id="members-heading">Members and roles</h2>
      {admin && <AddMember projectKey={project.key} onAdded={invalidate} />}
      {members.isPending ? (
        <SkeletonRows rows={5} />
      ) : members.isError ? (
        <ErrorState error={members.error} retry={() => void members.refetch()} />
      ) : members.data.length === 0 ? (
        <EmptyState title="No members yet">{admin ? "Add someone above by their username or email." : "Ask an admin to add people."}</EmptyState>
      ) : (
        <ul className="settings-list" data-testid="members">
          {members.data.map((m) => {
            const name = m.user.display_name || m.user.username;
            return (
              <li key={m.user.id} className="settings-row">
                <span className="avatar" aria-hidden="true">
                  {name.slice(0, 1).toUpperCase()}
                </span>
                <div className="grow">
                  <strong>{name}</strong> <span className="muted small">@{m.user.username}</span>
                </div>
                {admin ? (
                  <>
                    <label className="visually-hidden" htmlFor={`role-${m.user.id}`}>
                      Role of {name}
                    </label>
                    <select
                      id={`role-${m.user.id}`}
                      value={m.role}
                      disabled={change.isPending}
                      onChange={(e) => change.mutate({ userId: m.user.id, role: e.target.value as Role })}
                    >
                      {ROLES.map((r) => (
                        <option key={r.id} value={r.id}>
                          {r.label}
                        </option>
                      ))}
                    </select>
                    <button
                      type="button"
                      className="danger"
                      aria-label={`Remove ${name}`}
                      disabled={remove.isPending}
                      onClick={() => {
                        if (window.confirm(`Remove ${name} from ${project.name}?`)) remove.mutate(m.user.id);
                      }}
                    >
                      Remove
                    </button>
                  </>
                ) : (
                  <span className="badge">{m.role}</span>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function AddMember({ projectKey, onAdded }: { projectKey: string; onAdded: () => void }) {
  const [who, setWho] = useState("");
  const [role, setRole] = useState<Role>("member");
  const query = useDeferredValue(who.trim());
  const users = useQuery({
    queryKey: ["users", query],
    queryFn: () => ok(api.GET("/api/v1/users", { params: { query: { q: query, limit: 10 } } })),
    enabled: query.length >= 2,
    staleTime: 30_000,
  });
  const add = useMutation({
    meta: { handlesError: true },
    mutationFn: () => {
      const name = who.trim().replace(/^@/, "");
      const body: Schemas["MemberAdd"] = name.includes("@") ? { email: name, role } : { username: name, role };
      return ok(api.POST("/api/v1/projects/{project_key}/members", { params: { path: { project_key: projectKey } }, body }));
    },
    onSuccess: (m) => {
      toast({ kind: "success", title: "Member added", detail: `${m.user.display_name || m.user.username} joined as ${m.role}.` });
      setWho("");
      onAdded();
    },
  });
  const error = add.error ? describeError(add.error) : null;
  function submit(e: FormEvent) {
    e.preventDefault();
    if (who.trim()) add.mutate();
  }
  return (
    <form className="card settings-add" onSubmit={submit} aria-label="Add a member">
      {error && (
        <div className="form-error" role="alert">
          <strong>{error.title}</strong> {error.detail}
        </div>
      )}
      <div className="row align-end">
        <div className="field grow">
          <label htmlFor="member-who">Username or email</label>
          <input id="member-who" list="member-suggestions" autoComplete="off" required value={who} onChange={(e) => setWho(e.target.value)} />
          <datalist id="member-suggestions">
            {(users.data?.data ?? []).map((u) => (
              <option key={u.id} value={u.username}>
                {u.display_name}
              </option>
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="member-role">Role</label>
          <select id="member-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}: {r.hint}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <button type="submit" className="primary" disabled={add.isPending}>
            Add member
          </button>
        </div>
      </div>
    </form>
  );
}
