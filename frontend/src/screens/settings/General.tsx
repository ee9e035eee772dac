import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, etagOf, ok, type Schemas } from "../../api/client";
import { ApiError, describeError } from "../../api/problem";
import { useProject } from "../../app/project";
import { toast } from "../../components/toasts";
import { DOR_MAX_ENTRIES, DOR_MAX_TEXT, dorToSend, timeZones, toggleDay, WEEKDAYS, type DorEntry } from "./logic";

type Settings = Schemas["ProjectSettings"];

/** Name, description and the project's settings, saved in one PATCH (If-Match: no lost update). */
export default function General({ admin }: { admin: boolean }) {
  const project = useProject();
  // A new version of the project (saved here or elsewhere) starts the form again from it.
  return <GeneralForm key={project.version} admin={admin} />;
}

function GeneralForm({ admin }: { admin: boolean }) {
  const project = useProject();
  const client = useQueryClient();
  const s = project.settings;
  const [name, setName] = useState(project.name);
  const [description, setDescription] = useState(project.description);
  const [zone, setZone] = useState(s.time_zone ?? "UTC");
  const [days, setDays] = useState<Schemas["Weekday"][]>(s.working_days ?? []);
  const [sprintDays, setSprintDays] = useState(String(s.sprint_length_days ?? 14));
  const [scale, setScale] = useState<Schemas["EstimateScale"]>(s.estimate_scale ?? "fibonacci");
  const [start, setStart] = useState(s.workday_start ?? "09:00");
  const [end, setEnd] = useState(s.workday_end ?? "17:00");
  const [escalation, setEscalation] = useState(String(s.blocker_escalation_hours ?? 16));
  const [automation, setAutomation] = useState(s.review_automation ?? false);
  const [dor, setDor] = useState<DorEntry[]>(s.definition_of_ready ?? []);
  const [formError, setFormError] = useState<string | null>(null);
  const zones = timeZones(zone);

  const save = useMutation({
    meta: { handlesError: true },
    mutationFn: (settings: Schemas["ProjectSettingsUpdate"]) =>
      ok(
        api.PATCH("/api/v1/projects/{project_key}", {
          params: { path: { project_key: project.key }, header: { "if-match": etagOf(project.version) } },
          body: { name: name.trim(), description, settings },
        }),
      ),
    onSuccess: (saved) => {
      client.setQueryData(["project", project.key], saved);
      void client.invalidateQueries({ queryKey: ["projects"] });
      toast({ kind: "success", title: "Settings saved" });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 412) void client.invalidateQueries({ queryKey: ["project", project.key] });
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    setFormError(null);
    if (!days.length) return setFormError("Pick at least one working day.");
    const sent = dorToSend(dor);
    if ("error" in sent) return setFormError(sent.error);
    const settings: Settings = {
      time_zone: zone,
      working_days: days,
      sprint_length_days: Number(sprintDays),
      estimate_scale: scale,
      workday_start: start,
      workday_end: end,
      blocker_escalation_hours: Number(escalation),
      review_automation: automation,
      definition_of_ready: sent.entries,
    };
    save.mutate(settings);
  }

  const error = save.error ? describeError(save.error) : null;
  return (
    <form className="settings-form" onSubmit={submit} aria-label="Project settings">
      {(error || formError) && (
        <div className="form-error" role="alert">
          {error ? (
            <>
              <strong>{error.title}</strong> {error.detail}
              {save.error instanceof ApiError && save.error.status === 412 && " The form now shows the latest settings: make your change again."}
            </>
          ) : (
            formError
          )}
        </div>
      )}
      <fieldset disabled={!admin || save.isPending}>
        <legend>Project</legend>
        <div className="field">
          <label htmlFor="set-name">Name</label>
          <input id="set-name" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="set-description">
            Description <span className="hint">Markdown</span>
          </label>
          <textarea id="set-description" maxLength={65536} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <p className="small muted">
          Key <span className="mono">{project.key}</span> (it can't change).
        </p>
      </fieldset>

      <fieldset disabled={!admin || save.isPending}>
        <legend>Calendar</legend>
        <div className="field">
          <label htmlFor="set-zone">Time zone</label>
          <select id="set-zone" value={zone} onChange={(e) => setZone(e.target.value)}>
            {zones.map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
        </div>
        <fieldset className="days">
          <legend>Working days</legend>
          {WEEKDAYS.map((d) => (
            <label key={d.id} className="check">
              <input type="checkbox" checked={days.includes(d.id)} onChange={(e) => setDays(toggleDay(days, d.id, e.target.checked))} />
              {d.label}
            </label>
          ))}
        </fieldset>
        <div className="settings-grid">
          <div className="field">
            <label htmlFor="set-start">Working day starts</label>
            <input id="set-start" type="time" required value={start} onChange={(e) => setStart(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="set-end">Working day ends</label>
            <input id="set-end" type="time" required value={end} onChange={(e) => setEnd(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="set-sprint">Sprint length (days)</label>
            <input id="set-sprint" type="number" min={1} max={90} required value={sprintDays} onChange={(e) => setSprintDays(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="set-escalation">Escalate blockers after (working hours)</label>
            <input id="set-escalation" type="number" min={1} required value={escalation} onChange={(e) => setEscalation(e.target.value)} />
          </div>
        </div>
      </fieldset>

      <fieldset disabled={!admin || save.isPending}>
        <legend>Estimates and review</legend>
        <div className="field">
          <label htmlFor="set-scale">Estimate scale</label>
          <select id="set-scale" value={scale} onChange={(e) => setScale(e.target.value as Schemas["EstimateScale"])}>
            <option value="fibonacci">Fibonacci (0, ½, 1, 2, 3, 5, 8, 13, 20, 40, 100)</option>
            <option value="tshirt">T-shirt sizes (XS, S, M, L, XL)</option>
          </select>
        </div>
        <label className="check">
          <input type="checkbox" checked={automation} onChange={(e) => setAutomation(e.target.checked)} />
          Pull requests move the items they name (ready for review → in review, merged → done)
        </label>
      </fieldset>

      <fieldset disabled={!admin || save.isPending}>
        <legend>Definition of Ready</legend>
        <p className="small muted">
          Besides an estimate and a description, what an item must have ticked to be ready (up to {DOR_MAX_ENTRIES}).
        </p>
        {dor.length === 0 && <p className="small">No entries: an estimate and a description are enough. {admin && "Add one below."}</p>}
        <ol className="dor-list">
          {dor.map((entry, i) => (
            <li key={entry.id ?? `new-${i}`} className="row">
              <label className="visually-hidden" htmlFor={`dor-${i}`}>
                Entry {i + 1}
              </label>
              <input
                id={`dor-${i}`}
                maxLength={DOR_MAX_TEXT}
                value={entry.text}
                onChange={(e) => setDor(dor.map((d, j) => (j === i ? { ...d, text: e.target.value } : d)))}
              />
              <button type="button" className="ghost" aria-label={`Remove entry ${i + 1}`} onClick={() => setDor(dor.filter((_, j) => j !== i))}>
                Remove
              </button>
            </li>
          ))}
        </ol>
        <button type="button" disabled={dor.length >= DOR_MAX_ENTRIES} onClick={() => setDor([...dor, { text: "" }])}>
          Add an entry
        </button>
      </fieldset>

      {admin && (
        <div className="row">
          <button type="submit" className="primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : "Save settings"}
          </button>
        </div>
      )}
    </form>
  );
}
