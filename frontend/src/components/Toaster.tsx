import { useSyncExternalStore } from "react";
import { currentToasts, dismiss, subscribeToasts } from "./toasts";
import "./components.css";

/** The notices: errors are announced assertively, others politely; each can be closed. */
export function Toaster() {
  const toasts = useSyncExternalStore(subscribeToasts, currentToasts);
  const errors = toasts.filter((t) => t.kind === "error");
  const others = toasts.filter((t) => t.kind !== "error");
  return (
    <div className="toaster">
      <div role="alert" aria-live="assertive" className="toast-stack">
        {errors.map((t) => (
          <ToastView key={t.id} {...t} />
        ))}
      </div>
      <div role="status" aria-live="polite" className="toast-stack">
        {others.map((t) => (
          <ToastView key={t.id} {...t} />
        ))}
      </div>
    </div>
  );
}

function ToastView({ id, kind, title, detail, action }: ReturnType<typeof currentToasts>[number]) {
  return (
    <div className={`toast toast-${kind}`} data-testid="toast">
      <div className="toast-body">
        <strong className="toast-title">{title}</strong>
        {detail && <span className="toast-detail">{detail}</span>}
      </div>
      {action && (
        <button
          type="button"
          onClick={() => {
            action.run();
            dismiss(id);
          }}
        >
          {action.label}
        </button>
      )}
      <button type="button" className="ghost" aria-label="Dismiss" onClick={() => dismiss(id)}>
        ×
      </button>
    </div>
  );
}
