import {
  DndContext,
  DragOverlay,
  KeyboardSensor,
  PointerSensor,
  pointerWithin,
  rectIntersection,
  TouchSensor,
  useDraggable,
  useDroppable,
  useSensor,
  useSensors,
  type Announcements,
  type CollisionDetection,
  type DragEndEvent,
  type DragStartEvent,
  type KeyboardCoordinateGetter,
} from "@dnd-kit/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { memo, startTransition, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type RefObject, type SyntheticEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api, etagOf, ok } from "../../api/client";
import { ApiError } from "../../api/problem";
import { useProject } from "../../app/project";
import { canWrite } from "../../app/projectData";
import { Estimate, Person, PriorityBadge, TypeIcon } from "../../components/ItemBits";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { toast, toastError } from "../../components/toasts";
import { useProjectEvents } from "../../events/useProjectEvents";
import { findCard, moveCard, replaceCard, type Board, type Card } from "./columns";
import "./board.css";

const PER_COLUMN = 100;
// Cards drawn per column at once; the rest follow in a transition right after the first paint,
// so a big board is on screen and usable at once and never blocks input while it fills in.
const FIRST_CARDS = 20;
// The board's `sprint_id` for the project's active sprint, whichever it is: the board is asked
// for at once, without waiting for the sprint list to learn the active sprint's id.
const CURRENT = "current";
// The DndContext's id: dnd-kit names its instructions for screen readers after it, so a card
// that is not bound to dnd-kit (see `BoardCard`) can point at them too.
const DND_ID = "board-dnd";

export default function BoardScreen() {
  const project = useProject();
  const [params, setParams] = useSearchParams();
  // The sprint the board shows, from its answer (null: the whole project; undefined: not yet in).
  const [shownSprint, setShownSprint] = useState<Board["sprint"] | undefined>(undefined);
  const sprints = useQuery({
    // Only the sprint picker needs the list: read it after the board, not competing with it.
    enabled: shownSprint !== undefined,
    queryKey: ["sprints", project.key, "open"],
    queryFn: () =>
      ok(
        api.GET("/api/v1/projects/{project_key}/sprints", {
          params: { path: { project_key: project.key }, query: { limit: 100 } },
        }),
      ),
    select: (page) => page.data.filter((s) => s.state === "active" || s.state === "planned"),
  });
  const chosen = params.get("sprint");
  // The sprint shown by default is the active one (the whole project when there is none).
  const sprintId = chosen === "all" ? null : (chosen ?? CURRENT);

  return (
    <>
      <PageHeader
        title="Board"
        subtitle={project.name}
        actions={
          <>
            <label htmlFor="board-sprint" className="visually-hidden">
              Sprint shown
            </label>
            <select
              id="board-sprint"
              value={chosen ?? shownSprint?.id ?? "all"}
              onChange={(e) => {
                const p = new URLSearchParams(params);
                p.set("sprint", e.target.value);
                setParams(p, { replace: true });
              }}
            >
              {sprints.data?.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name} ({s.state})
                </option>
              ))}
              {shownSprint && !sprints.data?.some((s) => s.id === shownSprint.id) && <option value={shownSprint.id}>{shownSprint.name}</option>}
              <option value="all">Whole project</option>
            </select>
          </>
        }
      />
      <BoardView projectKey={project.key} sprintId={sprintId} writable={canWrite(project.role)} onShown={setShownSprint} />
    </>
  );
}

function boardKey(projectKey: string, sprintId: string | null) {
  return ["board", projectKey, sprintId ?? "all"] as const;
}

