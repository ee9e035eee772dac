"""Ratios, targets, and the written record: bench/results/*.json and bench/RESULTS.md."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import dataset

if TYPE_CHECKING:
    from bench.run import RunResult

BENCH = Path(__file__).parent
RESULTS_MD = BENCH / "RESULTS.md"
RESULTS_DIR = BENCH / "results"
ENDPOINTS = ("E0", "E1", "E2", "E2_deep", "E3", "E4", "E5", "E6", "E7", "E8_serial", "E8")
QUERY_TARGETS = {"E1": 2, "E2": 3, "E4": 3, "E7": 4}  # the same ceilings as bench.run
RSS_TARGET_MB = 200


def _ms(value: float | None) -> str:
    return "n/a (no request finished)" if value is None else f"{value:.2f}"


def line(endpoint: str, entry: dict[str, Any]) -> str:
    return (
        f"  {endpoint:<9} {entry['rps']:>9,.1f} req/s  p50 {_ms(entry['p50_ms']):>8} ms  "
        f"p99 {_ms(entry['p99_ms']):>8} ms  errors {entry['errors']:>5}  "
        f"SQL/request {entry['queries_per_request']}"
    )


def _ratio(top: float | None, bottom: float | None) -> float | None:
    if top is None or not bottom:
        return None
    return round(top / bottom, 3)


def ratios(main: RunResult, baseline: RunResult | None) -> dict[str, float | None]:
    e = main.endpoints
    base = baseline.endpoints if baseline else {}

    def get(results: dict[str, dict[str, Any]], key: str, field: str) -> float | None:
        value = results.get(key, {}).get(field)
        return float(value) if value is not None else None

    return {
        "R1": _ratio(get(e, "E1", "rps"), get(e, "E0", "rps")),
        "R2": _ratio(get(e, "E2", "rps"), get(e, "E0", "rps")),
        "R3": _ratio(get(e, "E2_deep", "p99_ms"), get(base, "E2", "p99_ms")),
        "R4": _ratio(get(e, "E4", "p99_ms"), get(base, "E4", "p99_ms")),
        "write_ratio": _ratio(get(e, "E7", "rps"), get(e, "E1", "rps")),
    }


def targets(
    main: RunResult, baseline: RunResult | None, r: dict[str, float | None]
) -> list[dict[str, Any]]:
    """Each target with its measured value and whether it is met (None: not measured)."""
    e = main.endpoints
    rows: list[dict[str, Any]] = []

    def add(name: str, value: Any, goal: str, met: bool | None) -> None:
        rows.append({"target": name, "measured": value, "goal": goal, "met": met})

    def at_least(value: float | None, goal: float) -> bool | None:
        return None if value is None else value >= goal

    def at_most(value: float | None, goal: float) -> bool | None:
        return None if value is None else value <= goal

    add("R1 = E1 / E0 req/s", r["R1"], ">= 0.30", at_least(r["R1"], 0.30))
    add("R2 = E2 first page / E0 req/s", r["R2"], ">= 0.15", at_least(r["R2"], 0.15))
    add("R3 = p99 E2 deep page / p99 E2 first page (S)", r["R3"], "<= 1.2", at_most(r["R3"], 1.2))
    add("R4 = p99 E4 / p99 E4 (S)", r["R4"], "<= 1.5", at_most(r["R4"], 1.5))
    for key, goal in (("E5", 25.0), ("E8", 50.0)):
        entry = e.get(key, {})
        value = entry.get("p99_ms")
        if entry and value is None:
            add(
                f"{key} p99 (ms)",
                f"> {entry['seconds']:.0f} s (none finished)",
                f"<= {goal:g}",
                False,
            )
        else:
            add(f"{key} p99 (ms)", value, f"<= {goal:g}", at_most(value, goal))
    for key, ceiling in QUERY_TARGETS.items():
        value = e.get(key, {}).get("queries_per_request")
        add(f"{key} SQL statements per request", value, f"<= {ceiling}", at_most(value, ceiling))
    if baseline is not None:
        pairs = {
            k: (e[k]["queries_per_request"], baseline.endpoints[k]["queries_per_request"])
            for k in QUERY_TARGETS
            if k in e and k in baseline.endpoints
        }
        shown = ", ".join(f"{k} {a}/{b}" for k, (a, b) in pairs.items())
        add(
            f"SQL per request equal in {main.config.size} and S",
            shown,
            "equal",
            all(a == b for a, b in pairs.values()),
        )
    rss = main.memory.get("peak_rss_mb")
    add("server peak RSS (MB)", rss, f"<= {RSS_TARGET_MB}", at_most(rss, RSS_TARGET_MB))
    total_errors = sum(v.get("errors", 0) for v in e.values())
    add("errors, all endpoints", total_errors, "0", total_errors == 0)
    if main.config.database == "sqlite":
        writes = {k: e[k] for k in ("E6", "E7") if k in e}
        errors = sum(v["errors"] for v in writes.values())
        seconds = min((v["seconds"] for v in writes.values()), default=0)
        add(
            f"SQLite: E6+E7 errors at {main.config.concurrency} writers, "
            f"{seconds:.0f} s each; {main.locked_errors} 'database is locked' in the log",
            errors,
            "0",
            errors == 0 and main.locked_errors == 0,
        )
    return rows


def machine() -> dict[str, Any]:
    cpu = ""
    memory_gib = 0.0
    try:
        for text_line in Path("/proc/cpuinfo").read_text().splitlines():
            if text_line.startswith("model name"):
                cpu = text_line.split(":", 1)[1].strip()
                break
        for text_line in Path("/proc/meminfo").read_text().splitlines():
            if text_line.startswith("MemTotal"):
                memory_gib = round(int(text_line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": memory_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def git_commit() -> str:
    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            ["git", *args],  # noqa: S607
            cwd=BENCH.parent,
            capture_output=True,
            text=True,
            check=False,
        )

    commit = git("rev-parse", "--short", "HEAD").stdout.strip() or "unknown"
    if git("diff", "--quiet", "HEAD", "--", "src").returncode != 0:
        commit += " + uncommitted changes in src/"
    return commit


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def markdown(document: dict[str, Any]) -> str:
    m, run = document["machine"], document["run"]
    size = dataset.SIZES[run["size"]]
    lines = [
        f"## {document['date']} · {run['database_version']} · dataset {run['size']} "
        f"({size.total_items:,} items)",
        "",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB RAM, {m['os']}, "
        f"Python {m['python']}",
        f"- Commit: `{document['commit']}`",
        f"- Load generator: {document['load_generator']}; {run['concurrency']} connections, "
        f"{run['duration_s']:g} s per endpoint after {run['warmup_s']:g} s warm-up"
        + (f", E6/E7 {run['write_duration_s']:g} s" if run["write_duration_s"] else "")
        + "; one server worker on loopback, load generator on the same machine",
        f"- Command: `{document['command']}`",
        f"- Raw figures: `{document['raw']}`",
    ]
    if document.get("baseline"):
        lines.append(
            f"- Baseline for R3/R4: dataset S on {document['baseline']['database_version']}, "
            "same run, same settings"
        )
    lines += [
        "",
        "| Endpoint | Request | req/s | p50 ms | p99 ms | errors | SQL/request |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for key in ENDPOINTS:
        entry = document.get(key)
        if not entry or "rps" not in entry:
            continue
        request = entry["request"].split("?")[0] + ("?…" if "?" in entry["request"] else "")
        lines.append(
            f"| {key} {entry['title']} | `{request}` | {entry['rps']:,.1f} | "
            f"{_ms(entry['p50_ms'])} | {_ms(entry['p99_ms'])} | {entry['errors']} | "
            f"{entry['queries_per_request']} |"
        )
    for key, entry in (document.get("baseline") or {}).get("endpoints", {}).items():
        if "rps" in entry:
            lines.append(
                f"| {key} (S baseline) | {entry['title']} | {entry['rps']:,.1f} | "
                f"{entry['p50_ms']:.2f} | {entry['p99_ms']:.2f} | {entry['errors']} | "
                f"{entry['queries_per_request']} |"
            )
    lines += [
        "",
        f"Server memory: peak RSS {document['server_memory']['peak_rss_mb']} MB "
        f"(after each endpoint: {_peaks(document)}). "
        f"Write ratio E7/E1: {_fmt(document['write_ratio'])}. "
        f"Load average (1 min) before/after: {document['load_average']['before']}/"
        f"{document['load_average']['after']}.",
        "",
        "| Target (reference: PostgreSQL, dataset M, one worker) | Measured | Goal | Met |",
        "|---|---|---|---|",
    ]
    for row in document["targets"]:
        met = {True: "met", False: "**not met**", None: "not measured"}[row["met"]]
        lines.append(f"| {row['target']} | {_fmt(row['measured'])} | {row['goal']} | {met} |")
    return "\n".join(lines) + "\n"


def _peaks(document: dict[str, Any]) -> str:
    return ", ".join(
        f"{key} {document[key]['server_peak_rss_mb_after']:g}"
        for key in ENDPOINTS
        if "server_peak_rss_mb_after" in document.get(key, {})
    )


RESULTS_HEADER = """# Benchmark results

