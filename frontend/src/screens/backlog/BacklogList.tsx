import {
  closestCenter,
  DndContext,
  KeyboardSensor,
  PointerSensor,
  TouchSensor,
  useSensor,
  useSensors,
  type DragEndEvent,
} from "@dnd-kit/core";
import { SortableContext, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { useInfiniteQuery, useMutation, useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { useMemo, useRef, useState, type MouseEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, ok } from "../../api/client";
import type { Project } from "../../app/project";
import { Estimate, Person, PriorityBadge, StatusBadge, TypeIcon } from "../../components/ItemBits";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { toast } from "../../components/toasts";
import { arrayMove, moveBodyFor, type MoveBody } from "../../lib/reorder";
import { FilterBar } from "./FilterBar";
import { pruneSelection, toggleSelection, type BulkOutcome } from "./bulk";
import { BulkBar, BulkFailures } from "./BulkBar";
import { backlogKey, fetchBacklogPage, type ItemPage, type ItemSummary } from "./queries";
import { QuickCreate } from "./QuickCreate";

type MoveVars = { item: string; body: MoveBody; from: number; to: number };

export const DEFAULT_QUERY = "-category:done -category:cancelled";

export function BacklogList({ project }: { project: Project }) {
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? DEFAULT_QUERY;
  const key = backlogKey(project.key, q);
  const client = useQueryClient();
  const items = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam }) => fetchBacklogPage(project.key, q, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const list = useMemo(() => items.data?.pages.flatMap((p) => p.data) ?? [], [items.data]);
  const keys = useMemo(() => list.map((i) => i.key), [list]);
  const canWrite = project.role === "admin" || project.role === "member";
  // Bulk edit: the checked items (of those listed), and the last one clicked for Shift ranges.
  const [checked, setChecked] = useState<ReadonlySet<string>>(new Set());
  const anchor = useRef<string | null>(null);
  const [refused, setRefused] = useState<BulkOutcome | null>(null);
  const selected = useMemo(() => {
    const listed = pruneSelection(checked, keys);
    return list.filter((i) => listed.has(i.key));
  }, [checked, keys, list]);
  function onCheck(key: string, event: MouseEvent<HTMLInputElement>) {
    const from = anchor.current; // read now: the updater runs later, after the anchor moved
    const range = event.shiftKey;
    setChecked((now) => toggleSelection(pruneSelection(now, keys), keys, key, from, range));
    anchor.current = key;
  }
  const allChecked = list.length > 0 && selected.length === list.length;

  const move = useMutation({
    mutationFn: ({ item, body }: MoveVars) =>
      ok(api.POST("/api/v1/items/{item_key}/move", { params: { path: { item_key: item } }, body })),
    onMutate: async ({ from, to }: MoveVars) => {
      await client.cancelQueries({ queryKey: key });
      const before = client.getQueryData<InfiniteData<ItemPage>>(key);
      if (before) client.setQueryData(key, reorderPages(before, from, to));
      return { before };
    },
    onError: (_error, _vars, context) => {
      if (context?.before) client.setQueryData(key, context.before);
    },
    onSettled: () => void client.invalidateQueries({ queryKey: ["items", project.key] }),
  });

  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 5 } }),
    useSensor(TouchSensor, { activationConstraint: { delay: 200, tolerance: 8 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );

  function onDragEnd(event: DragEndEvent) {
    const { active, over } = event;
    if (!over || active.id === over.id) return;
    const from = keys.indexOf(String(active.id));
    const to = keys.indexOf(String(over.id));
    const body = moveBodyFor(keys, from, to);
    if (!body) return;
    move.mutate({ item: String(active.id), body, from, to });
    toast({ kind: "success", title: `Moved ${String(active.id)}`, detail: "before" in body ? `before ${body.before}` : `after ${body.after}` }, 2500);
  }

  function setQuery(next: string) {
    const p = new URLSearchParams(params);
    p.set("q", next);
    setParams(p, { replace: true });
  }

  const facets = items.data?.pages[0]?.facets ?? null;
  return (
    <section aria-label="Ranked backlog" className="stack">
      <FilterBar query={q} onQuery={setQuery} facets={facets} defaultQuery={DEFAULT_QUERY} />
      {canWrite && <QuickCreate projectKey={project.key} />}
      {items.isPending && <SkeletonRows />}
      {items.isError && <ErrorState error={items.error} retry={() => void items.refetch()} />}
      {items.data && list.length === 0 && (
        <EmptyState title={q === DEFAULT_QUERY ? "The backlog is empty" : "No items match this filter"}>
          {q === DEFAULT_QUERY
            ? "Add the first item with the form above; drag items to rank them."
            : "Change the filter, or clear it to see the whole backlog."}
        </EmptyState>
      )}
      {canWrite && selected.length > 0 && (
        <BulkBar
          project={project}
          selected={selected}
          onStart={() => setRefused(null)}
          onDone={(outcome) => {
            // The refused items stay selected (those still listed), to fix and apply again.
            setChecked(new Set(outcome.failed.map((f) => f.key)));
            setRefused(outcome.failed.length ? outcome : null);
          }}
          onClear={() => setChecked(new Set())}
        />
      )}
      {refused && <BulkFailures outcome={refused} onDismiss={() => setRefused(null)} />}
      {canWrite && list.length > 0 && (
        <div className="row select-all small">
          <input
            id="backlog-select-all"
            type="checkbox"
            checked={allChecked}
            ref={(el) => {
              if (el) el.indeterminate = selected.length > 0 && !allChecked;
            }}
            onChange={() => setChecked(allChecked ? new Set() : new Set(keys))}
          />
          <label htmlFor="backlog-select-all">
            {allChecked ? "Clear the selection" : `Select all ${list.length} shown`}
          </label>
          <span className="muted select-hint">· tick items to edit several at once (Shift selects a range)</span>
        </div>
      )}
      {list.length > 0 && (
        <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onDragEnd} accessibility={{ screenReaderInstructions }}>
          <SortableContext items={keys} strategy={verticalListSortingStrategy}>
            <ol className="backlog-list" aria-label="Backlog items in rank order" data-testid="backlog-list">
              {list.map((item, index) => (
                <BacklogRow
                  key={item.key}
                  item={item}
                  rank={index + 1}
                  draggable={canWrite}
                  checked={canWrite ? checked.has(item.key) : undefined}
                  onCheck={onCheck}
                />
              ))}
            </ol>
          </SortableContext>
        </DndContext>
      )}
      {items.hasNextPage && (
        <button type="button" onClick={() => void items.fetchNextPage()} disabled={items.isFetchingNextPage}>
          {items.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      )}
    </section>
  );
}

const screenReaderInstructions = {
  draggable:
    "To reorder, press space or enter to pick the item up, the arrow keys to move it, space or enter again to drop it here, or escape to cancel.",
};

function reorderPages(data: InfiniteData<ItemPage>, from: number, to: number): InfiniteData<ItemPage> {
  const sizes = data.pages.map((p) => p.data.length);
  const moved = arrayMove(
    data.pages.flatMap((p) => p.data),
    from,
    to,
  );
  let at = 0;
  const pages = data.pages.map((page, i) => {
    const slice = moved.slice(at, at + sizes[i]!);
    at += sizes[i]!;
    return { ...page, data: slice };
  });
  return { ...data, pages };
}

function BacklogRow({
  item,
  rank,
  draggable,
  checked,
  onCheck,
}: {
  item: ItemSummary;
  rank: number;
  draggable: boolean;
  /** Undefined: no checkbox (a viewer). */
  checked: boolean | undefined;
  onCheck: (key: string, event: MouseEvent<HTMLInputElement>) => void;
}) {
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } = useSortable({
    id: item.key,
    disabled: !draggable,
  });
  const style = { transform: CSS.Transform.toString(transform), transition };
  return (
    <li ref={setNodeRef} style={style} className={`backlog-row${isDragging ? " dragging" : ""}${checked ? " selected" : ""}`} data-key={item.key}>
      {checked !== undefined && (
        <input
          type="checkbox"
          className="row-check"
          checked={checked}
          onClick={(e) => onCheck(item.key, e)}
          onChange={() => undefined}
          aria-label={`Select ${item.key}`}
        />
      )}
      {draggable && (
        <button
          type="button"
          className="drag-handle ghost"
          ref={setActivatorNodeRef}
          {...attributes}
          {...listeners}
          aria-label={`Reorder ${item.key}, rank ${rank}`}
        >
          <span aria-hidden="true">⠿</span>
        </button>
      )}
      <TypeIcon type={item.type} />
      <span className="item-key mono">{item.key}</span>
      <Link className="item-title" to={`/p/${item.project_key}/items/${item.key}`}>
        {item.title}
      </Link>
      <span className="row-meta">
        {item.blocked && <span className="badge danger">blocked</span>}
        {item.sprint && (
          <span className="badge sprint-badge" title={`In sprint ${item.sprint.name}`}>
            {item.sprint.name}
          </span>
        )}
        {!item.ready && item.status.category === "backlog" && <span className="badge warning" title={`Missing: ${item.missing.join(", ").replace(/dor:/g, "")}`}>not ready</span>}
        <PriorityBadge priority={item.priority} />
        <StatusBadge status={item.status} />
        <Estimate value={item.estimate} />
        <span className="row-assignee">
          <Person user={item.assignee} />
        </span>
      </span>
    </li>
  );
}
