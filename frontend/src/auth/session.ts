/**
 * The browser session: the access token lives in this object's memory only; the refresh token
 * is an HttpOnly cookie the script never sees, traded for a new access token with the CSRF
 * token (the readable `takt_csrf` cookie) in a header.
 *
 * - `authFetch` adds the bearer token; on a 401 it refreshes ONCE (one refresh shared by every
 *   request that failed meanwhile) and retries; a second 401, or a failed refresh, signs out.
 * - Refreshes are serialised across tabs with the Web Locks API when there is one, so two tabs
 *   never spend the same refresh token (which would revoke the whole login).
 */
import { errorOf } from "../api/problem";

export const AUTH_BASE = "/api/v1/auth/session";
export const CSRF_COOKIE = "takt_csrf";
export const CSRF_HEADER = "X-CSRF-Token";

export type SessionStatus = "unknown" | "signed-in" | "signed-out";

export interface SessionState {
  status: SessionStatus;
  /** Why the session ended when it did by itself (expired, revoked), for the sign-in page. */
  reason?: string;
}

interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  csrf_token?: string;
}

type Fetch = (input: Request) => Promise<Response>;

export interface SessionOptions {
  fetch?: Fetch;
  readCookie?: (name: string) => string | null;
  /** Serialises refreshes across tabs; defaults to navigator.locks when available. */
  withLock?: <T>(name: string, task: () => Promise<T>) => Promise<T>;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  origin?: string;
}

