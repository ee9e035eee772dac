import { useSyncExternalStore } from "react";

function subscribe(listener: () => void) {
  window.addEventListener("online", listener);
  window.addEventListener("offline", listener);
  return () => {
    window.removeEventListener("online", listener);
    window.removeEventListener("offline", listener);
  };
}

/** Shown while the browser is offline; the app's queries retry when it's back. */
export function OfflineBanner() {
  const online = useSyncExternalStore(subscribe, () => navigator.onLine);
  if (online) return null;
  return (
    <div className="banner banner-warning" role="status" data-testid="offline-banner">
      You're offline. Changes can't be saved until the connection is back; the app reconnects by
      itself.
    </div>
  );
}
