import { useRouteError } from "react-router";
import { ErrorState } from "../components/States";

/** A screen failed to load or render: say so, offer a reload (a new build may be out). */
export function RouteError() {
  const error = useRouteError();
  return (
    <main className="content">
      <ErrorState error={error} retry={() => location.reload()} />
    </main>
  );
}
