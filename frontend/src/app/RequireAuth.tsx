import { useEffect } from "react";
import { Navigate, Outlet, useLocation } from "react-router";
import { session, useSession } from "../auth";
import { Loading } from "../components/States";

/** The app's screens need a session: resume it from the refresh cookie, or go sign in. */
export function RequireAuth() {
  const state = useSession();
  const location = useLocation();
  useEffect(() => {
    if (state.status === "unknown") void session.resume();
  }, [state.status]);
  if (state.status === "unknown") return <Loading label="Opening your session…" />;
  if (state.status === "signed-out") {
    const next = location.pathname + location.search;
    return <Navigate to={`/signin?next=${encodeURIComponent(next)}`} replace />;
  }
  return <Outlet />;
}
