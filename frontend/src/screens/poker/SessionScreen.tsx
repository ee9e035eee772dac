import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { api, ok, type Schemas } from "../../api/client";
import { useProject } from "../../app/project";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { toast } from "../../components/toasts";
import { percent, points } from "../../lib/format";
import { LiveStatus, useLiveReload } from "../retro/live";
import { agreementWords, days, isSessionEvent, labelFor, suggestedEstimate, voterStates, type Deck, type Round, type Session } from "./rounds";
import "./poker.css";

type Item = Schemas["EstimationItemRead"];

/** One planning-poker session, live: hidden votes, the reveal with calibration, finalize. */
export default function SessionScreen() {
  const project = useProject();
  const { sessionId = "" } = useParams();
  const key = ["estimation", project.key, sessionId];
  const session = useQuery({
    queryKey: key,
    queryFn: () => ok(api.GET("/api/v1/estimations/{session_id}", { params: { path: { session_id: sessionId } } })),
  });
  const me = useQuery({ queryKey: ["me"], queryFn: () => ok(api.GET("/api/v1/users/me")), staleTime: 300_000 });
  const live = useLiveReload(project.key, (e) => isSessionEvent(e, sessionId), [key]);
  if (session.isPending || me.isPending) return <SkeletonRows />;
  if (session.isError) return <ErrorState error={session.error} retry={() => void session.refetch()} />;
  if (me.isError) return <ErrorState error={me.error} retry={() => void me.refetch()} />;
  const s = session.data;
  const meId = me.data.id;
  const facilitates = s.facilitator?.id === meId || project.role === "admin";
  const participates = s.participants.some((p) => p.id === meId);
  return (
    <>
      <PageHeader
        title={s.title}
        subtitle={
          <>
            <Link to={`/p/${project.key}/poker`}>Planning poker</Link>
            {s.facilitator && <> · facilitated by {s.facilitator.display_name || s.facilitator.username}</>} · {s.items.filter((i) => i.state === "estimated").length}{" "}
            of {s.items.length} estimated
          </>
        }
        actions={facilitates && s.state === "open" ? <EndSession session={s} projectKey={project.key} /> : null}
      />
      <p>
        <LiveStatus status={live} />
      </p>
      <div className="poker-layout">
        <nav aria-label="Items of the session" className="card poker-items">
          <ol>
            {s.items.map((i) => (
              <li key={i.item_key} aria-current={i.item_key === s.current_item_key ? "step" : undefined} className={`poker-item state-${i.state}`}>
                <span className="mono small">{i.item_key}</span>
                <span className="poker-item-title">{i.title}</span>
                <span className={`badge${i.state === "estimated" ? " success" : i.item_key === s.current_item_key ? " accent" : ""}`}>
                  {i.state === "estimated" ? `${labelFor(i.estimate, s.scale.cards)}` : i.state}
                </span>
              </li>
            ))}
          </ol>
        </nav>
        {s.current ? (
          <CurrentItem key={`${s.current.item_key}`} session={s} item={s.current} projectKey={project.key} meId={meId} facilitates={facilitates} participates={participates} />
        ) : (
          <EmptyState title="This session is finished" action={<Link to={`/p/${project.key}/poker`}>All sessions</Link>}>
            {s.items.filter((i) => i.state === "estimated").length} of {s.items.length} items were estimated; the estimates are on the items.
          </EmptyState>
        )}
      </div>
    </>
  );
}

function useSessionWrite<T = void>(projectKey: string, session: Session, fn: (vars: T) => Promise<Item | Session>) {
  const client = useQueryClient();
  const key = ["estimation", projectKey, session.id];
  return useMutation({
    mutationFn: fn,
    onSuccess: (answer) => {
      // The answer is the item up now (vote, reveal, reset) or the whole session (finalize, end).
      client.setQueryData<Session>(key, (old) => {
        if (!old) return old;
        if ("rounds" in answer) return { ...old, current: answer, items: old.items.map((i) => (i.item_key === answer.item_key ? { ...i, state: answer.state } : i)) };
        return answer;
      });
    },
    onSettled: () => client.invalidateQueries({ queryKey: key }),
  });
}

