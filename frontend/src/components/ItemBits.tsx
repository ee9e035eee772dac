import type { Schemas } from "../api/client";
import "./item-bits.css";

type Priority = Schemas["Priority"];
type ItemType = Schemas["ItemType"];

const TYPE_GLYPH: Record<ItemType, string> = { story: "S", task: "T", bug: "B", spike: "K", epic: "E" };

export function TypeIcon({ type }: { type: ItemType }) {
  return (
    <span className={`type-icon type-${type}`} title={type} aria-label={type} role="img">
      {TYPE_GLYPH[type]}
    </span>
  );
}

export function PriorityBadge({ priority }: { priority: Priority }) {
  if (priority === "none") return null;
  return <span className={`priority priority-${priority}`}>{priority}</span>;
}

export function StatusBadge({ status }: { status: Schemas["StatusRef"] }) {
  return <span className={`status status-${status.category}`}>{status.name}</span>;
}

export function Estimate({ value }: { value: number | null }) {
  if (value === null) return <span className="estimate estimate-none" title="Not estimated">–</span>;
  return (
    <span className="estimate" title={`${value} points`}>
      {value}
    </span>
  );
}

export function Person({ user }: { user: Schemas["UserSummary"] | null }) {
  if (!user) return <span className="muted small">Unassigned</span>;
  return (
    <span className="person" title={user.display_name || user.username}>
      <span className="avatar-sm" aria-hidden="true">
        {(user.display_name || user.username).slice(0, 1).toUpperCase()}
      </span>
      <span className="person-name">{user.display_name || user.username}</span>
    </span>
  );
}
