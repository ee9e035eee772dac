// @vitest-environment node
import { describe, expect, it, vi } from "vitest";
import { CSRF_HEADER, Session } from "./session";

const ORIGIN = "http://takt.test";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

const tokens = (n: number) => ({ access_token: `access-${n}`, token_type: "bearer", expires_in: 900, csrf_token: `csrf-${n}` });

/** A fake server: answers the session endpoints and a protected /api/v1/things. */
function server(options: { validTokens: Set<string>; refreshOk?: boolean | (() => boolean) }) {
  let issued = 0;
  const calls: Request[] = [];
  const fetch = vi.fn(async (request: Request) => {
    calls.push(request.clone());
    const path = new URL(request.url).pathname;
    if (path === "/api/v1/auth/session" && request.method === "POST") {
      issued += 1;
      options.validTokens.add(`access-${issued}`);
      return json(200, tokens(issued));
    }
    if (path === "/api/v1/auth/session/refresh") {
      const ok = typeof options.refreshOk === "function" ? options.refreshOk() : (options.refreshOk ?? true);
      if (!ok) return json(401, { title: "Not signed in", status: 401, code: "not-signed-in" });
      issued += 1;
      options.validTokens.add(`access-${issued}`);
      return json(200, tokens(issued));
    }
    const auth = request.headers.get("Authorization")?.replace("Bearer ", "");
    if (!auth || !options.validTokens.has(auth)) return json(401, { title: "Unauthorized", status: 401 });
    return json(200, { ok: true, body: request.method === "POST" ? await request.text() : null });
  });
  return { fetch, calls };
}

function session(fetch: (r: Request) => Promise<Response>, cookie: string | null = "csrf-cookie") {
  return new Session({
    fetch,
    origin: ORIGIN,
    readCookie: (name) => (name === "takt_csrf" ? cookie : null),
    withLock: (_name, task) => task(),
    setTimer: () => 0,
    clearTimer: () => undefined,
  });
}

const thing = () => new Request(`${ORIGIN}/api/v1/things`, { method: "POST", body: "payload" });

