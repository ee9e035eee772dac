import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import { api, ok, type Schemas } from "../../api/client";
import { toast } from "../../components/toasts";
import { ITEM_TYPES } from "../../lib/format";

/** One line to add an item at the bottom of the backlog: type, title, Enter. */
export function QuickCreate({ projectKey }: { projectKey: string }) {
  const [title, setTitle] = useState("");
  const [type, setType] = useState<Schemas["ItemType"]>("story");
  const input = useRef<HTMLInputElement>(null);
  const client = useQueryClient();
  const create = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/projects/{project_key}/items", {
          params: { path: { project_key: projectKey } },
          body: { title: title.trim(), type },
        }),
      ),
    onSuccess: (item) => {
      setTitle("");
      toast({ kind: "success", title: `Created ${item.key}`, detail: item.title });
      void client.invalidateQueries({ queryKey: ["items", projectKey] });
      input.current?.focus();
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    if (title.trim()) create.mutate();
  }
  return (
    <form className="quick-create row" onSubmit={submit} aria-label="Quick create">
      <label htmlFor="quick-type" className="visually-hidden">
        Type
      </label>
      <select id="quick-type" value={type} onChange={(e) => setType(e.target.value as Schemas["ItemType"])}>
        {ITEM_TYPES.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
      <label htmlFor="quick-title" className="visually-hidden">
        Title of the new item
      </label>
      <input
        id="quick-title"
        ref={input}
        className="quick-title"
        placeholder="Add an item to the bottom of the backlog…"
        maxLength={255}
        value={title}
        onChange={(e) => setTitle(e.target.value)}
      />
      <button type="submit" disabled={!title.trim() || create.isPending}>
        Add
      </button>
    </form>
  );
}
