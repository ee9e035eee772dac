import { useEffect, useState, type FormEvent } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router";
import { describeError } from "../../api/problem";
import { session, useSession } from "../../auth";
import "./signin.css";

/** Password sign-in. The refresh token becomes an HttpOnly cookie; the access token stays in memory. */
export function SignInScreen() {
  const state = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ title: string; detail?: string } | null>(null);

  useEffect(() => {
    if (state.status === "unknown") void session.resume();
  }, [state.status]);

  if (state.status === "signed-in" && !busy) return <Navigate to={next} replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await session.signIn(username.trim(), password);
      navigate(next, { replace: true });
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  }

  return (
    <main className="signin">
      <form className="signin-card card" onSubmit={submit} aria-describedby={error ? "signin-error" : undefined}>
        <div className="signin-brand">
          <span className="brand-mark" aria-hidden="true">
            T
          </span>
          <h1>Sign in to Takt</h1>
        </div>
        {state.reason && !error && <p className="muted small">{state.reason}</p>}
        {error && (
          <div id="signin-error" className="signin-error" role="alert">
            <strong>{error.title}</strong>
            {error.detail && <span> {error.detail}</span>}
          </div>
        )}
        <div className="field">
          <label htmlFor="username">Username or email</label>
          <input
            id="username"
            name="username"
            autoComplete="username"
            required
            maxLength={255}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            maxLength={1024}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        <button type="submit" className="primary signin-submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

/** Only paths of this app (never another origin) after sign-in. */
function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/signin")) return "/projects";
  return next;
}
