import { createBrowserRouter, Navigate, type RouteObject } from "react-router";
import { screens, type ScreenDef } from "../screens/registry";
import { SignInScreen } from "../screens/signin/SignInScreen";
import { NotFound } from "./NotFound";
import { ProjectLayout } from "./ProjectLayout";
import { RequireAuth } from "./RequireAuth";
import { RouteError } from "./RouteError";
import { Shell } from "./Shell";

function route(def: ScreenDef): RouteObject {
  return {
    path: def.path,
    lazy: async () => ({ Component: (await def.load()).default }),
  };
}

export const routes: RouteObject[] = [
  { path: "/signin", element: <SignInScreen /> },
  {
    path: "/",
    element: <RequireAuth />,
    errorElement: <RouteError />,
    children: [
      {
        element: <Shell />,
        errorElement: <RouteError />,
        children: [
          { index: true, element: <Navigate to="/projects" replace /> },
          ...screens.filter((s) => s.scope === "global").map(route),
          {
            path: "p/:projectKey",
            element: <ProjectLayout />,
            children: [
              { index: true, element: <Navigate to="backlog" replace /> },
              ...screens.filter((s) => s.scope === "project").map(route),
            ],
          },
          { path: "*", element: <NotFound /> },
        ],
      },
    ],
  },
];

export const router = createBrowserRouter(routes);