describe("Session", () => {
  it("signs in with JSON and keeps the access token in memory only", async () => {
    const valid = new Set<string>();
    const { fetch, calls } = server({ validTokens: valid });
    const s = session(fetch);
    await s.signIn("maya", "secret");
    expect(s.accessToken).toBe("access-1");
    expect(s.current.status).toBe("signed-in");
    const login = calls[0]!;
    expect(login.headers.get("Content-Type")).toBe("application/json");
    expect(await login.json()).toEqual({ username: "maya", password: "secret" });
  });

  it("throws the problem of a failed sign-in", async () => {
    const fetch = vi.fn(async () => json(401, { title: "Invalid credentials", status: 401, detail: "Wrong username or password." }));
    const s = session(fetch);
    await expect(s.signIn("maya", "nope")).rejects.toMatchObject({ status: 401, title: "Invalid credentials" });
    expect(s.accessToken).toBeNull();
  });

  it("on a 401 refreshes once, with the CSRF header, and retries the request with its body", async () => {
    const valid = new Set<string>();
    const { fetch, calls } = server({ validTokens: valid });
    const s = session(fetch);
    await s.signIn("maya", "secret");
    valid.clear(); // the access token expired
    const response = await s.authFetch(thing());
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, body: "payload" });
    const refreshes = calls.filter((r) => r.url.endsWith("/session/refresh"));
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]!.headers.get(CSRF_HEADER)).toBe("csrf-cookie");
    expect(calls.at(-1)!.headers.get("Authorization")).toBe("Bearer access-2");
  });

  it("shares one refresh among requests that fail at the same time", async () => {
    const valid = new Set<string>();
    const { fetch, calls } = server({ validTokens: valid });
    const s = session(fetch);
    await s.signIn("maya", "secret");
    valid.clear();
    const answers = await Promise.all([s.authFetch(thing()), s.authFetch(thing()), s.authFetch(thing())]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(calls.filter((r) => r.url.endsWith("/session/refresh"))).toHaveLength(1);
  });

  it("signs out when the refresh fails, and doesn't retry", async () => {
    const valid = new Set<string>();
    const { fetch, calls } = server({ validTokens: valid, refreshOk: false });
    const s = session(fetch);
    await s.signIn("maya", "secret");
    valid.clear();
    const states: string[] = [];
    s.subscribe((st) => states.push(st.status));
    const response = await s.authFetch(thing());
    expect(response.status).toBe(401);
    expect(s.current.status).toBe("signed-out");
    expect(s.current.reason).toMatch(/sign in again/);
    expect(s.accessToken).toBeNull();
    expect(states).toEqual(["signed-out"]);
    expect(calls.filter((r) => r.url.endsWith("/api/v1/things"))).toHaveLength(1);
  });

  it("signs out when the retried request is refused again (refresh once, not in a loop)", async () => {
    const valid = new Set<string>();
    const fetch = vi.fn(async (request: Request) => {
      const path = new URL(request.url).pathname;
      if (path.endsWith("/refresh")) return json(200, tokens(9)); // a token the API won't take
      return json(401, { title: "Unauthorized", status: 401 });
    });
    const s = session(fetch);
    const response = await s.authFetch(thing());
    expect(response.status).toBe(401);
    expect(fetch.mock.calls.filter(([r]) => (r as Request).url.endsWith("/refresh"))).toHaveLength(1);
    expect(s.current.status).toBe("signed-out");
    expect(valid.size).toBe(0);
  });

  it("resumes a session from the refresh cookie at start-up, or ends up signed out", async () => {
    const ok = session(server({ validTokens: new Set() }).fetch);
    await ok.resume();
    expect(ok.current.status).toBe("signed-in");
    const none = session(server({ validTokens: new Set(), refreshOk: false }).fetch, "stale-cookie");
    await none.resume();
    expect(none.current).toEqual({ status: "signed-out" }); // no "session ended" for a first visit
  });

  it("makes no request to resume when there is no CSRF cookie (a first visit)", async () => {
    const { fetch } = server({ validTokens: new Set() });
    const s = session(fetch, null);
    await s.resume();
    expect(fetch).not.toHaveBeenCalled();
    expect(s.current).toEqual({ status: "signed-out" });
  });

  it("signs in only after a refresh still out has answered (its 401 can't undo the sign-in)", async () => {
    let answerRefresh: (r: Response) => void = () => undefined;
    const order: string[] = [];
    const fetch = vi.fn((request: Request) => {
      const path = new URL(request.url).pathname;
      order.push(path);
      if (path.endsWith("/refresh")) return new Promise<Response>((resolve) => (answerRefresh = resolve));
      return Promise.resolve(json(200, tokens(1)));
    });
    const s = session(fetch);
    const resumed = s.resume();
    const signedIn = s.signIn("maya", "secret");
    await Promise.resolve();
    expect(order).toEqual(["/api/v1/auth/session/refresh"]);
    answerRefresh(json(401, { title: "Not signed in", status: 401 }));
    await resumed;
    await signedIn;
    expect(order).toEqual(["/api/v1/auth/session/refresh", "/api/v1/auth/session"]);
    expect(s.current.status).toBe("signed-in");
    expect(s.accessToken).toBe("access-1");
  });

  it("signs out on the server with the CSRF header, and forgets the token", async () => {
    const valid = new Set<string>();
    const { fetch, calls } = server({ validTokens: valid });
    const s = session(fetch);
    await s.signIn("maya", "secret");
    await s.signOut();
    const logout = calls.at(-1)!;
    expect(logout.method).toBe("DELETE");
    expect(logout.url).toBe(`${ORIGIN}/api/v1/auth/session`);
    expect(logout.headers.get(CSRF_HEADER)).toBe("csrf-cookie");
    expect(s.accessToken).toBeNull();
    expect(s.current.status).toBe("signed-out");
  });

  it("serialises refreshes through the lock (tabs never spend one refresh token twice)", async () => {
    const order: string[] = [];
    const fetch = vi.fn(async () => {
      order.push("refresh");
      return json(200, tokens(1));
    });
    const s = new Session({
      fetch,
      origin: ORIGIN,
      readCookie: () => "c",
      withLock: async (name, task) => {
        order.push(`lock:${name}`);
        return task();
      },
      setTimer: () => 0,
      clearTimer: () => undefined,
    });
    await s.refresh();
    expect(order).toEqual(["lock:takt-session-refresh", "refresh"]);
  });
});
