import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { api, ok, type Schemas } from "../../api/client";
import { describeError } from "../../api/problem";

type Template = Schemas["RetroTemplate"];
const TEMPLATES: { id: Template; label: string }[] = [
  { id: "start_stop_continue", label: "Start, Stop, Continue" },
  { id: "mad_sad_glad", label: "Mad, Sad, Glad" },
  { id: "4ls", label: "Liked, Learned, Lacked, Longed for" },
  { id: "went_well", label: "Went well, To improve, Ideas" },
  { id: "custom", label: "My own prompts" },
];

export function NewRetro({ projectKey, onDone }: { projectKey: string; onDone: () => void }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const sprints = useQuery({
    queryKey: ["sprints", projectKey],
    queryFn: () => ok(api.GET("/api/v1/projects/{project_key}/sprints", { params: { path: { project_key: projectKey }, query: { limit: 100 } } })),
  });
  const candidates = (sprints.data?.data ?? []).filter((s) => s.state === "active" || s.state === "completed");
  const [title, setTitle] = useState("");
  const [template, setTemplate] = useState<Template>("start_stop_continue");
  const [prompts, setPrompts] = useState("");
  const [sprintId, setSprintId] = useState<string | null>(null);
  const [anonymous, setAnonymous] = useState(true);
  const [hide, setHide] = useState(true);
  const [budget, setBudget] = useState(5);
  const [perGroup, setPerGroup] = useState(3);
  const chosenSprint = sprintId ?? candidates.find((s) => s.state === "active")?.id ?? "";
  const create = useMutation({
    meta: { handlesError: true },
    mutationFn: () =>
      ok(
        api.POST("/api/v1/projects/{project_key}/retros", {
          params: { path: { project_key: projectKey } },
          body: {
            ...(title.trim() ? { title: title.trim() } : {}),
            template,
            ...(template === "custom"
              ? {
                  prompts: prompts
                    .split("\n")
                    .map((p) => p.trim())
                    .filter(Boolean),
                }
              : {}),
            sprint_id: chosenSprint || null,
            anonymous,
            hide_cards_during_collect: hide,
            vote_budget: budget,
            max_votes_per_group: Math.min(perGroup, budget),
          },
        }),
      ),
    onSuccess: (retro) => {
      void client.invalidateQueries({ queryKey: ["retros", projectKey] });
      onDone();
      navigate(`/p/${projectKey}/retros/${retro.id}`);
    },
  });
  const error = create.error ? describeError(create.error) : null;
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate();
  }
  return (
    <form onSubmit={submit}>
      {error && (
        <div className="form-error" role="alert">
          <strong>{error.title}</strong> {error.detail}
        </div>
      )}
      <div className="field">
        <label htmlFor="retro-title">
          Title <span className="hint">default: the sprint's name or today's date</span>
        </label>
        <input id="retro-title" maxLength={255} value={title} onChange={(e) => setTitle(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="retro-template">Prompts</label>
        <select id="retro-template" value={template} onChange={(e) => setTemplate(e.target.value as Template)}>
          {TEMPLATES.map((t) => (
            <option key={t.id} value={t.id}>
              {t.label}
            </option>
          ))}
        </select>
      </div>
      {template === "custom" && (
        <div className="field">
          <label htmlFor="retro-prompts">
            Your prompts <span className="hint">one per line, up to 8</span>
          </label>
          <textarea id="retro-prompts" required value={prompts} onChange={(e) => setPrompts(e.target.value)} />
        </div>
      )}
      <div className="field">
        <label htmlFor="retro-sprint">
          Sprint <span className="hint">its data opens the retro as evidence cards</span>
        </label>
        <select id="retro-sprint" value={chosenSprint} onChange={(e) => setSprintId(e.target.value)}>
          <option value="">No sprint</option>
          {candidates.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name} ({s.state})
            </option>
          ))}
        </select>
      </div>
      <label className="choice">
        <input type="checkbox" checked={anonymous} onChange={(e) => setAnonymous(e.target.checked)} /> Anonymous cards (fixed once created)
      </label>
      <label className="choice">
        <input type="checkbox" checked={hide} onChange={(e) => setHide(e.target.checked)} /> Hide others' cards until grouping
      </label>
      <div className="row">
        <div className="field">
          <label htmlFor="retro-budget">Votes each</label>
          <input id="retro-budget" type="number" min={1} max={20} value={budget} onChange={(e) => setBudget(Number(e.target.value))} />
        </div>
        <div className="field">
          <label htmlFor="retro-per-group">At most on one group</label>
          <input id="retro-per-group" type="number" min={1} max={Math.max(1, Math.min(20, budget))} value={perGroup} onChange={(e) => setPerGroup(Number(e.target.value))} />
        </div>
      </div>
      <div className="row">
        <button type="submit" className="primary" disabled={create.isPending}>
          Start retro
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
