import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, etagOf, ok, type Schemas } from "../../api/client";
import { ApiError, describeError } from "../../api/problem";
import { useProject } from "../../app/project";
import { SecretOnce } from "../../components/SecretOnce";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { toast } from "../../components/toasts";
import { formatDateTime } from "../../lib/format";
import { attemptsLabel, deliveryTone, parseEventTypes } from "./logic";

type Webhook = Schemas["WebhookRead"];
type Delivery = Schemas["DeliveryRead"];

/** Outgoing webhooks (admins): create (the secret shown once), switch on and off, the delivery log. */
export default function Webhooks({ admin }: { admin: boolean }) {
  const project = useProject();
  const client = useQueryClient();
  const [secret, setSecret] = useState<{ label: string; value: string } | null>(null);
  const hooks = useQuery({
    queryKey: ["webhooks", project.key],
    queryFn: () => ok(api.GET("/api/v1/projects/{project_key}/webhooks", { params: { path: { project_key: project.key }, query: { limit: 100 } } })),
    select: (page) => page.data,
  });
  const invalidate = () => void client.invalidateQueries({ queryKey: ["webhooks", project.key] });
  return (
    <section aria-labelledby="webhooks-heading" className="settings-section">
      <h2 id="webhooks-heading">Webhooks</h2>
      <p className="small muted">
        Takt POSTs the project's events to your endpoints, signed (Standard Webhooks), retried for up to a day; or sends chosen
        events to a Slack channel.
      </p>
      {secret && <SecretOnce label={secret.label} secret={secret.value} onDone={() => setSecret(null)} />}
      {admin && (
        <CreateWebhook
          projectKey={project.key}
          onCreated={(hook) => {
            setSecret({ label: `Signing secret of ${hook.url}`, value: hook.secret });
            invalidate();
          }}
        />
      )}
      {hooks.isPending ? (
        <SkeletonRows rows={3} />
      ) : hooks.isError ? (
        <ErrorState error={hooks.error} retry={() => void hooks.refetch()} />
      ) : hooks.data.length === 0 ? (
        <EmptyState title="No webhooks yet">Create one above with your endpoint's URL and the events it wants; then send it a test ping.</EmptyState>
      ) : (
        <ul className="settings-list" data-testid="webhooks">
          {hooks.data.map((hook) => (
            <WebhookRow
              key={hook.id}
              hook={hook}
              admin={admin}
              onChanged={invalidate}
              onSecret={(value) => setSecret({ label: `New signing secret of ${hook.url}`, value })}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function CreateWebhook({ projectKey, onCreated }: { projectKey: string; onCreated: (hook: Schemas["WebhookWithSecret"]) => void }) {
  const [url, setUrl] = useState("");
  const [kind, setKind] = useState<Schemas["WebhookKind"]>("standard");
  const [events, setEvents] = useState("*");
  const [description, setDescription] = useState("");
  const types = useQuery({ queryKey: ["event-types"], queryFn: () => ok(api.GET("/api/v1/event-types")), staleTime: Infinity });
  const create = useMutation({
    meta: { handlesError: true },
    mutationFn: () =>
      ok(
        api.POST("/api/v1/projects/{project_key}/webhooks", {
          params: { path: { project_key: projectKey } },
          body: { url: url.trim(), kind, event_types: parseEventTypes(events), description: description.trim() || null },
        }),
      ),
    onSuccess: (hook) => {
      setUrl("");
      setDescription("");
      onCreated(hook);
    },
  });
  const error = create.error ? describeError(create.error) : null;
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate();
  }
  return (
    <details className="card settings-add">
      <summary>Create a webhook</summary>
      <form onSubmit={submit} aria-label="Create a webhook">
        {error && (
          <div className="form-error" role="alert">
            <strong>{error.title}</strong> {error.detail}
          </div>
        )}
        <div className="field">
          <label htmlFor="hook-url">Endpoint URL</label>
          <input id="hook-url" type="url" required maxLength={2048} placeholder="https://example.com/takt" value={url} onChange={(e) => setUrl(e.target.value)} />
        </div>
        <div className="row align-end">
          <div className="field">
            <label htmlFor="hook-kind">Kind</label>
            <select id="hook-kind" value={kind} onChange={(e) => setKind(e.target.value as Schemas["WebhookKind"])}>
              <option value="standard">Signed JSON (Standard Webhooks)</option>
              <option value="slack">Slack incoming webhook</option>
            </select>
          </div>
          <div className="field grow">
            <label htmlFor="hook-events">
              Events <span className="hint">types or families (item.*), separated by commas; * for all</span>
            </label>
            <input id="hook-events" list="hook-event-types" value={events} onChange={(e) => setEvents(e.target.value)} />
            <datalist id="hook-event-types">
              {(types.data?.data ?? []).map((t) => (
                <option key={t.type} value={t.type}>
                  {t.description}
                </option>
              ))}
            </datalist>
          </div>
        </div>
        <div className="field">
          <label htmlFor="hook-description">Description</label>
          <input id="hook-description" maxLength={255} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create webhook
        </button>
      </form>
    </details>
  );
}

function WebhookRow({ hook, admin, onChanged, onSecret }: { hook: Webhook; admin: boolean; onChanged: () => void; onSecret: (secret: string) => void }) {
  const client = useQueryClient();
  const ifMatch = { "if-match": etagOf(hook.version) };
  const path = { webhook_id: hook.id };
  const on412 = (error: unknown) => {
    if (error instanceof ApiError && error.status === 412) onChanged();
  };
  const toggle = useMutation({
    mutationFn: () => ok(api.PATCH("/api/v1/webhooks/{webhook_id}", { params: { path, header: ifMatch }, body: { enabled: !hook.enabled } })),
    onSuccess: (h) => toast({ kind: "success", title: h.enabled ? "Webhook enabled" : "Webhook disabled" }),
    onError: on412,
    onSettled: onChanged,
  });
  const ping = useMutation({
    mutationFn: () => ok(api.POST("/api/v1/webhooks/{webhook_id}/test", { params: { path } })),
    onSuccess: () => {
      toast({ kind: "success", title: "Test ping queued", detail: "It appears in the delivery log." });
      void client.invalidateQueries({ queryKey: ["deliveries", hook.id] });
    },
  });
  const rotate = useMutation({
    mutationFn: () => ok(api.POST("/api/v1/webhooks/{webhook_id}/rotate-secret", { params: { path, header: ifMatch }, body: null })),
    onSuccess: (h) => onSecret(h.secret),
    onError: on412,
    onSettled: onChanged,
  });
  const remove = useMutation({
    mutationFn: () => ok(api.DELETE("/api/v1/webhooks/{webhook_id}", { params: { path, header: ifMatch } })),
    onSuccess: () => toast({ kind: "success", title: "Webhook deleted" }),
    onError: on412,
    onSettled: onChanged,
  });
  return (
    <li className="settings-row webhook-row">
      <div className="grow">
        <div className="row">
          <strong className="truncate">{hook.url}</strong>
          <span className={`badge ${hook.enabled ? "success" : "danger"}`}>{hook.enabled ? "enabled" : "disabled"}</span>
          {hook.kind === "slack" && <span className="badge">Slack</span>}
        </div>
        {hook.description && <p className="small">{hook.description}</p>}
        <p className="small muted">
          Events: <span className="mono">{hook.event_types.join(", ")}</span>
        </p>
        {!hook.enabled && hook.disabled_reason && <p className="small">Disabled: {hook.disabled_reason}</p>}
        {hook.failing_since && <p className="small warning-text">Every attempt has failed since {formatDateTime(hook.failing_since)}.</p>}
        {hook.previous_secret_valid_until && (
          <p className="small muted">The previous secret also signs until {formatDateTime(hook.previous_secret_valid_until)}.</p>
        )}
        {admin && (
          <div className="row">
            <button type="button" onClick={() => toggle.mutate()} disabled={toggle.isPending}>
              {hook.enabled ? "Disable" : "Enable"}
            </button>
            <button type="button" onClick={() => ping.mutate()} disabled={ping.isPending || !hook.enabled}>
              Send a test ping
            </button>
            <button
              type="button"
              onClick={() => {
                if (window.confirm("Rotate the secret? The old one keeps signing for a day beside the new one.")) rotate.mutate();
              }}
              disabled={rotate.isPending}
            >
              Rotate secret
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => {
                if (window.confirm(`Delete the webhook to ${hook.url}?`)) remove.mutate();
              }}
              disabled={remove.isPending}
            >
              Delete
            </button>
          </div>
        )}
        {admin && (
          <details className="deliveries">
            <summary>Edit URL and events</summary>
            <EditWebhook hook={hook} onSaved={onChanged} />
          </details>
        )}
        <details className="deliveries">
          <summary>Delivery log</summary>
          <DeliveryLog hook={hook} admin={admin} />
        </details>
      </div>
    </li>
  );
}

function EditWebhook({ hook, onSaved }: { hook: Webhook; onSaved: () => void }) {
  const [url, setUrl] = useState(hook.kind === "slack" ? "" : hook.url);
  const [events, setEvents] = useState(hook.event_types.join(", "));
  const [description, setDescription] = useState(hook.description ?? "");
  const save = useMutation({
    meta: { handlesError: true },
    mutationFn: () => {
      const body: Schemas["WebhookUpdate"] = { event_types: parseEventTypes(events), description: description.trim() || null };
      // A Slack URL is never shown again: left empty, it stays as it is.
      if (url.trim() && url.trim() !== hook.url) body.url = url.trim();
      return ok(api.PATCH("/api/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: hook.id }, header: { "if-match": etagOf(hook.version) } }, body }));
    },
    onSuccess: () => toast({ kind: "success", title: "Webhook saved" }),
    onSettled: onSaved,
  });
  const error = save.error ? describeError(save.error) : null;
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }
  const id = hook.id;
  return (
    <form onSubmit={submit} aria-label={`Edit the webhook to ${hook.url}`} className="stack edit-webhook">
      {error && (
        <div className="form-error" role="alert">
          <strong>{error.title}</strong> {error.detail}
        </div>
      )}
      <div className="field">
        <label htmlFor={`hook-url-${id}`}>
          Endpoint URL {hook.kind === "slack" && <span className="hint">leave empty to keep the Slack URL</span>}
        </label>
        <input id={`hook-url-${id}`} type="url" maxLength={2048} required={hook.kind !== "slack"} value={url} onChange={(e) => setUrl(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`hook-events-${id}`}>Events</label>
        <input id={`hook-events-${id}`} list="hook-event-types" value={events} onChange={(e) => setEvents(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`hook-description-${id}`}>Description</label>
        <input id={`hook-description-${id}`} maxLength={255} value={description} onChange={(e) => setDescription(e.target.value)} />
      </div>
      <div>
        <button type="submit" disabled={save.isPending}>
          Save webhook
        </button>
      </div>
    </form>
  );
}

function DeliveryLog({ hook, admin }: { hook: Webhook; admin: boolean }) {
  const client = useQueryClient();
  const [state, setState] = useState<"" | Schemas["DeliveryState"]>("");
  const log = useQuery({
    queryKey: ["deliveries", hook.id, state],
    queryFn: () =>
      ok(api.GET("/api/v1/webhooks/{webhook_id}/deliveries", { params: { path: { webhook_id: hook.id }, query: { limit: 50, ...(state ? { state } : {}) } } })),
    select: (page) => page.data,
    refetchInterval: 15_000,
  });
  const retry = useMutation({
    mutationFn: (d: Delivery) => ok(api.POST("/api/v1/deliveries/{delivery_id}/retry", { params: { path: { delivery_id: d.id } } })),
    onSuccess: () => toast({ kind: "success", title: "Delivery queued again" }),
    onSettled: () => void client.invalidateQueries({ queryKey: ["deliveries", hook.id] }),
  });
  return (
    <div className="delivery-log">
      <div className="field inline">
        <label htmlFor={`dl-state-${hook.id}`}>Show</label>
        <select id={`dl-state-${hook.id}`} value={state} onChange={(e) => setState(e.target.value as typeof state)}>
          <option value="">All deliveries</option>
          <option value="pending">Pending</option>
          <option value="succeeded">Succeeded</option>
          <option value="failed">Failed</option>
          <option value="cancelled">Cancelled</option>
        </select>
      </div>
      {log.isPending ? (
        <SkeletonRows rows={3} />
      ) : log.isError ? (
        <ErrorState error={log.error} retry={() => void log.refetch()} />
      ) : log.data.length === 0 ? (
        <p className="small muted">{state ? `No ${state} deliveries.` : "Nothing sent yet: send a test ping, or wait for the next event it listens to."}</p>
      ) : (
        <div className="table-scroll" role="region" aria-label={`Deliveries to ${hook.url}`} tabIndex={0}>
          <table className="settings-table">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">State</th>
                <th scope="col">Attempts</th>
                <th scope="col">Response</th>
                <th scope="col">Created</th>
                {admin && (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {log.data.map((d) => (
                <tr key={d.id}>
                  <td className="mono">{d.event_type}</td>
                  <td>
                    <span className={`badge ${deliveryTone(d.state)}`}>{d.state}</span>
                  </td>
                  <td>{attemptsLabel(d.attempt_count)}</td>
                  <td>
                    {d.last_status ?? "–"}
                    {d.last_error && <span className="small muted"> {d.last_error}</span>}
                  </td>
                  <td className="nowrap">{formatDateTime(d.created_at)}</td>
                  {admin && (
                    <td>
                      <button type="button" onClick={() => retry.mutate(d)} disabled={retry.isPending || d.state === "pending" || !hook.enabled}>
                        Redeliver
                      </button>
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