function BoardView({
  projectKey,
  sprintId,
  writable,
  onShown,
}: {
  projectKey: string;
  sprintId: string | null;
  writable: boolean;
  onShown: (sprint: Board["sprint"]) => void;
}) {
  const client = useQueryClient();
  const key = boardKey(projectKey, sprintId);
  // The board is read once the live stream is subscribed, so no change can fall between the read
  // and the stream (and the board isn't read twice); after a second without the stream it is
  // read anyway, and the stream's connection then reloads it.
  const [streamed, setStreamed] = useState(false);
  const subscribedFirst = useRef<boolean | null>(null);
  useEffect(() => {
    const timeout = setTimeout(() => {
      if (subscribedFirst.current === null) subscribedFirst.current = false;
      setStreamed(true);
    }, 1000);
    return () => clearTimeout(timeout);
  }, []);
  const board = useQuery({
    queryKey: key,
    enabled: streamed,
    queryFn: async () => {
      const read = (sprint: string | null) =>
        ok(
          api.GET("/api/v1/projects/{project_key}/board", {
            params: { path: { project_key: projectKey }, query: { sprint_id: sprint ?? undefined, per_column: PER_COLUMN } },
          }),
        );
      try {
        return await read(sprintId);
      } catch (error) {
        // No sprint is running: the default board is then the whole project's.
        if (sprintId === CURRENT && error instanceof ApiError && error.code === "no-active-sprint") return read(null);
        throw error;
      }
    },
  });
  // Tells the picker which sprint is shown (by id and name: a reload of the same sprint is no news).
  const settled = board.data !== undefined || board.isError;
  const { id: shownId, name: shownName } = board.data?.sprint ?? {};
  useEffect(() => {
    if (settled) onShown(shownId && shownName ? { id: shownId, name: shownName } : null);
  }, [settled, shownId, shownName, onShown]);
  const [conflicts, setConflicts] = useState<Set<string>>(new Set());
  const [dragging, setDragging] = useState<Card | null>(null);
  // The one card bound to dnd-kit: the one under the pointer or holding the focus (see BoardCard).
  const [armed, setArmed] = useState<string | null>(null);
  const followLink = useFollowLink();
  const draggingNow = useRef(false);
  draggingNow.current = dragging !== null;
  const onArm = useCallback((cardKey: string) => {
    if (!draggingNow.current) setArmed(cardKey); // never rebind in the middle of a drag
  }, []);
  const [shown, setShown] = useState(FIRST_CARDS);
  const loaded = board.data !== undefined;
  useEffect(() => {
    if (!loaded) return;
    const frame = requestAnimationFrame(() => startTransition(() => setShown(PER_COLUMN)));
    return () => cancelAnimationFrame(frame);
  }, [loaded]);

  // Live: changes by anyone reload the board (coalesced), so two browsers agree within a second.
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const reload = useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      void client.invalidateQueries({ queryKey: ["board", projectKey] });
    }, 150);
  }, [client, projectKey]);
  const live = useProjectEvents(
    projectKey,
    (event) => {
      if (event.type.startsWith("item.") || event.type.startsWith("sprint.") || event.type.startsWith("status.")) reload();
    },
    () => {
      if (subscribedFirst.current === null) {
        subscribedFirst.current = true;
        setStreamed(true);
      } else {
        reload(); // (re)connected with nothing to resume from: what happened meanwhile is unknown
      }
    },
  );

  const move = useMutation({
    meta: { handlesError: true },
    mutationFn: ({ card, statusId }: { card: Card; statusId: string }) =>
      ok(
        api.PATCH("/api/v1/items/{item_key}", {
          params: { path: { item_key: card.key }, header: { "if-match": etagOf(card.version) } },
          body: { status: statusId },
        }),
      ),
    onMutate: ({ card, statusId }) => {
      void client.cancelQueries({ queryKey: key }); // a reload still out mustn't undo the move
      const before = client.getQueryData<Board>(key);
      if (before) client.setQueryData<Board>(key, moveCard(before, card.key, statusId));
      setConflicts((c) => without(c, card.key));
      return { before };
    },
    onSuccess: (item) => {
      const current = client.getQueryData<Board>(key);
      if (current) client.setQueryData<Board>(key, replaceCard(current, item));
    },
    onError: async (error, { card }, context) => {
      if (context?.before) client.setQueryData(key, context.before);
      if (error instanceof ApiError && error.status === 412) {
        // Someone changed the card since this board was loaded: show theirs, say so.
        setConflicts((c) => new Set(c).add(card.key));
        toast({
          kind: "error",
          title: `${card.key} was changed by someone else`,
          detail: `${error.detail ?? "Your move wasn't saved."} The card has been reloaded; move it again if it still should.`,
        });
        try {
          const fresh = await ok(api.GET("/api/v1/items/{item_key}", { params: { path: { item_key: card.key } } }));
          const now = client.getQueryData<Board>(key);
          if (now) client.setQueryData<Board>(key, replaceCard(now, fresh));
        } catch {
          void client.invalidateQueries({ queryKey: key });
        }
      } else {
        toastError(error);
      }
    },
  });

  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 5 } }),
    useSensor(TouchSensor, { activationConstraint: { delay: 200, tolerance: 8 } }),
    useSensor(KeyboardSensor, { coordinateGetter: columnKeyboardCoordinates }),
  );

  const names = useMemo(() => new Map(board.data?.columns.map((c) => [c.status.id, c.status.name]) ?? []), [board.data]);
  const announcements: Announcements = {
    onDragStart: ({ active }) => `Picked up ${active.id}.`,
    onDragOver: ({ active, over }) => (over ? `${active.id} is over ${names.get(String(over.id))}.` : `${active.id} is not over a column.`),
    onDragEnd: ({ active, over }) => (over ? `${active.id} dropped in ${names.get(String(over.id))}.` : `${active.id} put back.`),
    onDragCancel: ({ active }) => `Moving ${active.id} was cancelled.`,
  };

  const mutate = move.mutate; // stable: the memoised cards don't redraw on every render
  const onMove = useCallback(
    (card: Card, statusId: string) => {
      if (card.status.id !== statusId) mutate({ card, statusId });
    },
    [mutate],
  );
  // The same array as long as the workflow is the same, so the memoised cards don't redraw.
  const workflow = board.data?.columns.map((c) => `${c.status.id}:${c.status.name}`).join("|") ?? "";
  const statuses = useMemo(() => board.data?.columns.map((c) => c.status) ?? [], [workflow]);

  function onDragStart(event: DragStartEvent) {
    setDragging(board.data ? (findCard(board.data, String(event.active.id)) ?? null) : null);
  }
  function onDragEnd(event: DragEndEvent) {
    setDragging(null);
    if (!event.over || !board.data) return;
    const card = findCard(board.data, String(event.active.id));
    if (card) onMove(card, String(event.over.id));
  }

  if (board.isPending) return <SkeletonRows />;
  if (board.isError) return <ErrorState error={board.error} retry={() => void board.refetch()} />;
  const total = board.data.columns.reduce((n, c) => n + c.count, 0);
  return (
    <section aria-label="Board" className="stack">
      <div className="row small muted">
        <span className={`live-dot live-${live}`} aria-hidden="true" />
        <span role="status">{live === "live" ? "Live: changes by others appear as they happen" : live === "stopped" ? "Live updates stopped" : "Connecting live updates…"}</span>
        <span className="spacer" />
        <span>
          {total} item{total === 1 ? "" : "s"}
        </span>
      </div>
      {total === 0 ? (
        <EmptyState title="No items on this board" action={<Link to={`/p/${projectKey}/sprints`}>Plan a sprint</Link>}>
          {board.data.sprint ? "Add items to this sprint from the backlog, or show the whole project." : "Create items in the backlog first."}
        </EmptyState>
      ) : (
        <DndContext
          id={DND_ID}
          sensors={sensors}
          collisionDetection={columnUnderPointer}
          onDragStart={onDragStart}
          onDragEnd={onDragEnd}
          onDragCancel={() => setDragging(null)}
          accessibility={{
            announcements,
            screenReaderInstructions: {
              draggable:
                "To move this card to another column, press space or enter, then the left and right arrow keys, then space or enter to drop it, or escape to cancel.",
            },
          }}
        >
          <div className="board" data-testid="board" onClick={followLink}>
            {board.data.columns.map((column) => (
              <Column key={column.status.id} column={column} projectKey={projectKey}>
                {column.items.slice(0, shown).map((card) => (
                  <BoardCard
                    key={card.key}
                    card={card}
                    projectKey={projectKey}
                    writable={writable}
                    conflict={conflicts.has(card.key)}
                    statuses={statuses}
                    onMove={onMove}
                    armed={armed === card.key}
                    dragged={dragging?.key === card.key}
                    onArm={onArm}
                  />
                ))}
              </Column>
            ))}
          </div>
          <DragOverlay dropAnimation={null}>{dragging ? <CardBody card={dragging} projectKey={projectKey} overlay /> : null}</DragOverlay>
        </DndContext>
      )}
    </section>
  );
}

