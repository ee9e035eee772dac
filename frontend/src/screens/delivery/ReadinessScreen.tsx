import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent, type RefObject } from "react";
import { Link, useSearchParams } from "react-router";
import { api, ok, type Schemas } from "../../api/client";
import { useProject } from "../../app/project";
import { EmptyState, ErrorState, Loading } from "../../components/States";
import { formatDateTime } from "../../lib/format";
import { DeliveryFrame } from "./DeliveryFrame";
import { deploymentName } from "./DeploymentBits";
import { CHECK_LABEL, defaultEnvironment, MAX_ITEM_KEYS, parseItemKeys, SHA_PATTERN, shortSha, sortChecks, type Check } from "./format";
import { deploymentsQuery, useEnvironments } from "./queries";

type Mode = "ref" | "items";

/** "Is it ready for this environment?": a commit or a set of items → the checklist, failing first. */
export default function ReadinessScreen() {
  const project = useProject();
  const envs = useEnvironments(project.key);
  const [params, setParams] = useSearchParams();
  const askedEnv = params.get("environment") ?? "";
  const askedRef = params.get("ref") ?? "";
  const askedItems = params.get("items") ?? "";
  const [mode, setMode] = useState<Mode>(askedItems ? "items" : "ref");
  const [environment, setEnvironment] = useState(askedEnv);
  const [ref, setRef] = useState(askedRef);
  const [items, setItems] = useState(askedItems.replace(/,/g, ", "));
  const [problem, setProblem] = useState<string | null>(null);
  const env = environment || defaultEnvironment(envs.data ?? []) || "";
  const asking = !!askedEnv && (!!askedRef || !!askedItems);
  const answer = useQuery({
    queryKey: ["readiness", project.key, askedEnv, askedRef, askedItems],
    enabled: asking,
    queryFn: () =>
      ok(
        api.GET("/api/v1/projects/{project_key}/readiness", {
          params: {
            path: { project_key: project.key },
            query: { environment: askedEnv, ...(askedRef ? { ref: askedRef } : { items: askedItems }) },
          },
        }),
      ),
  });
  const resultHeading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (answer.data) resultHeading.current?.focus();
  }, [answer.data]);

  function submit(e: FormEvent) {
    e.preventDefault();
    const next = new URLSearchParams({ environment: env });
    if (mode === "ref") {
      const sha = ref.trim();
      if (!SHA_PATTERN.test(sha)) {
        setProblem("A commit is 7 to 64 hexadecimal characters; give the full SHA when you have it.");
        return;
      }
      next.set("ref", sha.toLowerCase());
    } else {
      const parsed = parseItemKeys(items);
      if (parsed.invalid.length) {
        setProblem(`Not item keys: ${parsed.invalid.slice(0, 5).join(", ")}.`);
        return;
      }
      if (!parsed.keys.length) {
        setProblem("Give at least one item key, e.g. DEMO-12.");
        return;
      }
      if (parsed.keys.length > MAX_ITEM_KEYS) {
        setProblem(`At most ${MAX_ITEM_KEYS} items at once.`);
        return;
      }
      next.set("items", parsed.keys.join(","));
    }
    setProblem(null);
    setParams(next);
    if (answer.data && next.toString() === params.toString()) void answer.refetch();
  }

  return (
    <DeliveryFrame title="Readiness">
      <div className="two-columns">
        <form className="card readiness-form" onSubmit={submit} aria-labelledby="readiness-ask" noValidate>
          <h2 id="readiness-ask">Is it ready?</h2>
          {problem && (
            <div className="form-error" role="alert">
              {problem}
            </div>
          )}
          <div className="field">
            <label htmlFor="readiness-env">To environment</label>
            <select id="readiness-env" value={env} onChange={(e) => setEnvironment(e.target.value)} disabled={!envs.data}>
              {(envs.data ?? []).map((e) => (
                <option key={e.id} value={e.name}>
                  {e.name}
                </option>
              ))}
            </select>
          </div>
          <fieldset className="mode-choice">
            <legend>Ask about</legend>
            <label>
              <input type="radio" name="readiness-mode" value="ref" checked={mode === "ref"} onChange={() => setMode("ref")} /> a commit
            </label>
            <label>
              <input type="radio" name="readiness-mode" value="items" checked={mode === "items"} onChange={() => setMode("items")} /> work items
            </label>
          </fieldset>
          {mode === "ref" ? (
            <>
              <div className="field">
                <label htmlFor="readiness-ref">
                  Commit SHA <span className="hint">the full SHA is best: Takt knows commits by it</span>
                </label>
                <input
                  id="readiness-ref"
                  className="mono"
                  value={ref}
                  maxLength={64}
                  autoComplete="off"
                  spellCheck={false}
                  placeholder="e.g. 9f1c2ab0d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9"
                  onChange={(e) => setRef(e.target.value)}
                />
              </div>
              {envs.data && envs.data.length > 0 && (
                <div className="quick-picks" role="group" aria-label="Commits running now">
                  {envs.data.map((e) => (
                    <RunningPick key={e.id} projectKey={project.key} environment={e.name} onPick={setRef} />
                  ))}
                </div>
              )}
            </>
          ) : (
            <div className="field">
              <label htmlFor="readiness-items">
                Item keys <span className="hint">separated by commas or spaces, up to {MAX_ITEM_KEYS}</span>
              </label>
              <input id="readiness-items" value={items} autoComplete="off" placeholder={`${project.key}-83, ${project.key}-115`} onChange={(e) => setItems(e.target.value)} />
            </div>
          )}
          <button type="submit" className="primary" disabled={!env}>
            Check readiness
          </button>
        </form>
        <section aria-live="polite" aria-busy={answer.isFetching}>
          {!asking && (
            <EmptyState title="Ask about a commit or a release">
              Pick the environment it would go to, then give a commit (or use one running somewhere) or the items of the release. Takt checks the items, their pull
              requests and blockers, the environment before on the promotion path and the incidents open in the target, and says why it isn't ready.
            </EmptyState>
          )}
          {asking && answer.isPending && <Loading label="Checking…" />}
          {answer.isError && <ErrorState error={answer.error} retry={() => void answer.refetch()} />}
          {answer.data && <Answer answer={answer.data} projectKey={project.key} headingRef={resultHeading} />}
        </section>
      </div>
    </DeliveryFrame>
  );
}