Each section is one `python -m bench.run` invocation; ratios are measured in that run, against the
same server. How to reproduce: bench/README.md. Raw figures: bench/results/*.json.

"""


def write(
    main: RunResult, baseline: RunResult | None, *, generator: str, command: str
) -> dict[str, str]:
    now = datetime.now(UTC)
    r = ratios(main, baseline)
    document: dict[str, Any] = {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "commit": git_commit(),
        "load_generator": generator,
        "command": command,
        "run": {
            "database": main.config.database,
            "database_version": main.database_version,
            "size": main.config.size,
            "concurrency": main.config.concurrency,
            "duration_s": main.config.duration,
            "warmup_s": main.config.warmup,
            "write_duration_s": main.config.write_duration,
        },
        **r,
        **{key: main.endpoints[key] for key in ENDPOINTS if key in main.endpoints},
        "server_memory": main.memory,
        "database_locked_log_lines": main.locked_errors,
        "load_average": {"before": main.load_before, "after": main.load_after},
    }
    if baseline is not None:
        document["baseline"] = {
            "database_version": baseline.database_version,
            "size": baseline.config.size,
            "endpoints": baseline.endpoints,
            "server_memory": baseline.memory,
        }
    document["targets"] = targets(main, baseline, r)
    RESULTS_DIR.mkdir(exist_ok=True)
    stem = f"{now:%Y-%m-%d}-{main.config.database}-{main.config.size}"
    path = RESULTS_DIR / f"{stem}.json"
    run = 1
    while path.exists():  # a later run the same day gets -2, -3, …
        run += 1
        path = RESULTS_DIR / f"{stem}-{run}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    document["raw"] = f"bench/results/{path.name}"
    table = markdown(document)
    if not RESULTS_MD.exists():
        RESULTS_MD.write_text(RESULTS_HEADER)
    with RESULTS_MD.open("a") as out:
        out.write("\n" + table)
    return {"json": str(path), "markdown": str(RESULTS_MD), "table": table}