function stopPropagation(event: SyntheticEvent) {
  event.stopPropagation();
}

/** Follows a plain click on a link in the board inside the app (a new tab etc. as usual). */
function useFollowLink() {
  const navigate = useNavigate();
  return useCallback(
    (event: React.MouseEvent) => {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      const link = (event.target as Element).closest("a");
      const href = link?.getAttribute("href");
      if (!link || !href?.startsWith("/") || link.target) return;
      event.preventDefault();
      navigate(href);
    },
    [navigate],
  );
}

function without(set: Set<string>, key: string): Set<string> {
  if (!set.has(key)) return set;
  const copy = new Set(set);
  copy.delete(key);
  return copy;
}

/** The column under the pointer is where a card lands (a wide card held off-centre would
 * otherwise overlap the next column more); the keyboard, with no pointer, goes by overlap. */
const columnUnderPointer: CollisionDetection = (args) => {
  const under = pointerWithin(args);
  return under.length ? under : rectIntersection(args);
};

/** Left and right arrows carry the card to the previous or next column. */
const columnKeyboardCoordinates: KeyboardCoordinateGetter = (event, { context, currentCoordinates }) => {
  const step = event.code === "ArrowRight" ? 1 : event.code === "ArrowLeft" ? -1 : 0;
  if (!step) return undefined;
  event.preventDefault();
  const rects = [...context.droppableRects.entries()].sort((a, b) => a[1].left - b[1].left);
  if (!rects.length) return undefined;
  const collision = context.collisionRect;
  const x = collision ? collision.left + collision.width / 2 : currentCoordinates.x;
  let index = context.over ? rects.findIndex(([id]) => id === context.over!.id) : -1;
  if (index < 0) index = rects.findIndex(([, r]) => x >= r.left && x <= r.left + r.width);
  const next = rects[Math.min(rects.length - 1, Math.max(0, index + step))];
  if (!next) return undefined;
  const rect = next[1];
  return { x: rect.left + 8, y: Math.max(rect.top + 48, currentCoordinates.y) };
};