function CurrentItem({
  session,
  item,
  projectKey,
  meId,
  facilitates,
  participates,
}: {
  session: Session;
  item: Item;
  projectKey: string;
  meId: string;
  facilitates: boolean;
  participates: boolean;
}) {
  const round = item.rounds[item.rounds.length - 1];
  const deck = session.scale.cards;
  const open = session.state === "open" && !!round && !round.revealed;
  const path = { session_id: session.id, item_key: item.item_key };
  const vote = useSessionWrite(projectKey, session, (card: string) => ok(api.PUT("/api/v1/estimations/{session_id}/items/{item_key}/vote", { params: { path }, body: { card } })));
  const reveal = useSessionWrite(projectKey, session, () => ok(api.POST("/api/v1/estimations/{session_id}/items/{item_key}/reveal", { params: { path } })));
  const reset = useSessionWrite(projectKey, session, () => ok(api.POST("/api/v1/estimations/{session_id}/items/{item_key}/reset", { params: { path } })));
  const voters = voterStates(session.participants, round, meId);
  const votedCount = voters.filter((v) => v.voted).length;
  return (
    <section className="stack poker-current" aria-labelledby="current-title">
      <div className="card stack">
        <div>
          <h2 id="current-title">
            <Link to={`/p/${projectKey}/items/${item.item_key}`} className="mono">
              {item.item_key}
            </Link>{" "}
            {item.title}
          </h2>
          <p className="small muted">
            Round {round?.number ?? 1}
            {round?.revealed ? " · revealed" : " · votes hidden until the reveal"}
          </p>
        </div>
        {participates ? (
          <div>
            <h3 className="small" id="deck-label">
              {round?.my_card ? `Your card: ${round.my_card}` : "Play a card"}
            </h3>
            <div className="deck" role="group" aria-labelledby="deck-label">
              {deck.map((c) => (
                <button
                  key={c.label}
                  type="button"
                  className="poker-card"
                  aria-pressed={round?.my_card === c.label}
                  disabled={!open || vote.isPending}
                  onClick={() => vote.mutate(c.label)}
                  aria-label={c.points === null ? "Not sure (?)" : c.label === String(c.points) ? `${c.label} points` : `${c.label} (${points(c.points)} points)`}
                >
                  {c.label}
                </button>
              ))}
            </div>
          </div>
        ) : (
          <p className="small muted">You watch this session: only its participants vote.</p>
        )}
      </div>
      <section className="card stack" aria-labelledby="voters-title">
        <div className="row">
          <h3 id="voters-title">
            Votes
          </h3>
          <span className="small" role="status" data-testid="vote-count">
            {votedCount} of {voters.length} voted
          </span>
          <span className="spacer" />
          {facilitates && open && (
            <button type="button" className="primary" disabled={votedCount === 0 || reveal.isPending} onClick={() => reveal.mutate()}>
              Reveal cards
            </button>
          )}
          {facilitates && session.state === "open" && round?.revealed && (
            <button
              type="button"
              disabled={reset.isPending}
              onClick={() => reset.mutate(undefined, { onSuccess: () => toast({ kind: "info", title: "New round: vote again" }) })}
            >
              Vote again
            </button>
          )}
        </div>
        <ul className="voters" data-testid="voters">
          {voters.map((v) => (
            <li key={v.user.id} className={`voter${v.voted ? " voted" : ""}`} data-voter={v.user.username}>
              <span className={`voter-card${round?.revealed && v.card ? " shown" : ""}`} aria-hidden="true">
                {round?.revealed ? (v.card ?? "–") : v.voted ? "✓" : "…"}
              </span>
              <span>{v.user.display_name || v.user.username}</span>
              <span className="visually-hidden">
                {round?.revealed ? (v.card ? `played ${v.card}` : "did not vote") : v.voted ? "has voted" : "has not voted yet"}
              </span>
            </li>
          ))}
        </ul>
      </section>
      {round?.revealed && <Reveal round={round} deck={deck} />}
      {facilitates && session.state === "open" && round?.revealed && <Finalize key={round.number} session={session} item={item} round={round} projectKey={projectKey} />}
      {item.rounds.length > 1 && <EarlierRounds rounds={item.rounds.slice(0, -1)} />}
    </section>
  );
}

