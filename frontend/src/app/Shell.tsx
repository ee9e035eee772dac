import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, NavLink, Outlet, useNavigate, useParams } from "react-router";
import { api, ok } from "../api/client";
import { session } from "../auth";
import { OfflineBanner } from "../components/OfflineBanner";
import { toastError } from "../components/toasts";
import { navEntries } from "../screens/registry";
import { LAST_PROJECT } from "./ProjectLayout";
import "./shell.css";

/** The frame of every signed-in screen: skip link, header with navigation, main. */
export function Shell() {
  const { projectKey } = useParams();
  const project = projectKey ?? localStorage.getItem(LAST_PROJECT) ?? undefined;
  const me = useQuery({ queryKey: ["me"], queryFn: () => ok(api.GET("/api/v1/users/me")), staleTime: 300_000 });
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <OfflineBanner />
      <header className="topbar">
        <Link to="/projects" className="brand" aria-label="Takt home">
          <span className="brand-mark" aria-hidden="true">
            T
          </span>
          <span>Takt</span>
        </Link>
        <nav aria-label="Main" className="mainnav">
          <ul>
            {navEntries("global").map((s) => (
              <li key={s.path}>
                <NavLink to={`/${s.path}`} end>
                  {s.nav!.label}
                </NavLink>
              </li>
            ))}
            {project &&
              navEntries("project").map((s) => (
                <li key={s.path}>
                  <NavLink to={`/p/${project}/${s.path}`}>
                    {s.nav!.label}
                    {s.path === "backlog" && <span className="nav-project"> · {project}</span>}
                  </NavLink>
                </li>
              ))}
          </ul>
        </nav>
        <UserMenu name={me.data?.display_name || me.data?.username} />
      </header>
      <main id="main" className="content" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}

function UserMenu({ name }: { name: string | undefined }) {
  const [open, setOpen] = useState(false);
  const navigate = useNavigate();
  async function run(action: () => Promise<void>) {
    setOpen(false);
    try {
      await action();
      navigate("/signin", { replace: true });
    } catch (error) {
      toastError(error);
    }
  }
  return (
    <div
      className="usermenu"
      onBlur={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOpen(false);
      }}
      onKeyDown={(e) => {
        if (e.key === "Escape") setOpen(false);
      }}
    >
      <button
        type="button"
        className="ghost"
        aria-expanded={open}
        aria-controls="usermenu-list"
        aria-label={`Account: ${name ?? "you"}`}
        onClick={() => setOpen((o) => !o)}
      >
        <span className="avatar" aria-hidden="true">
          {(name ?? "?").slice(0, 1).toUpperCase()}
        </span>
        <span className="usermenu-name">{name ?? "Account"}</span>
      </button>
      {open && (
        <ul id="usermenu-list" className="usermenu-list">
          <li>
            <button type="button" className="ghost" onClick={() => void run(() => session.signOut())}>
              Sign out
            </button>
          </li>
          <li>
            <button type="button" className="ghost" onClick={() => void run(() => session.signOutEverywhere())}>
              Sign out everywhere
            </button>
          </li>
        </ul>
      )}
    </div>
  );
}