function Column({ column, projectKey, children }: { column: Board["columns"][number]; projectKey: string; children: React.ReactNode }) {
  const { setNodeRef, isOver } = useDroppable({ id: column.status.id });
  const limit = column.wip_limit;
  const headingId = `col-${column.status.id}`;
  return (
    <section
      ref={setNodeRef}
      className={`column${isOver ? " over" : ""}${column.over_limit ? " over-limit" : ""}`}
      aria-labelledby={headingId}
      data-status={column.status.name}
    >
      <header className="column-header">
        <h2 id={headingId}>{column.status.name}</h2>
        <span className={`badge${column.over_limit ? " danger" : ""}`} title={limit !== null ? `WIP limit ${limit}` : "No WIP limit"}>
          {column.count}
          {limit !== null && ` / ${limit}`}
        </span>
        {column.over_limit && <span className="visually-hidden">over its WIP limit</span>}
      </header>
      <ol className="column-cards">{children}</ol>
      {column.count > column.items.length && (
        <Link className="small column-more" to={`/p/${projectKey}/backlog?q=${encodeURIComponent(`status:"${column.status.name}"`)}`}>
          {column.count - column.items.length} more in the backlog view
        </Link>
      )}
    </section>
  );
}

type CardProps = {
  card: Card;
  projectKey: string;
  writable: boolean;
  conflict: boolean;
  statuses: Card["status"][];
  onMove: (card: Card, statusId: string) => void;
};

type BoardCardProps = CardProps & {
  /** Bound to dnd-kit: under the pointer or holding the focus. */
  armed: boolean;
  /** Being dragged (its overlay follows the pointer). */
  dragged: boolean;
  onArm: (key: string) => void;
};

type Listeners = Record<string, ((event: SyntheticEvent) => void) | undefined>;

