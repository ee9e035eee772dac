/**
 * Takt's live event stream over fetch (EventSource can't send an Authorization header): reads
 * server-sent events, hands each event to `onEvent`, and when the connection drops (the server
 * ends slow or expired streams, the network goes away) reconnects with `Last-Event-ID` = the
 * last id received, so nothing is lost and nothing repeated.
 */
import { SseParser } from "./sse";

export interface TaktEvent {
  id: string;
  type: string;
  occurred_at: string;
  project_key: string | null;
  actor: { id: string; username: string | null } | null;
  data: Record<string, unknown>;
  changes?: Record<string, [unknown, unknown]> | null;
}

export type StreamStatus = "connecting" | "live" | "reconnecting" | "stopped";

export interface StreamOptions {
  url: string;
  /** Authenticated fetch (refreshes the token once on a 401). */
  fetch: (request: Request) => Promise<Response>;
  onEvent: (event: TaktEvent, cursor: string | undefined) => void;
  onStatus?: (status: StreamStatus, detail?: string) => void;
  /** Resume after this cursor (from an earlier stream). */
  lastEventId?: string;
  signal: AbortSignal;
  /** Wait before reconnect attempt n (1, 2, …); default 0.5 s doubling to 15 s, with jitter. */
  backoff?: (attempt: number) => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export function defaultBackoff(attempt: number): number {
  const base = Math.min(15_000, 500 * 2 ** Math.max(0, attempt - 1));
  return base / 2 + Math.random() * (base / 2);
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/**
 * Runs until `signal` aborts, or the server refuses the stream for good (a 4xx other than 401
 * and 429, e.g. 404 for a project no longer visible). Returns the last cursor received.
 */
export async function runEventStream(options: StreamOptions): Promise<string | undefined> {
  const { signal, onStatus } = options;
  const backoff = options.backoff ?? defaultBackoff;
  const sleep = options.sleep ?? abortableSleep;
  let cursor = options.lastEventId;
  let attempt = 0;
  while (!signal.aborted) {
    onStatus?.(attempt === 0 ? "connecting" : "reconnecting");
    let response: Response | null = null;
    try {
      const headers: Record<string, string> = { Accept: "text/event-stream" };
      if (cursor) headers["Last-Event-ID"] = cursor;
      response = await options.fetch(new Request(options.url, { headers, signal, cache: "no-store" }));
    } catch {
      response = null; // network error or abort
    }
    if (signal.aborted) break;
    if (response && !response.ok) {
      // 5xx and 429 are passing; a 401 (after the session's one refresh: signed out) or
      // another 4xx (the project is gone or no longer visible) is final.
      if (response.status < 500 && response.status !== 429) {
        onStatus?.("stopped", `HTTP ${response.status}`);
        return cursor;
      }
    } else if (response?.body) {
      attempt = 0;
      onStatus?.("live");
      const parser = new SseParser();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const message of parser.push(value)) {
            if (message.id) cursor = message.id;
            let event: TaktEvent;
            try {
              event = JSON.parse(message.data) as TaktEvent;
            } catch {
              continue;
            }
            options.onEvent(event, message.id);
          }
        }
      } catch {
        // dropped mid-stream: reconnect below
      } finally {
        reader.releaseLock();
      }
    }
    if (signal.aborted) break;
    attempt += 1;
    await sleep(backoff(attempt), signal);
  }
  onStatus?.("stopped");
  return cursor;
}
