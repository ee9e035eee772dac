import { Link } from "react-router";
import { EmptyState } from "../components/States";

export function NotFound() {
  return (
    <EmptyState title="Nothing here" action={<Link to="/projects">Go to your projects</Link>}>
      This page doesn't exist, or you can't see it.
    </EmptyState>
  );
}
