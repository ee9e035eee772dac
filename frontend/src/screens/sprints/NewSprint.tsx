import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { api, ok } from "../../api/client";
import { describeError } from "../../api/problem";
import { sprintsKey } from "./queries";

export function NewSprint({ projectKey, onDone }: { projectKey: string; onDone: () => void }) {
  const [name, setName] = useState("");
  const [goal, setGoal] = useState("");
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const client = useQueryClient();
  const navigate = useNavigate();
  const create = useMutation({
    meta: { handlesError: true },
    mutationFn: () =>
      ok(
        api.POST("/api/v1/projects/{project_key}/sprints", {
          params: { path: { project_key: projectKey } },
          body: { name: name.trim(), goal, start_date: start || null, end_date: end || null },
        }),
      ),
    onSuccess: (sprint) => {
      void client.invalidateQueries({ queryKey: sprintsKey(projectKey) });
      onDone();
      navigate(`/p/${projectKey}/sprints/${sprint.id}`);
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate();
  }
  const error = create.error ? describeError(create.error) : null;
  return (
    <form onSubmit={submit}>
      {error && (
        <div className="form-error" role="alert">
          <strong>{error.title}</strong> {error.detail}
        </div>
      )}
      <div className="field">
        <label htmlFor="sprint-name">Name</label>
        <input id="sprint-name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="sprint-goal">Goal</label>
        <input id="sprint-goal" maxLength={2000} value={goal} onChange={(e) => setGoal(e.target.value)} />
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor="sprint-start">
            Start <span className="hint">default: after the last sprint</span>
          </label>
          <input id="sprint-start" type="date" value={start} onChange={(e) => setStart(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="sprint-end">
            End <span className="hint">default: the sprint length</span>
          </label>
          <input id="sprint-end" type="date" value={end} onChange={(e) => setEnd(e.target.value)} />
        </div>
      </div>
      <div className="row">
        <span className="spacer" />
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create sprint
        </button>
      </div>
    </form>
  );
}
