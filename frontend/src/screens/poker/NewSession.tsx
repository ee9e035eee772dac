import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { api, ok, type Schemas } from "../../api/client";
import { describeError } from "../../api/problem";
import { SkeletonRows } from "../../components/States";

const MAX_ITEMS = 50;

/** Pick items (the refinement queue's unestimated ones first, or any keys), then start. */
export function NewSession({ projectKey, defaultScale, onDone }: { projectKey: string; defaultScale: Schemas["EstimateScale"]; onDone: () => void }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const queue = useQuery({
    queryKey: ["items", projectKey, "refinement"],
    queryFn: () => ok(api.GET("/api/v1/projects/{project_key}/refinement", { params: { path: { project_key: projectKey }, query: { limit: 50 } } })),
  });
  const candidates = (queue.data?.data ?? []).filter((i) => i.estimate === null).slice(0, 20);
  const [title, setTitle] = useState("Planning poker");
  const [picked, setPicked] = useState<string[]>([]);
  const [others, setOthers] = useState("");
  const [scale, setScale] = useState<Schemas["ScaleKind"]>(defaultScale);
  const [unsure, setUnsure] = useState(true);
  const keys = [
    ...picked,
    ...others
      .split(/[\s,]+/)
      .map((k) => k.trim().toUpperCase())
      .filter(Boolean),
  ].filter((k, i, all) => all.indexOf(k) === i);
  const create = useMutation({
    meta: { handlesError: true },
    mutationFn: () =>
      ok(
        api.POST("/api/v1/projects/{project_key}/estimations", {
          params: { path: { project_key: projectKey } },
          body: { title: title.trim() || "Planning poker", item_keys: keys, scale, unsure_card: unsure },
        }),
      ),
    onSuccess: (s) => {
      void client.invalidateQueries({ queryKey: ["estimations", projectKey] });
      onDone();
      navigate(`/p/${projectKey}/poker/${s.id}`);
    },
  });
  const error = create.error ? describeError(create.error) : null;
  function submit(e: FormEvent) {
    e.preventDefault();
    if (keys.length) create.mutate();
  }
  function toggle(key: string, on: boolean) {
    setPicked((list) => (on ? [...list, key] : list.filter((k) => k !== key)));
  }
  return (
    <form onSubmit={submit}>
      {error && (
        <div className="form-error" role="alert">
          <strong>{error.title}</strong> {error.detail}
        </div>
      )}
      <div className="field">
        <label htmlFor="poker-title">Title</label>
        <input id="poker-title" maxLength={255} value={title} onChange={(e) => setTitle(e.target.value)} />
      </div>
      <fieldset className="poker-pick">
        <legend>Items without an estimate, top of the backlog first</legend>
        {queue.isPending && <SkeletonRows rows={3} />}
        {queue.data && candidates.length === 0 && <p className="small muted">Every item at the top of the backlog has an estimate.</p>}
        <ul>
          {candidates.map((item) => (
            <li key={item.key}>
              <label className="choice">
                <input type="checkbox" checked={picked.includes(item.key)} onChange={(e) => toggle(item.key, e.target.checked)} />
                <span className="mono">{item.key}</span> {item.title}
              </label>
            </li>
          ))}
        </ul>
      </fieldset>
      <div className="field">
        <label htmlFor="poker-keys">
          Other items <span className="hint">keys, separated by commas</span>
        </label>
        <input id="poker-keys" value={others} onChange={(e) => setOthers(e.target.value)} placeholder="DEMO-12, DEMO-14" />
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor="poker-scale">Deck</label>
          <select id="poker-scale" value={scale} onChange={(e) => setScale(e.target.value as Schemas["ScaleKind"])}>
            <option value="fibonacci">Fibonacci (0, ½, 1, 2, 3, 5, 8, 13…)</option>
            <option value="tshirt">T-shirt sizes (XS–XXL)</option>
          </select>
        </div>
        <label className="choice">
          <input type="checkbox" checked={unsure} onChange={(e) => setUnsure(e.target.checked)} /> A “?” card
        </label>
      </div>
      <p className="small muted" aria-live="polite">
        {keys.length} of at most {MAX_ITEMS} items; every member and admin votes.
      </p>
      <div className="row">
        <button type="submit" className="primary" disabled={create.isPending || keys.length === 0 || keys.length > MAX_ITEMS}>
          Start session
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