function RunningPick({ projectKey, environment, onPick }: { projectKey: string; environment: string; onPick: (sha: string) => void }) {
  const latest = useQuery(deploymentsQuery(projectKey, environment, 1, "success"));
  const d = latest.data?.data[0];
  if (!d?.sha) return null;
  return (
    <button type="button" className="small" onClick={() => onPick(d.sha!)} title={d.sha}>
      On {environment}: {deploymentName(d)} <span className="sha">{shortSha(d.sha)}</span>
    </button>
  );
}

function Answer({
  answer,
  projectKey,
  headingRef,
}: {
  answer: Schemas["ReadinessAnswer"];
  projectKey: string;
  headingRef: RefObject<HTMLHeadingElement | null>;
}) {
  const checks = sortChecks(answer.checks);
  const failing = checks.filter((c) => c.enabled && c.passed === false).length;
  return (
    <div data-testid="readiness-answer">
      <div className={`verdict ${answer.ready ? "ready" : "not-ready"}`}>
        <h2 ref={headingRef} tabIndex={-1}>
          {answer.ready ? `Ready for ${answer.environment}` : `Not ready for ${answer.environment}`}
        </h2>
        {!answer.ready && (
          <span>
            {failing} {failing === 1 ? "check fails" : "checks fail"}
          </span>
        )}
      </div>
      <p className="small muted">
        {answer.ref ? (
          <>
            Commit <span className="sha">{shortSha(answer.ref)}</span>,{" "}
          </>
        ) : null}
        {answer.items.length ? (
          <>
            {answer.items.length === 1 ? "item" : "items"}{" "}
            {answer.items.slice(0, 20).map((k, i) => (
              <span key={k}>
                {i > 0 && ", "}
                <Link to={`/p/${projectKey}/items/${k}`} className="mono">
                  {k}
                </Link>
              </span>
            ))}
            {answer.items.length > 20 && ` and ${answer.items.length - 20} more`}
          </>
        ) : (
          "no item linked"
        )}
        ; checked {formatDateTime(answer.evaluated_at)}.
      </p>
      <ol className="checklist" aria-label="Checks, failing first">
        {checks.map((c) => (
          <CheckRow key={c.check} check={c} projectKey={projectKey} />
        ))}
      </ol>
    </div>
  );
}

function CheckRow({ check: c, projectKey }: { check: Check; projectKey: string }) {
  const verdict = !c.enabled ? "off" : c.passed ? "pass" : "fail";
  const d = c.details;
  const [items, prs, blockers, incidents] = [d.items ?? [], d.pull_requests ?? [], d.blockers ?? [], d.incidents ?? []];
  const hasDetails = items.length + prs.length + blockers.length + incidents.length > 0 || !!d.deployment;
  return (
    <li className={`check ${verdict === "fail" ? "failed" : verdict === "pass" ? "passed" : ""}`} data-testid="readiness-check" data-result={verdict}>
      <span className={`badge ${verdict === "fail" ? "danger" : verdict === "pass" ? "success" : ""}`}>{verdict === "off" ? "off" : verdict === "pass" ? "pass" : "fail"}</span>
      <div>
        <h3>{CHECK_LABEL[c.check] ?? c.check}</h3>
        <p className="reason">{c.reason}</p>
        {hasDetails && (
          <details>
            <summary>Details</summary>
            <ul>
              {items.map((i) => (
                <li key={`i-${i.key}`}>
                  <Link to={`/p/${projectKey}/items/${i.key}`} className="mono">
                    {i.key}
                  </Link>{" "}
                  {i.title} ({i.status})
                </li>
              ))}
              {prs.map((p) => (
                <li key={`p-${p.id}`}>
                  {p.url ? (
                    <a href={p.url} target="_blank" rel="noreferrer noopener">
                      {p.repository}#{p.number}
                    </a>
                  ) : (
                    `${p.repository}#${p.number}`
                  )}{" "}
                  {p.title}: {p.state}
                  {p.approved ? ", approved" : ", not approved"}
                </li>
              ))}
              {blockers.map((b) => (
                <li key={`b-${b.id}`}>
                  <span className="mono">{b.item_key}</span> blocked since {formatDateTime(b.raised_at)}: {b.reason}
                </li>
              ))}
              {incidents.map((i) => (
                <li key={`n-${i.id}`}>
                  <Link to={`/p/${projectKey}/delivery/incidents`}>INC-{i.number}</Link> {i.title} ({i.severity}), open since {formatDateTime(i.opened_at)}
                </li>
              ))}
              {d.deployment && (
                <li>
                  <Link to={`/p/${projectKey}/delivery/deployments/${d.deployment.id}`}>{d.deployment.version ?? "The deployment"}</Link>
                  {d.environment && ` to ${d.environment}`}
                  {d.deployment.succeeded_at && `, ${formatDateTime(d.deployment.succeeded_at)}`}
                </li>
              )}
            </ul>
          </details>
        )}
      </div>
    </li>
  );
}
