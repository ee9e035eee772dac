/**
 * Live updates for the ceremony screens (stand-up, retro, poker, risks): follow the project's
 * event stream and reload the given queries when a matching event arrives (coalesced, so a burst
 * of events costs one reload), and on (re)connect without a cursor. Plus the line that says so.
 */
import { useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useCallback, useEffect, useRef } from "react";
import type { StreamStatus, TaktEvent } from "../../events/stream";
import { useProjectEvents } from "../../events/useProjectEvents";
import "./live.css";

export function useLiveReload(projectKey: string, matches: (event: TaktEvent) => boolean, queryKeys: QueryKey[]): StreamStatus {
  const client = useQueryClient();
  const keys = useRef(queryKeys);
  keys.current = queryKeys;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const reload = useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      for (const key of keys.current) void client.invalidateQueries({ queryKey: key });
    }, 80);
  }, [client]);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return useProjectEvents(
    projectKey,
    (event) => {
      if (matches(event)) reload();
    },
    reload,
  );
}

const WORDS: Record<StreamStatus, string> = {
  live: "Live: changes by others appear as they happen",
  connecting: "Connecting live updates…",
  reconnecting: "Reconnecting live updates…",
  stopped: "Live updates stopped: reload the page",
};

export function LiveStatus({ status }: { status: StreamStatus }) {
  return (
    <span className="live-status small muted" data-testid="live-status" data-status={status}>
      <span className={`live-dot live-${status}`} aria-hidden="true" />
      <span role="status">{WORDS[status]}</span>
    </span>
  );
}
