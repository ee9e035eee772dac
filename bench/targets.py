"""Every speed goal of the new modules in one run (issue 19): `python -m bench.targets`.

Runs each module's own bench in turn, as a subprocess, with settings that keep the whole run
to about 20 minutes on a 2-core machine (shorter windows and fewer rounds than each bench's
defaults, never a different load: the rates and concurrencies the goals name stay), reads the
figures each one writes (`--json FILE`, or the JSON document the bench prints), and prints one
table: issue, goal, measured figure, met / not met, the command that measured it.

- issue 13 `bench.integrations`: webhook latency (PostgreSQL with the embedded worker, with a
  `takt worker`, SQLite), deliveries/s with 3 workers, SSE fan-out p99 and memory;
- issue 14 `bench.standups`: the stand-up summaries and the busy member's draft;
- issue 15 `bench.retros` (a vote, 50 voters) and `bench.estimation` (the calibration);
- issue 16 `bench.reviews`: inbound acceptance, processing, review metrics;
- issue 17 `bench.dora` (DORA and flow) and `bench.readiness`.

Each row's verdict is worked out here from the measured figure and the goal constant of the
bench's own module (`GOALS`, `GOAL_MS`, `GOAL_P99_MS`); a figure measured while requests failed
is not met. A bench that fails, times out, or leaves a figure out gives "not measured" and the
reason. `bench.dora` and `bench.readiness` get `--reuse` when their database already holds
their data (checked read-only; `--no-reuse` loads it again); `bench.standups` reuses its own.
The machine, a CPU calibration (a fixed pure-Python loop, before and after), the load average
and the commit are recorded with the table; `--record` appends it to RESULTS.md and writes
bench/results/<date>-targets.json. See bench/README.md (Every goal in one run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench import dora, estimation, integrations, readiness, report, retros, reviews, standups

ROOT = Path(__file__).parent.parent
# The worker count of integrations' throughput goal (GOALS["deliveries_per_second_3_workers"]).
THROUGHPUT_WORKERS = 3
CALIBRATION_STEPS = 5_000_000


@dataclass
class Row:
    issue: int
    bench: str
    goal: str
    measured: str | None  # None: not measured
    met: bool | None  # None: not measured
    reason: str = ""  # why it was not measured
    command: str = ""


@dataclass(frozen=True)
class Bench:
    name: str
    issue: int
    args: tuple[str, ...]  # the run's settings (after the bench's defaults)
    rows: Callable[[dict[str, Any]], list[Row]]
    json_flag: bool = True  # writes --json FILE; else prints its document on stdout
    reuse: Callable[[], bool] | None = None  # when true, `--reuse` is added


# Figures --------------------------------------------------------------------------------------


def _num(value: Any) -> str:
    """A figure as the tables show it: 250, 17.5, 1,559.5; n/a for none."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.1f}" if abs(value) >= 1000 else f"{value:g}"


def _within(value: float | None, goal: float, *, at_least: bool = False) -> bool | None:
    if value is None:
        return None
    return value >= goal if at_least else value <= goal


def _cpu(per: dict[str, Any] | None, unit: str = "ms") -> str:
    """CPU per unit of work of the measured processes (server, then PostgreSQL), if given."""
    shown = [v for k, v in (per or {}).items() if v is not None and not k.startswith("bench")]
    return f"; CPU {' + '.join(_num(v) for v in shown)} {unit} each" if shown else ""


def _errors(count: int, what: str = "failed") -> str:
    return f"; **{count} {what}**" if count else ""


def _refused(statuses: dict[str, int], ok: Callable[[str], bool]) -> int:
    """Answers (by status, as the bench's JSON keys them) that `ok` does not accept."""
    return sum(n for status, n in statuses.items() if not ok(str(status)))


def measured_row(
    issue: int,
    bench: str,
    goal: str,
    value: float | None,
    target: float,
    shown: str,
    *,
    errors: int | None = 0,
    at_least: bool = False,
) -> Row:
    """A row from one figure: met when within `target` (at most, or `at_least`) and nothing
    failed (`errors`); no figure, not measured."""
    within = _within(value, target, at_least=at_least)
    if within is None:
        return Row(issue, bench, goal, None, None, "no figure in its output")
    return Row(issue, bench, goal, shown, within and not errors)


