/** A tiny store of notices shown by <Toaster/>; any module may call `toast` or `toastError`. */
import { describeError } from "../api/problem";

export type ToastKind = "info" | "success" | "error";

export interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  detail?: string;
  action?: { label: string; run: () => void };
}

let next = 1;
let toasts: Toast[] = [];
const listeners = new Set<() => void>();

function emit() {
  for (const l of listeners) l();
}

export function subscribeToasts(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function currentToasts(): Toast[] {
  return toasts;
}

export function toast(t: Omit<Toast, "id">, ms = t.kind === "error" ? 10_000 : 4_000): number {
  const id = next++;
  toasts = [...toasts.slice(-4), { ...t, id }];
  emit();
  if (ms > 0) setTimeout(() => dismiss(id), ms);
  return id;
}

export function dismiss(id: number): void {
  toasts = toasts.filter((t) => t.id !== id);
  emit();
}

/** Shows an error's problem title and detail. */
export function toastError(error: unknown, action?: Toast["action"]): number {
  const { title, detail } = describeError(error);
  return toast(detail ? { kind: "error", title, detail, action } : { kind: "error", title, action });
}