export function readDocumentCookie(name: string): string | null {
  if (typeof document === "undefined") return null;
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

function defaultLock<T>(name: string, task: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  return locks ? (locks.request(name, task) as Promise<T>) : task();
}

export class Session {
  private token: string | null = null;
  private csrf: string | null = null;
  private state: SessionState = { status: "unknown" };
  private refreshing: Promise<boolean> | null = null;
  private timer: unknown = null;
  private listeners = new Set<(s: SessionState) => void>();
  private readonly fetcher: Fetch;
  private readonly readCookie: (name: string) => string | null;
  private readonly withLock: <T>(name: string, task: () => Promise<T>) => Promise<T>;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private readonly origin: string;

  constructor(options: SessionOptions = {}) {
    this.fetcher = options.fetch ?? ((r) => globalThis.fetch(r));
    this.readCookie = options.readCookie ?? readDocumentCookie;
    this.withLock = options.withLock ?? defaultLock;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
    this.origin = options.origin ?? (typeof location !== "undefined" ? location.origin : "http://localhost");
  }

  get accessToken(): string | null {
    return this.token;
  }

  get current(): SessionState {
    return this.state;
  }

  subscribe(listener: (s: SessionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(state: SessionState): void {
    this.state = state;
    for (const listener of this.listeners) listener(state);
  }

  private url(path: string): string {
    return new URL(path, this.origin).toString();
  }

  private csrfToken(): string {
    return this.readCookie(CSRF_COOKIE) ?? this.csrf ?? "";
  }

  private accept(tokens: TokenResponse): void {
    this.token = tokens.access_token;
    if (tokens.csrf_token) this.csrf = tokens.csrf_token;
    if (this.timer !== null) this.clearTimer(this.timer);
    // Refresh a minute before the token expires (never sooner than in 10 s).
    const ms = Math.max(10, tokens.expires_in - 60) * 1000;
    this.timer = this.setTimer(() => void this.refresh(), ms);
    this.set({ status: "signed-in" });
  }

  private end(reason?: string): void {
    this.token = null;
    this.csrf = null;
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    this.set(reason ? { status: "signed-out", reason } : { status: "signed-out" });
  }

  /** Signs in with a password; throws the API's problem (e.g. 401, 429) when it fails. */
  async signIn(username: string, password: string): Promise<void> {
    // A refresh still out (the start-up resume) must not answer after this sign-in: its 401
    // would sign this session out again, and clear the cookies this sign-in sets.
    if (this.refreshing) await this.refreshing.catch(() => false);
    const response = await this.fetcher(
      new Request(this.url(AUTH_BASE), {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ username, password }),
        credentials: "same-origin",
      }),
    );
    if (!response.ok) throw await errorOf(response);
    this.accept((await response.json()) as TokenResponse);
  }

  /**
   * Trades the refresh cookie for a new access token. Concurrent callers share one request.
   * Resolves false (and signs out) when there is no session to refresh.
   */
  refresh(): Promise<boolean> {
    if (!this.refreshing) {
      const previous = this.token;
      this.refreshing = this.withLock("takt-session-refresh", () => this.doRefresh(previous)).finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(previous: string | null): Promise<boolean> {
    // Another tab may have refreshed while this one waited for the lock: the cookie is then
    // already the new one, and refreshing with it is right (it was never spent).
    let response: Response;
    try {
      response = await this.fetcher(
        new Request(this.url(`${AUTH_BASE}/refresh`), {
          method: "POST",
          headers: { [CSRF_HEADER]: this.csrfToken(), Accept: "application/json" },
          credentials: "same-origin",
        }),
      );
    } catch {
      // Offline: keep the session as it is; the next request tries again.
      return this.token !== null && this.token !== previous;
    }
    if (!response.ok) {
      this.end(previous ? "Your session ended. Please sign in again." : undefined);
      return false;
    }
    this.accept((await response.json()) as TokenResponse);
    return true;
  }

  /** At start-up: resume the session from the refresh cookie, if there is one. */
  async resume(): Promise<void> {
    if (this.state.status !== "unknown") return;
    // No CSRF cookie: there is no session to resume (it is set with the refresh cookie).
    if (!this.csrfToken()) {
      this.set({ status: "signed-out" });
      return;
    }
    await this.refresh();
  }

  /** fetch with the bearer token; on a 401, one refresh and one retry, then sign out. */
  authFetch = async (request: Request): Promise<Response> => {
    // The body is read once into memory (bodies are small and bounded), so the request can be
    // sent twice and is sent as plain bytes, never as a stream.
    const body = request.method === "GET" || request.method === "HEAD" ? null : await request.arrayBuffer();
    const copy = () =>
      new Request(request.url, {
        method: request.method,
        headers: new Headers(request.headers),
        body: body && body.byteLength ? body : null,
        signal: request.signal,
        cache: request.cache,
        credentials: request.credentials,
        redirect: request.redirect,
      });
    const sentWith = this.token;
    const first = await this.fetcher(this.withToken(copy()));
    if (first.status !== 401) return first;
    // Someone refreshed while this request was out: just retry with the new token.
    const refreshed = sentWith !== null && this.token !== null && this.token !== sentWith ? true : await this.refresh();
    if (!refreshed) return first;
    const second = await this.fetcher(this.withToken(copy()));
    if (second.status === 401) this.end("Your session ended. Please sign in again.");
    return second;
  };

  private withToken(request: Request): Request {
    if (this.token) request.headers.set("Authorization", `Bearer ${this.token}`);
    return request;
  }

  /** Ends this session (the refresh cookie's login) on the server and here. */
  async signOut(): Promise<void> {
    try {
      await this.fetcher(
        this.withToken(
          new Request(this.url(AUTH_BASE), {
            method: "DELETE",
            headers: { [CSRF_HEADER]: this.csrfToken() },
            credentials: "same-origin",
          }),
        ),
      );
    } finally {
      this.end();
    }
  }

  /** Revokes every login of this account (every browser and refresh token), then signs out. */
  async signOutEverywhere(): Promise<void> {
    const response = await this.authFetch(
      new Request(this.url(`${AUTH_BASE}/logout-everywhere`), {
        method: "POST",
        headers: { [CSRF_HEADER]: this.csrfToken() },
        credentials: "same-origin",
      }),
    );
    if (!response.ok && response.status !== 401) throw await errorOf(response);
    this.end();
  }
}