def missing(issue: int, bench: str, goal: str, reason: str) -> Row:
    return Row(issue, bench, goal, None, None, reason)


# Rows of each bench: from the JSON document it writes (shapes as in its module) ---------------


LATENCY_RUNS = (
    ("latency-pg", "postgresql", False, "PostgreSQL, `takt serve` with its embedded worker"),
    ("latency-pg-workers", "postgresql", True, "PostgreSQL, `takt serve --no-worker` + workers"),
    ("latency-sqlite", "sqlite", False, "SQLite, `takt serve` with its embedded worker"),
)


def integrations_rows(doc: dict[str, Any]) -> list[Row]:
    goals = integrations.GOALS
    rows: list[Row] = []
    name = "integrations"
    for measure, database, workers, label in LATENCY_RUNS:
        entries = [
            e
            for e in doc.get("latency", [])
            if e.get("database") == database and bool(e.get("worker_processes")) == workers
        ]
        goal = f"webhook commit → delivery p99 ≤ {_num(goals['latency_p99_ms'])} ms, {label}"
        if not entries:
            rows.append(missing(13, name, goal, f"no `{measure}` run in its JSON"))
        for entry in entries:
            lat, writes = entry["latency_from_answer"], entry["writes"]
            at = f"{goal} at {_num(writes['target_rate'])} writes/s"
            late = int(entry.get("not_delivered") or 0)
            failed = int(writes.get("failed") or 0) + int(entry.get("bad_signatures") or 0)
            logged = int(entry.get("server_log_errors", 0)) + int(entry.get("worker_log_errors", 0))
            notes = (
                f"; delivered {entry['delivered']}/{writes['succeeded']}, duplicates "
                f"{entry.get('duplicates', 0)}"
                + _errors(int(writes.get("failed") or 0), "writes failed")
                + _errors(int(entry.get("bad_signatures") or 0), "bad signatures")
                + _errors(logged, "errors logged")
                + _cpu(entry.get("cpu_ms_per_item"))
            )
            if lat.get("p99_ms") is None and late:
                waited = entry.get("seconds_waited_after_last_write")
                shown = f"p99 > {_num(waited)} s: {late} still queued after the wait" + notes
                rows.append(Row(13, name, at, shown, False))
                continue
            shown = f"p99 {_num(lat.get('p99_ms'))} ms (p50 {_num(lat.get('p50_ms'))})" + notes
            rows.append(
                measured_row(
                    13, name, at, lat.get("p99_ms"), goals["latency_p99_ms"], shown, errors=failed
                )
            )
    goal = (
        f"≥ {_num(goals['deliveries_per_second_3_workers'])} deliveries/s with "
        f"{THROUGHPUT_WORKERS} `takt worker` processes, PostgreSQL"
    )
    runs = [e for e in doc.get("throughput", []) if e.get("workers") == THROUGHPUT_WORKERS]
    if not runs:
        rows.append(missing(13, name, goal, f"no {THROUGHPUT_WORKERS}-worker run in its JSON"))
    for entry in runs:
        rate = entry.get("deliveries_per_second")
        shown = (
            f"{_num(rate)}/s ({entry['succeeded_in_time']} of {entry['deliveries']} in "
            f"{_num(entry['seconds'])} s{'' if entry['all_succeeded'] else ', time limit hit'}); "
            f"duplicates {entry.get('duplicates', 0)}"
            + _errors(int(entry.get("worker_log_errors", 0)), "errors logged")
            + _cpu(entry.get("cpu_ms_per_delivery"))
        )
        rows.append(
            measured_row(
                13, name, goal, rate, goals["deliveries_per_second_3_workers"], shown, at_least=True
            )
        )
    fan = doc.get("fanout")
    clients = f"{fan['clients']:,} SSE clients" if fan else "the SSE clients"
    goal = (
        f"fan-out to {clients}, commit → the last client: p99 ≤ {_num(goals['fanout_p99_ms'])} ms"
    )
    memory_goal = (
        f"server RSS per 1,000 SSE clients ≤ {_num(goals['memory_per_1000_clients_mb'])} MB"
    )
    if not fan:
        rows.append(missing(13, name, goal, "no `fanout` in its JSON"))
        rows.append(missing(13, name, memory_goal, "no `fanout` in its JSON"))
        return rows
    every = fan["fanout_every_client_from_answer"]
    frames = f"; {fan['frames_received']:,}/{fan['frames_expected']:,} frames" + _errors(
        int(fan.get("client_errors", 0)), "client errors"
    )
    if every.get("p99_ms") is None and every.get("missing"):
        shown = f"p99 n/a: {every['missing']} events did not reach every client" + frames
        rows.append(Row(13, name, goal, shown, False))
    else:
        shown = f"p99 {_num(every.get('p99_ms'))} ms (p50 {_num(every.get('p50_ms'))})" + frames
        rows.append(
            measured_row(13, name, goal, every.get("p99_ms"), goals["fanout_p99_ms"], shown)
        )
    per_1000 = fan.get("memory_per_1000_clients_mb")
    rss = fan.get("rss_mb", {})
    shown = (
        f"{_num(per_1000)} MB ({_num(rss.get('before_clients'))} → "
        f"{_num(rss.get('clients_connected'))} MB)"
    )
    rows.append(
        measured_row(13, name, memory_goal, per_1000, goals["memory_per_1000_clients_mb"], shown)
    )
    return rows