function Reveal({ round, deck }: { round: Round; deck: Deck }) {
  const s = round.spread;
  const played = new Set(round.votes?.map((v) => v.points) ?? []);
  return (
    <section className="card stack" aria-labelledby="spread-title" data-testid="reveal">
      <h3 id="spread-title">Spread</h3>
      {s && (
        <>
          <dl className="spread">
            <div>
              <dt>Lowest</dt>
              <dd>{labelFor(s.min, deck)}</dd>
            </div>
            <div>
              <dt>Highest</dt>
              <dd>{labelFor(s.max, deck)}</dd>
            </div>
            <div>
              <dt>Median</dt>
              <dd>{labelFor(s.median, deck)}</dd>
            </div>
            <div>
              <dt>Most played</dt>
              <dd>{labelFor(s.mode, deck)}</dd>
            </div>
            <div>
              <dt>Not sure</dt>
              <dd>{s.unsure}</dd>
            </div>
          </dl>
          <div>
            <div className="small" id="agreement-label">
              Agreement: <strong data-testid="agreement">{percent(s.agreement)}</strong> · {agreementWords(s.agreement)}
            </div>
            {s.agreement !== null && <meter aria-labelledby="agreement-label" min={0} max={1} low={0.5} high={0.75} optimum={1} value={s.agreement} />}
          </div>
        </>
      )}
      {round.calibration && round.calibration.length > 0 && (
        <div className="table-scroll">
          <table className="list calibration">
            <caption>How long the project's finished items of each estimate took (cycle time)</caption>
            <thead>
              <tr>
                <th scope="col">Estimate</th>
                <th scope="col">Items</th>
                <th scope="col">Median</th>
                <th scope="col">85 %</th>
                <th scope="col">Tells apart from the next?</th>
              </tr>
            </thead>
            <tbody>
              {round.calibration.map((c) => (
                <tr key={c.label} className={played.has(c.points) ? "played" : undefined}>
                  <th scope="row">
                    {c.label}
                    {played.has(c.points) && <span className="visually-hidden"> (played)</span>}
                  </th>
                  <td>{c.finished_items}</td>
                  <td>{days(c.median_cycle_days)}</td>
                  <td>{days(c.p85_cycle_days)}</td>
                  <td>{c.overlaps_next === null ? <span className="muted">too few items</span> : c.overlaps_next ? <span className="badge warning">overlaps</span> : "yes"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Finalize({ session, item, round, projectKey }: { session: Session; item: Item; round: Round; projectKey: string }) {
  const deck = session.scale.cards.filter((c) => c.points !== null);
  const [value, setValue] = useState<string>(() => {
    const s = suggestedEstimate(round.spread, session.scale.cards);
    return s === null ? "" : String(s);
  });
  const finalize = useSessionWrite(projectKey, session, (estimate: number) =>
    ok(api.POST("/api/v1/estimations/{session_id}/items/{item_key}/finalize", { params: { path: { session_id: session.id, item_key: item.item_key } }, body: { estimate } })),
  );
  function submit(e: FormEvent) {
    e.preventDefault();
    if (value === "") return;
    finalize.mutate(Number(value), {
      onSuccess: () => toast({ kind: "success", title: `${item.item_key} estimated: ${labelFor(Number(value), session.scale.cards)}` }),
    });
  }
  return (
    <form className="card row finalize" onSubmit={submit} aria-label="Finalize the estimate">
      <label htmlFor="final-estimate">Estimate</label>
      <select id="final-estimate" value={value} onChange={(e) => setValue(e.target.value)} required>
        <option value="">Choose…</option>
        {deck.map((c) => (
          <option key={c.label} value={String(c.points)}>
            {c.label === String(c.points) ? c.label : `${c.label} (${points(c.points)})`}
          </option>
        ))}
      </select>
      <button type="submit" className="primary" disabled={value === "" || finalize.isPending}>
        Finalize
      </button>
      <span className="small muted">Written to {item.item_key}; the next item comes up.</span>
    </form>
  );
}

function EarlierRounds({ rounds }: { rounds: Round[] }) {
  return (
    <details className="card">
      <summary>Earlier rounds ({rounds.length})</summary>
      <ul className="small">
        {rounds.map((r) => (
          <li key={r.number}>
            Round {r.number}:{" "}
            {r.votes ? r.votes.map((v) => `${v.voter.display_name || v.voter.username} ${v.card}`).join(", ") : `${r.voters.length} votes, never revealed`}
          </li>
        ))}
      </ul>
    </details>
  );
}

function EndSession({ session, projectKey }: { session: Session; projectKey: string }) {
  const end = useSessionWrite(projectKey, session, () => ok(api.POST("/api/v1/estimations/{session_id}/finish", { params: { path: { session_id: session.id } } })));
  return (
    <button
      type="button"
      disabled={end.isPending}
      onClick={() => {
        if (window.confirm("End the session? Items not reached keep their estimates.")) end.mutate();
      }}
    >
      End session
    </button>
  );
}