// dnd-kit re-renders every component that calls `useDraggable` whenever the drag's state changes
// (picked up, over another column, dropped): with 500 cards that is 500 renders per change. So
// only one card at a time is bound to dnd-kit, the one the pointer is over or the focus is in
// (`DragBinding`); every card forwards the sensors' events to the binding, which is in place
// before a press can start a drag. The card's element and content stay the same either way.
const BoardCard = memo(function BoardCard(props: BoardCardProps) {
  const { card, projectKey, writable, conflict, statuses, onMove, armed, dragged, onArm } = props;
  const node = useRef<HTMLLIElement>(null);
  const handle = useRef<HTMLButtonElement>(null);
  const listeners = useRef<Listeners | null>(null);
  const arm = writable && !armed ? () => onArm(card.key) : undefined;
  const forward = (name: string) => (event: SyntheticEvent) => {
    arm?.(); // (a press where the pointer never entered: bound for the next one)
    listeners.current?.[name]?.(event);
  };
  // The whole card drags with a pointer; the keyboard drags from its handle (a real button).
  return (
    <li
      ref={node}
      className={`board-card${dragged ? " is-dragging" : ""}${conflict ? " conflict" : ""}`}
      data-key={card.key}
      onPointerEnter={arm}
      onFocus={arm}
      onPointerDown={writable ? forward("onPointerDown") : undefined}
      onTouchStart={writable ? forward("onTouchStart") : undefined}
      onKeyDown={writable ? forward("onKeyDown") : undefined}
    >
      {writable && armed && <DragBinding id={card.key} node={node} handle={handle} listeners={listeners} />}
      {writable && (
        <button
          type="button"
          ref={handle}
          className="ghost card-handle"
          aria-disabled={false}
          aria-pressed={dragged || undefined}
          aria-describedby={DND_ID}
          aria-roledescription="draggable card"
          aria-label={`Move ${card.key}`}
        >
          <span aria-hidden="true">⠿</span>
        </button>
      )}
      <CardContent card={card} projectKey={projectKey} writable={writable} conflict={conflict} statuses={statuses} onMove={onMove} />
    </li>
  );
});

/** Binds one card's element and handle to dnd-kit, and hands its sensors' listeners to the card. */
function DragBinding({
  id,
  node,
  handle,
  listeners,
}: {
  id: string;
  node: RefObject<HTMLLIElement | null>;
  handle: RefObject<HTMLButtonElement | null>;
  listeners: RefObject<Listeners | null>;
}) {
  const draggable = useDraggable({ id });
  const { setNodeRef, setActivatorNodeRef } = draggable;
  const bound = draggable.listeners as Listeners | undefined;
  useLayoutEffect(() => {
    setNodeRef(node.current);
    setActivatorNodeRef(handle.current);
    listeners.current = bound ?? null;
    return () => {
      if (listeners.current === bound) listeners.current = null;
    };
  }, [bound, handle, listeners, node, setActivatorNodeRef, setNodeRef]);
  return null;
}

const CardContent = memo(function CardContent({ card, projectKey, writable, conflict, statuses, onMove }: CardProps) {
  return (
    <>
      <CardBody card={card} projectKey={projectKey} />
      {conflict && (
        <p className="small conflict-note" role="note">
          Changed by someone else: this is their version now.
        </p>
      )}
      {writable && (
        <div className="card-move" onPointerDown={(e) => e.stopPropagation()} onKeyDown={(e) => e.stopPropagation()}>
          <label htmlFor={`move-${card.key}`} className="visually-hidden">
            Status of {card.key}
          </label>
          <select id={`move-${card.key}`} value={card.status.id} onChange={(e) => onMove(card, e.target.value)}>
            {statuses.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
      )}
    </>
  );
});

function CardBody({ card, projectKey, overlay }: { card: Card; projectKey: string; overlay?: boolean }) {
  return (
    <div className={overlay ? "board-card overlay" : undefined}>
      <div className="row card-top">
        <TypeIcon type={card.type} />
        <span className="mono small muted">{card.key}</span>
        <span className="spacer" />
        {card.blocked && <span className="badge danger">blocked</span>}
        <PriorityBadge priority={card.priority} />
      </div>
      {/* A plain link, followed by the board's one click handler (`followLink`): a router
          <Link> per card costs more to draw than the rest of the card. */}
      <a
        href={`/p/${projectKey}/items/${card.key}`}
        className="card-title"
        onPointerDown={stopPropagation}
        tabIndex={overlay ? -1 : undefined}
      >
        {card.title}
      </a>
      <div className="row card-bottom">
        <Person user={card.assignee} />
        <span className="spacer" />
        <Estimate value={card.estimate} />
      </div>
    </div>
  );
}
