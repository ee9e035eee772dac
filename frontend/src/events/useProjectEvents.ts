import { useEffect, useRef, useState } from "react";
import { session } from "../auth";
import { runEventStream, type StreamStatus, type TaktEvent } from "./stream";

/**
 * Follows a project's live events while the component is mounted. `onEvent` sees every event;
 * `onConnected` runs each time the stream (re)connects without a cursor to resume from, so a
 * screen can reload what it may have missed before the stream started.
 */
export function useProjectEvents(
  projectKey: string | undefined,
  onEvent: (event: TaktEvent) => void,
  onConnected?: () => void,
): StreamStatus {
  const [status, setStatus] = useState<StreamStatus>("connecting");
  const handlers = useRef({ onEvent, onConnected });
  handlers.current = { onEvent, onConnected };

  useEffect(() => {
    if (!projectKey) return;
    const controller = new AbortController();
    let resumed = false;
    const url = new URL(`/api/v1/projects/${encodeURIComponent(projectKey)}/events`, location.origin).toString();
    void runEventStream({
      url,
      fetch: session.authFetch,
      signal: controller.signal,
      onEvent: (event) => {
        resumed = true;
        handlers.current.onEvent(event);
      },
      onStatus: (s) => {
        setStatus(s);
        if (s === "live" && !resumed) handlers.current.onConnected?.();
      },
    });
    return () => controller.abort();
  }, [projectKey]);

  return status;
}
