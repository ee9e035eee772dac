import { Link, useSearchParams } from "react-router";
import { useProject } from "../../app/project";
import { PageHeader } from "../../components/PageHeader";
import { BacklogList } from "./BacklogList";
import { RefinementQueue } from "./RefinementQueue";
import "./backlog.css";

export default function BacklogScreen() {
  const project = useProject();
  const [params] = useSearchParams();
  const view = params.get("view") === "refinement" ? "refinement" : "backlog";
  return (
    <>
      <PageHeader title="Backlog" subtitle={project.name} />
      <nav className="tabs" aria-label="Backlog views">
        <Link to="?" aria-current={view === "backlog" ? "page" : undefined}>
          Ranked backlog
        </Link>
        <Link to="?view=refinement" aria-current={view === "refinement" ? "page" : undefined}>
          Refinement queue
        </Link>
      </nav>
      {view === "backlog" ? <BacklogList project={project} /> : <RefinementQueue project={project} />}
    </>
  );
}
