"""The one-run table of every module's speed goals (bench.targets): rows and verdicts from canned
documents shaped as each bench writes them (their modules' code), the goal read from the bench's
own constant, and "not measured" with the reason when a bench leaves a figure out or fails.
No bench runs here."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import pytest

from bench import integrations, targets


def verdicts(rows: list[targets.Row]) -> list[str]:
    return [targets.verdict(row) for row in rows]


def latency(database: str, workers: int, p99: float | None, *, late: int = 0) -> dict[str, Any]:
    return {  # bench.integrations.measure_latency
        "database": database,
        "database_version": "PostgreSQL 15.20" if database == "postgresql" else "SQLite 3.40.1",
        "worker_processes": workers,
        "writes": {"target_rate": 100.0, "sent": 2000, "succeeded": 2000, "failed": 0},
        "delivered": 2000 - late,
        "not_delivered": late,
        "seconds_waited_after_last_write": 20.0,
        "duplicates": 0,
        "bad_signatures": 0,
        "latency_from_answer": {
            "count": 2000 - late,
            "missing": late,
            "p50_ms": 20.0,
            "p99_ms": p99,
        },
        "cpu_ms_per_item": {"takt serve (API + embedded worker)": 9.5, "bench (this process)": 1.0},
        "server_log_errors": 0,
        "worker_log_errors": 0,
    }


INTEGRATIONS: dict[str, Any] = {
    "latency": [latency("postgresql", 0, 29.0), latency("postgresql", 1, None, late=12)],
    "throughput": [
        {
            "workers": w,
            "webhooks": 1,
            "deliveries": 5000,
            "all_succeeded": True,
            "duplicates": 0,
            "seconds": 3.2,
            "succeeded_in_time": 5000,
            "deliveries_per_second": rate,
            "cpu_ms_per_delivery": {"takt worker processes": 0.6},
            "worker_log_errors": 0,
        }
        for w, rate in ((1, 1088.4), (3, 1559.5))
    ],
    "fanout": {
        "clients": 1000,
        "frames_expected": 100_000,
        "frames_received": 100_000,
        "client_errors": 0,
        "fanout_every_client_from_answer": {
            "count": 100,
            "missing": 0,
            "p50_ms": 59.0,
            "p99_ms": 85.0,
        },
        "rss_mb": {"before_clients": 110.0, "clients_connected": 145.2},
        "memory_per_1000_clients_mb": 35.2,
    },
}


def test_integrations_rows_read_its_goals_and_say_what_was_not_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = targets.integrations_rows(INTEGRATIONS)

    assert [r.issue for r in rows] == [13] * 6
    assert verdicts(rows) == [
        "met",  # PostgreSQL, embedded worker: p99 29 ms
        "**not met**",  # 12 deliveries still queued after the wait: p99 beyond it
        "not measured: no `latency-sqlite` run in its JSON",
        "met",  # 3 workers (the 1-worker run has no goal: no row)
        "met",
        "met",
    ]
    assert rows[0].goal.startswith("webhook commit → delivery p99 ≤ 250 ms, PostgreSQL")
    assert rows[0].measured == (
        "p99 29 ms (p50 20); delivered 2000/2000, duplicates 0; CPU 9.5 ms each"
    )
    assert str(rows[1].measured).startswith("p99 > 20 s: 12 still")
    assert str(rows[3].measured).startswith("1,559.5/s (5000 of 5000")
    assert rows[5].measured == "35.2 MB (110 → 145.2 MB)"

    # The verdict follows the module's constant, not a copy of it.
    monkeypatch.setitem(integrations.GOALS, "latency_p99_ms", 25)
    assert targets.verdict(targets.integrations_rows(INTEGRATIONS)[0]) == "**not met**"


def test_standups_rows_need_the_p99_at_one_connection_and_no_errors() -> None:
    def pooled(p99: float, errors: int = 0) -> dict[str, Any]:
        return {  # bench.standups.pooled
            "target": "",
            "connections": 1,
            "errors": errors,
            "requests": 1200,
            "rps": [60.0],
            "p99_by_round": [p99 - 1, p99],
            "server_cpu_ms": [7.0, 8.0],
            "postgres_cpu_ms": [2.5, 3.5],
            "p50_ms": 10.0,
            "p95_ms": 14.0,
            "p99_ms": p99,
            "max_ms": 30.0,
        }

    document = {
        "pooled": {
            "summary@1": pooled(17.5),
            "summary@4": pooled(230.0),  # other concurrencies: no goal
            "summary_changed@1": pooled(23.0, errors=3),
            "summary_recorded@1": pooled(51.0),
        },
        "goals": [{"target": "summary", "title": "summary of 2026-11-27"}],
    }

    rows = targets.standups_rows(document)

    assert rows[0].goal == ("stand-ups: summary of 2026-11-27, one connection: p99 ≤ 50 ms")
    assert verdicts(rows) == [
        "met",
        "**not met**",  # within the goal, but 3 requests failed
        "**not met**",
        "not measured: no `draft_busy` at 1 connection",
    ]
    assert (
        rows[0].measured == "p99 17.5 ms (rounds 16.5 / 17.5; 1,200 requests); CPU 7.5 + 3 ms each"
    )
    assert "**3 errors**" in str(rows[1].measured)


def test_retros_estimation_dora_and_readiness_rows() -> None:
    steady = [  # bench.retros: results["steady"], bench.integrations.summary + statuses
        {
            "count": 750,
            "missing": 0,
            "p50_ms": 5.8,
            "p99_ms": p99,
            "max_ms": 40.0,
            "statuses": {"201": 750},
            "cpu_ms_per_vote": {"takt serve (API, no worker)": 3.3},
        }
        for p99 in (10.8, 17.2)
    ]
    retro = {"options": {"voters": "50", "rate": "50.0"}, "results": {"steady": steady}}
    assert verdicts(targets.retros_rows(retro)) == ["met"]
    steady[1]["statuses"] = {"201": 749, "409": 1}
    (row,) = targets.retros_rows(retro)
    assert (targets.verdict(row), row.measured) == (
        "**not met**",
        "p99 10.8 / 17.2 ms (2 runs, 1,500 votes); **1 votes not 201**; CPU 3.3 ms each",
    )

    def timed(p99: float) -> dict[str, Any]:  # bench.estimation.figures
        return {
            "p50_ms": 5.0,
            "p99_ms": p99,
            "max_ms": 80.0,
            "runs": 200,
            "cpu": {"p50_ms": 4.0, "p99_ms": 6.0, "max_ms": 9.0, "runs": 200},
        }

    calibrated = {
        "finished_items": 10_000,
        "goal_p99_ms": 50.0,
        "sqlite": {"calibration": timed(14.3), "reveal": timed(20.0)},
        "postgresql": {"calibration": timed(70.2), "reveal": timed(20.0)},
    }
    rows = targets.estimation_rows(calibrated)
    assert verdicts(rows) == ["met", "**not met**"]
    assert rows[0].goal == "calibration over 10,000 finished items, SQLite: p99 ≤ 50 ms"

    def question(p99: float, errors: int = 0) -> dict[str, Any]:  # bench.dora.measure
        return {
            "requests": 90,
            "errors": errors,
            "p50_ms": 40.0,
            "p99_ms": p99,
            "max_ms": 120.0,
            "cpu_ms_per_request": {
                "takt serve": 18.0,
                "PostgreSQL (this database's connections)": 68.0,
            },
        }

    runs = {
        "dora_90_days": question(33.1),
        "dora_2_years_weekly": question(112.8),
        "flow_30_days": question(45.5),
        "flow_2_years": question(76.3, errors=1),
    }
    rows = targets.dora_rows({"database": "postgresql", "goal_p99_ms": 100.0, "runs": runs})
    assert [r.goal for r in rows][1] == ("DORA: dora 2 years weekly, PostgreSQL: p99 ≤ 100 ms")
    assert verdicts(rows) == [
        "met",
        "**not met**",
        "met",
        "not measured: no `flow_90_days_bugs` in its JSON",
        "**not met**",  # an error among its requests
    ]

    def ready(p99: float) -> dict[str, Any]:  # bench.readiness.measure
        return {
            "requests": 300,
            "p50_ms": 4.6,
            "p99_ms": p99,
            "max_ms": 12.0,
            "cpu_ms_per_request": {
                "takt serve": 2.6,
                "PostgreSQL (this database's connections)": 1.4,
            },
        }

    printed = "bench.readiness on …\n  ref: {'p99_ms': 9.1}\n" + json.dumps(
        {
            "readiness": {
                "baseline": ready(1.0),
                "ref": ready(9.1),
                "items": ready(8.6),
                "goal_p99_ms": 50,
                "met": True,
            }
        },
        indent=2,
    )
    document = targets.last_json_document(printed)
    assert document is not None
    rows = targets.readiness_rows(document)
    assert verdicts(rows) == ["met", "met"]
    assert rows[1].measured == "p99 8.6 ms (p50 4.6, 300 requests); CPU 2.6 + 1.4 ms each"


def test_reviews_rows_come_from_the_document_it_prints() -> None:
    document = {  # bench.reviews.run: acceptance, processing, metrics
        "goals": {"acceptance_p99_ms": 50, "processing_per_second": 200, "metrics_p99_ms": 100},
        "acceptance": {
            "rate": 200.0,
            "deliveries": 3000,
            "achieved_per_second": 199.6,
            "statuses": {"202": 2999, "0": 1},
            "p50_ms": 4.05,
            "p95_ms": 6.3,
            "p99_ms": 24.8,
            "max_ms": 60.0,
            "cpu_ms_per_delivery": {"takt serve": 2.4},
        },
        "processing": {
            "deliveries": 2999,
            "states": {"processed": 2999},
            "seconds": 7.0,
            "per_second": 428.4,
            "cpu_ms_per_delivery": {"takt worker": 1.74},
        },
        "metrics": {
            "pull_requests": 20_000,
            "requests": 160,
            "p50_ms": 46.9,
            "p99_ms": 51.8,
            "cpu_ms_per_request": {"takt serve": 8.0},
        },
    }
    printed = "bench.reviews on …\n  acceptance at 200/s: p50 4.05 ms\n" + json.dumps(
        document, indent=2
    )

    found = targets.last_json_document(printed)
    assert found == document
    rows = targets.reviews_rows(found)

    assert [r.issue for r in rows] == [16, 16, 16]
    # p99 within 50 ms, but one delivery timed out (status 0): not met.
    assert verdicts(rows) == ["**not met**", "met", "met"]
    assert rows[0].goal == (
        "inbound GitHub webhook acceptance at 200 deliveries/s, PostgreSQL: p99 ≤ 50 ms"
    )
    assert rows[1].goal.endswith("≥ 200/s")


def test_a_bench_that_failed_gives_every_goal_not_measured_with_the_reason() -> None:
    bench = next(b for b in targets.BENCHES if b.name == "reviews")
    outcome = targets.Outcome(
        "reviews",
        "python -m bench.reviews --seconds 15",
        exit_status=1,
        failure="exit status 1, no figures: ConnectionRefusedError: [Errno 111]",
    )

    rows = targets.rows_for(bench, outcome)

    assert len(rows) == 3
    assert all(r.measured is None and r.met is None for r in rows)
    rendered = targets.table(rows).splitlines()
    assert rendered[0] == "| Issue | Goal | Measured | Met | Command |"
    assert rendered[2] == (
        "| 16 | inbound GitHub webhook acceptance at the goal's deliveries/s, PostgreSQL: "
        "p99 ≤ 50 ms | not measured | not measured: exit status 1, no figures: "
        "ConnectionRefusedError: [Errno 111] | `python -m bench.reviews --seconds 15` |"
    )
    assert targets.last_json_document("Traceback (most recent call last):\n  …\n") is None


def test_the_section_records_the_machine_calibration_load_and_counts() -> None:
    rows = targets.readiness_rows({"readiness": {}})
    for row in rows:
        row.command = "python -m bench.readiness --requests 300"
    document = {
        "date": "2026-11-28 02:00 UTC",
        "machine": {
            "cores": 2,
            "cpu": "AMD EPYC",
            "memory_gib": 23.5,
            "os": "Linux",
            "python": "3.11.7",
        },
        "commit": "b29a11f + uncommitted (bench)",
        "command": "python -m bench.targets --only readiness",
        "load_average": {"before": [0.5, 0.4, 0.3], "after": [1.1, 0.6, 0.4]},
        "cpu_calibration_s": {"before": 0.41, "after": 0.43},
        "benches": [{"name": "readiness", "seconds": 95.0, "load_before": 0.5}],
        "rows": [asdict(r) for r in rows],
    }

    section = targets.markdown(document)

    assert "- Machine: 2 cores (AMD EPYC), 23.5 GiB RAM, Linux, Python 3.11.7" in section
    assert "0.41 s before, 0.43 s after" in section
    assert "before 0.5/0.4/0.3, after 1.1/0.6/0.4" in section
    assert "- 0 met, 0 not met, 2 not measured" in section
    assert "not measured: no `ref` in its output" in section