def standup_goals() -> list[standups.Target]:
    """The stand-up requests the issue's goal applies to (their ids don't depend on the day)."""
    return [t for t in standups.targets(date.today()) if t.goal]


def standups_rows(doc: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    titles = {g["target"]: g["title"] for g in doc.get("goals", [])}
    for target in standup_goals():
        title = titles.get(target.id, target.id.replace("_", " "))
        goal = f"stand-ups: {title}, one connection: p99 ≤ {_num(standups.GOAL_MS)} ms"
        entry = doc.get("pooled", {}).get(f"{target.id}@1")
        if entry is None:
            rows.append(missing(14, "standups", goal, f"no `{target.id}` at 1 connection"))
            continue
        rounds = " / ".join(_num(v) for v in entry.get("p99_by_round", []))
        cpu = {
            "server": _mean(entry.get("server_cpu_ms")),
            "pg": _mean(entry.get("postgres_cpu_ms")),
        }
        shown = (
            f"p99 {_num(entry['p99_ms'])} ms (rounds {rounds}; {entry['requests']:,} requests)"
            + _errors(int(entry.get("errors", 0)), "errors")
            + _cpu(cpu)
        )
        rows.append(
            measured_row(
                14,
                "standups",
                goal,
                entry["p99_ms"],
                standups.GOAL_MS,
                shown,
                errors=entry.get("errors", 0),
            )
        )
    return rows


def _mean(values: list[float | None] | None) -> float | None:
    found = [v for v in values or [] if v is not None]
    return round(sum(found) / len(found), 2) if found else None


def retros_rows(doc: dict[str, Any]) -> list[Row]:
    options = doc.get("options", {})  # as strings
    voters, rate = options.get("voters", "the"), options.get("rate", "n/a")
    goal = (
        f"a retro vote, {voters} voters at {rate} votes/s on one retro (steady), PostgreSQL: "
        f"p99 ≤ {_num(retros.GOAL_P99_MS)} ms"
    )
    steady = doc.get("results", {}).get("steady", [])
    if not steady:
        return [missing(15, "retros", goal, "no steady run in its JSON")]
    p99s = [run.get("p99_ms") for run in steady]
    refused = sum(_refused(run.get("statuses", {}), lambda s: s == "201") for run in steady)
    worst = None if None in p99s else max(p99s)
    shown = (
        f"p99 {' / '.join(_num(v) for v in p99s)} ms ({len(steady)} runs, "
        f"{sum(run.get('count', 0) for run in steady):,} votes)"
        + _errors(refused, "votes not 201")
        + _cpu(steady[0].get("cpu_ms_per_vote"))
    )
    return [measured_row(15, "retros", goal, worst, retros.GOAL_P99_MS, shown, errors=refused)]


def estimation_rows(doc: dict[str, Any]) -> list[Row]:
    rows = []
    for kind, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        items = doc.get("finished_items")
        over = f"{items:,}" if isinstance(items, int) else "the"
        goal = (
            f"calibration over {over} finished items, {label}: p99 ≤ {_num(estimation.GOAL_MS)} ms"
        )
        result = doc.get(kind)
        if not result:
            rows.append(missing(15, "estimation", goal, f"no `{kind}` in its JSON"))
            continue
        cal = result["calibration"]
        shown = (
            f"p99 {_num(cal['p99_ms'])} ms (p50 {_num(cal['p50_ms'])}, {cal['runs']} runs; "
            f"its CPU p50 {_num(cal['cpu']['p50_ms'])} ms)"
        )
        rows.append(measured_row(15, "estimation", goal, cal["p99_ms"], estimation.GOAL_MS, shown))
    return rows


def reviews_rows(doc: dict[str, Any]) -> list[Row]:
    goals, name = reviews.GOALS, "reviews"
    rows = []
    acceptance = doc.get("acceptance")
    rate = f"{_num(acceptance['rate'])}" if acceptance else "the goal's"
    goal = (
        f"inbound GitHub webhook acceptance at {rate} deliveries/s, PostgreSQL: "
        f"p99 ≤ {_num(goals['acceptance_p99_ms'])} ms"
    )
    if not acceptance:
        rows.append(missing(16, name, goal, "no `acceptance` in its output"))
    else:
        refused = _refused(acceptance.get("statuses", {}), lambda s: s.startswith("2"))
        shown = (
            f"p99 {_num(acceptance['p99_ms'])} ms (p50 {_num(acceptance['p50_ms'])}; "
            f"{acceptance['deliveries']:,} at {_num(acceptance['achieved_per_second'])}/s achieved)"
            + _errors(refused, "not accepted")
            + _cpu(acceptance.get("cpu_ms_per_delivery"))
        )
        value = acceptance["p99_ms"]
        rows.append(
            measured_row(16, name, goal, value, goals["acceptance_p99_ms"], shown, errors=refused)
        )
    processing = doc.get("processing")
    goal = (
        f"processing inbound deliveries with one `takt worker`: "
        f"≥ {_num(goals['processing_per_second'])}/s"
    )
    if not processing:
        rows.append(missing(16, name, goal, "no `processing` in its output"))
    else:
        states = processing.get("states", {})
        left = sum(n for state, n in states.items() if state != "processed")
        shown = (
            f"{_num(processing['per_second'])}/s ({states.get('processed', 0):,} of "
            f"{processing['deliveries']:,} in {_num(processing['seconds'])} s)"
            + _errors(left, "not processed")
            + _cpu(processing.get("cpu_ms_per_delivery"))
        )
        value = processing["per_second"]
        rows.append(
            measured_row(
                16, name, goal, value, goals["processing_per_second"], shown, at_least=True
            )
        )
    metrics = doc.get("metrics")
    count = f"{metrics['pull_requests']:,}" if metrics else "the"
    goal = f"review metrics over {count} pull requests: p99 ≤ {_num(goals['metrics_p99_ms'])} ms"
    if not metrics:
        rows.append(missing(16, name, goal, "no `metrics` in its output"))
    else:
        shown = (
            f"p99 {_num(metrics['p99_ms'])} ms (p50 {_num(metrics['p50_ms'])}, "
            f"{metrics['requests']} requests)" + _cpu(metrics.get("cpu_ms_per_request"))
        )
        rows.append(measured_row(16, name, goal, metrics["p99_ms"], goals["metrics_p99_ms"], shown))
    return rows


def dora_rows(doc: dict[str, Any]) -> list[Row]:
    asked = dora.questions("today", "two years ago", "90 days ago")
    runs = doc.get("runs", {})
    database = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(doc.get("database", ""), "")
    rows = []
    for question, (path, _params) in asked.items():
        kind = "DORA" if path.endswith("/dora") else "flow"
        words = question.replace("_", " ")
        goal = f"{kind}: {words}, {database or 'the database'}: p99 ≤ {_num(dora.GOAL_P99_MS)} ms"
        run = runs.get(question)
        if run is None:
            rows.append(missing(17, "dora", goal, f"no `{question}` in its JSON"))
            continue
        shown = (
            f"p99 {_num(run['p99_ms'])} ms (p50 {_num(run['p50_ms'])}, {run['requests']} "
            f"requests)"
            + _errors(int(run.get("errors", 0)), "errors")
            + _cpu(run.get("cpu_ms_per_request"))
        )
        rows.append(
            measured_row(
                17, "dora", goal, run["p99_ms"], dora.GOAL_P99_MS, shown, errors=run.get("errors")
            )
        )
    return rows


def readiness_rows(doc: dict[str, Any]) -> list[Row]:
    found = doc.get("readiness", {})
    rows = []
    for question, how in (("ref", "by release commit"), ("items", "by `items=`")):
        goal = (
            f"readiness of a {readiness.RELEASE}-item release {how}, PostgreSQL: "
            f"p99 ≤ {_num(readiness.GOAL_P99_MS)} ms"
        )
        run = found.get(question)
        if run is None:
            rows.append(missing(17, "readiness", goal, f"no `{question}` in its output"))
            continue
        shown = (
            f"p99 {_num(run['p99_ms'])} ms (p50 {_num(run['p50_ms'])}, {run['requests']} "
            f"requests)" + _cpu(run.get("cpu_ms_per_request"))
        )
        rows.append(
            measured_row(17, "readiness", goal, run["p99_ms"], readiness.GOAL_P99_MS, shown)
        )
    return rows


# Reuse: read-only checks that a bench's database holds its data -------------------------------


async def _holds(url: str, sql: str, *, at_head: bool = False) -> bool:
    from takt.core.migrations import migration_state

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            if await conn.scalar(text(sql)) is None:
                return False
        return not at_head or await migration_state(engine) is None
    except Exception:  # no such database or table: not loaded
        return False
    finally:
        await engine.dispose()


def dora_loaded() -> bool:
    # bench.dora --reuse upgrades the database itself.
    sql = f"select 1 from projects where key = '{dora.PROJECT}'"  # noqa: S608 (a constant)
    return asyncio.run(_holds(dora.DEFAULT_PG, sql))


def readiness_loaded() -> bool:
    # bench.readiness --reuse does not migrate: only a database at the head is reused.
    sql = (
        "select 1 from projects where key = 'REL' "
        "and exists (select 1 from users where username = 'bench')"
    )
    return asyncio.run(_holds(readiness.DEFAULT_PG, sql, at_head=True))


BENCHES = (
    Bench(
        "integrations",
        13,
        (
            "--measure",
            ",".join(m for m, *_ in LATENCY_RUNS) + ",throughput,fanout",
            "--seconds",
            "20",
            "--drain",
            "20",
            "--workers",
            str(THROUGHPUT_WORKERS),
            "--ratio-seconds",
            "5",
        ),
        integrations_rows,
    ),
    Bench(
        "standups",
        14,
        (
            "--concurrency",
            "1",
            "--rounds",
            "2",
            "--seconds",
            "10",
            "--warmup",
            "2",
            "--only",
            ",".join(t.id for t in standup_goals()),
        ),
        standups_rows,
    ),
    Bench("retros", 15, ("--seconds", "15", "--repeat", "2", "--rounds", "3"), retros_rows),
    Bench("estimation", 15, (), estimation_rows),  # its defaults: 10,000 items, 200 runs
    Bench(
        "reviews", 16, ("--seconds", "15", "--metrics-seconds", "8"), reviews_rows, json_flag=False
    ),
    Bench("dora", 17, ("--seconds", "6"), dora_rows, reuse=dora_loaded),
    Bench(
        "readiness",
        17,
        ("--requests", "300"),
        readiness_rows,
        json_flag=False,
        reuse=readiness_loaded,
    ),
)


# Running --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    name: str
    command: str
    exit_status: int | None = None
    seconds: float = 0.0
    load_before: float = 0.0
    document: dict[str, Any] | None = None
    failure: str = ""  # why there is no document
    log: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)


def last_json_document(output: str) -> dict[str, Any] | None:
    """The JSON document a bench printed last (`json.dumps(indent=2)`: a line `{` at column 0
    starts it), or None."""
    lines = output.splitlines()
    starts = [n for n, line in enumerate(lines) if line == "{"]
    for start in reversed(starts):
        try:
            found = json.loads("\n".join(lines[start:]))
        except json.JSONDecodeError:
            continue
        if isinstance(found, dict):
            return found
    return None


def rows_for(bench: Bench, outcome: Outcome) -> list[Row]:
    """The bench's rows from its document; without one, every goal "not measured" with why."""
    if outcome.document is not None:
        rows = bench.rows(outcome.document)
    else:
        rows = [Row(r.issue, r.bench, r.goal, None, None, outcome.failure) for r in bench.rows({})]
    for row in rows:
        row.command = outcome.command
        if row.met is None and not row.reason:
            row.reason = outcome.failure or "no figure in its output"
    return rows


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGINT to the bench's process group (its servers stop in its `finally`), then SIGKILL."""
    for sig, wait in ((signal.SIGINT, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _reap(group: int) -> None:
    """Whatever of the bench's process group outlived it (a server left by a crash)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)


def run_bench(bench: Bench, extra: list[str], workdir: Path, *, timeout: float) -> Outcome:
    args = list(bench.args)
    if bench.reuse is not None and bench.reuse():
        args.append("--reuse")
    args += extra
    out_path = workdir / f"{bench.name}.json"
    shown = f"python -m bench.{bench.name} {shlex.join(args)}".strip()
    if bench.json_flag:
        args += ["--json", str(out_path)]
    outcome = Outcome(bench.name, shown, load_before=round(os.getloadavg()[0], 2))
    log_path = workdir / f"{bench.name}.log"
    outcome.log = str(log_path)
    print(f"\n== {shown}", flush=True)
    started = time.monotonic()
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", f"bench.{bench.name}", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,  # its servers and workers in its own process group
        )
        output: list[str] = []

        def pump() -> None:  # its output, echoed until a printed JSON document begins
            in_document = False
            assert process.stdout is not None
            for line in process.stdout:
                output.append(line)
                in_document = in_document or line.rstrip("\n") == "{"
                if not in_document:
                    print(f"  [{bench.name}] {line.rstrip()}", flush=True)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            _stop(process)
            outcome.failure = f"timed out after {timeout:g} s (stopped)"
        except KeyboardInterrupt:
            _stop(process)
            raise
        finally:
            _reap(process.pid)
        reader.join(10)
    outcome.seconds = round(time.monotonic() - started, 1)
    outcome.exit_status = process.returncode
    if bench.json_flag and out_path.exists():
        try:
            outcome.document = json.loads(out_path.read_text())
        except json.JSONDecodeError as exc:
            outcome.failure = outcome.failure or f"its JSON did not parse: {exc}"
    elif not bench.json_flag and not outcome.failure:
        outcome.document = last_json_document("".join(output))
    if outcome.document is None and not outcome.failure:
        tail = [line for line in log_path.read_text().splitlines() if line.strip()][-1:]
        outcome.failure = f"exit status {process.returncode}, no figures" + (
            f": {tail[0].strip()[:200]}" if tail else ""
        )
    return outcome


def cpu_calibration(steps: int = CALIBRATION_STEPS, repeat: int = 3) -> float:
    """Seconds of a fixed pure-Python loop, best of `repeat`: this machine's speed right now."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        total = 0
        for n in range(steps):
            total += n * n % 7
        best = min(best, time.perf_counter() - started)
    return round(best, 3)


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(  # noqa: S603
            ["git", *args],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout

    found = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    changed = sorted(
        {line[3:].split("/", 1)[0] for line in git("status", "--porcelain").splitlines()}
    )
    return found + (f" + uncommitted ({', '.join(changed)})" if changed else "")


def _load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


# Report ---------------------------------------------------------------------------------------


def verdict(row: Row | dict[str, Any]) -> str:
    found = asdict(row) if isinstance(row, Row) else row
    if found["met"] is None:
        return f"not measured: {found['reason']}"
    return "met" if found["met"] else "**not met**"


def table(rows: Iterable[Row | dict[str, Any]]) -> str:
    lines = ["| Issue | Goal | Measured | Met | Command |", "|---|---|---|---|---|"]
    for row in rows:
        found = asdict(row) if isinstance(row, Row) else row
        measured = found["measured"] if found["measured"] is not None else "not measured"
        lines.append(
            f"| {found['issue']} | {found['goal']} | {measured} | {verdict(found)} | "
            f"`{found['command']}` |"
        )
    return "\n".join(lines) + "\n"


def markdown(document: dict[str, Any]) -> str:
    m, cal, load = document["machine"], document["cpu_calibration_s"], document["load_average"]
    met = [r["met"] for r in document["rows"]]
    benches = ", ".join(
        f"{o['name']} {o['seconds']:g} s (load {o['load_before']})" for o in document["benches"]
    )
    lines = [
        f"## {document['date']} · every speed goal of issues 13 to 17 in one run (`bench.targets`)",
        "",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB RAM, {m['os']}, "
        f"Python {m['python']}",
        f"- CPU calibration (a pure-Python loop of {CALIBRATION_STEPS:,} steps, best of 3): "
        f"{cal['before']} s before, {cal['after']} s after",
        f"- Load average (1/5/15 min): before {'/'.join(map(str, load['before']))}, after "
        f"{'/'.join(map(str, load['after']))}",
        f"- Commit: `{document['commit']}`",
        f"- Command: `{document['command']}`",
        f"- Each bench (wall seconds, 1-min load at its start): {benches}",
        f"- Raw figures: `{document.get('raw', 'not recorded')}`",
        f"- {met.count(True)} met, {met.count(False)} not met, {met.count(None)} not measured",
        "",
        table(document["rows"]),
    ]
    return "\n".join(lines)


def record(document: dict[str, Any]) -> Path:
    report.RESULTS_DIR.mkdir(exist_ok=True)
    stem = f"{datetime.now(UTC):%Y-%m-%d}-targets"
    path = report.RESULTS_DIR / f"{stem}.json"
    run = 1
    while path.exists():  # a later run the same day gets -2, -3, …
        run += 1
        path = report.RESULTS_DIR / f"{stem}-{run}.json"
    document["raw"] = f"bench/results/{path.name}"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    with report.RESULTS_MD.open("a") as out:
        out.write("\n" + markdown(document))
    return path


def parse(argv: list[str] | None) -> argparse.Namespace:
    names = [b.name for b in BENCHES]
    parser = argparse.ArgumentParser(prog="python -m bench.targets", description=__doc__)
    parser.add_argument("--only", help=f"Comma-separated, of: {', '.join(names)}.")
    parser.add_argument(
        "--args",
        action="append",
        default=[],
        metavar="NAME=ARGS",
        help="More arguments for one bench, after this run's (e.g. "
        "estimation='--items 500 --runs 20'); repeatable.",
    )
    parser.add_argument(
        "--no-reuse", action="store_true", help="Load dora's and readiness' data again."
    )
    parser.add_argument(
        "--timeout", type=float, default=1200, help="Seconds one bench may take (stopped after)."
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="Write bench/results/<date>-targets.json and append the table to RESULTS.md.",
    )
    parser.add_argument("--json", type=Path, help="Also write every figure to this file.")
    args = parser.parse_args(argv)
    chosen = [n.strip() for n in args.only.split(",")] if args.only else names
    if unknown := set(chosen) - set(names):
        parser.error(f"unknown bench(es): {', '.join(sorted(unknown))}")
    args.chosen = chosen
    extra: dict[str, list[str]] = {}
    for given in args.args:
        name, _, more = given.partition("=")
        if name not in names:
            parser.error(f"--args: unknown bench {name!r}")
        extra.setdefault(name, []).extend(shlex.split(more))
    args.extra = extra
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    chosen = [b for b in BENCHES if b.name in args.chosen]
    if args.no_reuse:
        chosen = [replace(b, reuse=None) for b in chosen]
    document: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": report.machine(),
        "commit": commit(),
        "command": "python -m bench.targets " + shlex.join(sys.argv[1:] if argv is None else argv),
        "load_average": {"before": _load()},
        "cpu_calibration_s": {"before": cpu_calibration()},
    }
    print(
        f"CPU calibration {document['cpu_calibration_s']['before']} s, load "
        f"{document['load_average']['before']}, commit {document['commit']}",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="takt-bench-targets-"))
    outcomes: list[Outcome] = []
    rows: list[Row] = []
    for bench in chosen:
        outcome = run_bench(bench, args.extra.get(bench.name, []), workdir, timeout=args.timeout)
        found = rows_for(bench, outcome)
        outcome.rows = [asdict(r) for r in found]
        rows += found
        outcomes.append(outcome)
        print(table(found), flush=True)
    document["cpu_calibration_s"]["after"] = cpu_calibration()
    document["load_average"]["after"] = _load()
    document["rows"] = [asdict(r) for r in rows]
    document["benches"] = [{k: v for k, v in asdict(o).items() if k != "rows"} for o in outcomes]
    if args.json:
        args.json.write_text(json.dumps(document, indent=2, default=str) + "\n")
    if args.record:
        path = record(document)
        print(f"Wrote {path} and appended to {report.RESULTS_MD}")
    print("\n" + markdown(document))
    print(f"Logs: {workdir}")


if __name__ == "__main__":
    main()
