"""Side by side: the same request shapes against Takt and another server, in one command.

    python -m bench.compare \\
        --target takt=http://127.0.0.1:8000 --shapes takt=bench/shapes/takt.json \\
        --header "takt=Authorization: Bearer $TAKT_TOKEN" \\
        --target taiga=http://127.0.0.1:9000 --shapes taiga=taiga-shapes.json \\
        --header "taiga=Authorization: Bearer $TAIGA_TOKEN" \\
        --connections 32 --duration 20 --rounds 3

Each target is a running server (this command starts nothing) with a shapes file of its own: the
same shape names, each a request in that server's API (see bench/README.md, "Side by side").
Rounds alternate: every shape against every target, then again, so a drift of the machine lands
on both. Each run is wrk (or the asyncio fallback) at `--connections` for `--duration` seconds,
then one connection for `--serial-duration` seconds for the serial p50. The first target is the
one ratios are of: ratio = its req/s / the other's, per round.

`--reference FILE` compares with recorded figures instead of (or besides) a second live server:
a JSON object `{"name": ..., "shapes": {shape: req/s}}` (bench/shapes/taiga-2026-11.json holds
the Taiga figures of issue 19). `--goal 50` marks each ratio met or not.

`--json FILE` writes the raw figures; `--record` appends a section to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import report
from bench.load import LoadResult, Request, drive
from bench.run import choose_generator

MAX_REQUESTS = 2_000  # requests expanded per shape (they are cycled through)


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    headers: dict[str, str]
    shapes: dict[str, Any]


def _fill(template: Any, values: dict[str, str]) -> Any:
    """`{name}` placeholders in strings (recursively in JSON bodies) from `values`."""
    if isinstance(template, str):
        return template.format_map(values)
    if isinstance(template, dict):
        return {key: _fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, values) for value in template]
    return template


def expand(shape: dict[str, Any], variables: dict[str, str], lanes: int) -> list[Request]:
    """A shape's requests: `{n}` runs over `n: [first, last]` (in a stride order, so neighbours
    in time touch different rows), `{flip}` alternates `a`/`b` for each n (so a PATCH always
    changes something), and request i goes to lane i mod `lanes` (writers in different
    connections never touch the same row)."""
    first, last = (int(_fill(str(bound), variables)) for bound in shape.get("n", [1, 1]))
    count = max(1, min(MAX_REQUESTS // 2, last - first + 1))
    stride = 7919 if count % 7919 else 1
    flips = ("a", "b") if "{flip}" in json.dumps(shape) else ("a",)
    requests = []
    for index in range(count):
        n = first + (index * stride) % count
        for flip in flips:
            values = {**variables, "n": str(n), "flip": flip}
            body = shape.get("body")
            requests.append(
                Request(
                    shape.get("method", "GET").upper(),
                    _fill(shape["path"], values),
                    json.dumps(_fill(body, values)) if body is not None else "",
                    lane=index % lanes,
                )
            )
    return requests


def load_target(name: str, url: str, shapes_file: Path, header_lines: list[str]) -> Target:
    document = json.loads(shapes_file.read_text())
    headers = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        headers[key.strip()] = value.strip()
    return Target(name, url.rstrip("/"), headers, document)


def _pairs(values: list[str], what: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep:
            raise SystemExit(f"{what} must be NAME=VALUE, got {value!r}")
        found.setdefault(name, []).append(rest)
    return found


async def check(target: Target, shape: str, requests: list[Request]) -> None:
    """One request of the shape answers 2xx, or the comparison would measure error pages."""
    sample = requests[0]
    headers = {"Content-Type": "application/json", **target.headers}
    async with httpx.AsyncClient(base_url=target.url, headers=headers, timeout=30) as client:
        response = await client.request(sample.method, sample.path, content=sample.body or None)
    if not 200 <= response.status_code < 300:
        raise SystemExit(
            f"{target.name} {shape}: {sample.method} {sample.path} answered "
            f"{response.status_code}: {response.text[:300]}"
        )


async def run(options: argparse.Namespace) -> dict[str, Any]:
    urls = _pairs(options.target, "--target")
    shape_files = _pairs(options.shapes, "--shapes")
    header_lines = _pairs(options.header or [], "--header")
    variables = {k: v[-1] for k, v in _pairs(options.var or [], "--var").items()}
    targets = [
        load_target(name, url[-1], Path(shape_files[name][-1]), header_lines.get(name, []))
        for name, url in urls.items()
    ]
    reference = json.loads(Path(options.reference).read_bytes()) if options.reference else None  # noqa: ASYNC240
    names = [n for n in targets[0].shapes["shapes"] if not options.only or n in options.only]
    generator, description = choose_generator(options.load_generator)
    lanes = min(options.connections, 4) if generator == "wrk" else options.connections
    plans: dict[tuple[str, str], list[Request]] = {}
    for target in targets:
        for shape in names:
            spec = target.shapes["shapes"].get(shape)
            if spec is None:
                raise SystemExit(f"{target.name}'s shapes file has no {shape!r}")
            merged = {**target.shapes.get("vars", {}), **variables}
            plans[target.name, shape] = expand(spec, merged, lanes)
            await check(target, shape, plans[target.name, shape])
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        t.name: {s: [] for s in names} for t in targets
    }
    serial: dict[str, dict[str, float]] = {t.name: {} for t in targets}
    print(f"{description}; {options.connections} connections, {options.duration} s per run")
    load_before = os.getloadavg()
    for round_ in range(options.rounds):
        for shape in names:
            for target in targets:
                result: LoadResult = await drive(
                    generator,
                    target.url,
                    "",
                    plans[target.name, shape],
                    duration=options.duration,
                    concurrency=options.connections,
                    headers=target.headers,
                )
                runs[target.name][shape].append(
                    {"rps": round(result.rps, 1), "p50_ms": round(result.p50_ms, 2),
                     "p99_ms": round(result.p99_ms, 2), "errors": result.errors}
                )  # fmt: skip
                print(
                    f"  round {round_ + 1} {shape:<10} {target.name:<8} {result.rps:>9,.1f} req/s"
                    f"  p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:8.2f} ms"
                    f"  errors {result.errors}"
                )
                await asyncio.sleep(options.pause)
    if options.serial_duration > 0:
        for shape in names:
            for target in targets:
                result = await drive(
                    generator,
                    target.url,
                    "",
                    plans[target.name, shape],
                    duration=options.serial_duration,
                    concurrency=1,
                    headers=target.headers,
                )
                serial[target.name][shape] = round(result.p50_ms, 2)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": report.machine(),
        "commit": report.git_commit(),
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "load_generator": description,
        "connections": options.connections,
        "duration_s": options.duration,
        "rounds": options.rounds,
        "targets": [{"name": t.name, "url": t.url} for t in targets],
        "runs": runs,
        "serial_p50_ms": serial,
        "reference": reference,
        "goal_ratio": options.goal,
        "command": "python -m bench.compare " + " ".join(redacted(sys.argv[1:])),
    }


def redacted(argv: list[str]) -> list[str]:
    """The command line as recorded: header values (credentials) replaced by `$HEADER`, quoted
    so the line still reads as the command that was run."""
    shown, after_header = [], False
    for arg in argv:
        if after_header or arg.startswith("--header="):
            prefix, _, header = arg.partition("=") if arg.startswith("--header=") else ("", "", arg)
            name, _, line = header.partition("=")
            key = line.partition(":")[0]
            value = f"'{name}={key}: $HEADER'"
            arg = f"--header={value}" if prefix else value
        after_header = arg == "--header"
        shown.append(arg)
    return shown


def _span(values: list[float], digits: int = 0) -> str:
    low, high = min(values), max(values)
    fmt = f"{{:,.{digits}f}}"
    return fmt.format(low) if low == high else f"{fmt.format(low)}-{fmt.format(high)}"


def table(document: dict[str, Any]) -> str:
    """The comparison as a Markdown table: req/s per target (the rounds' range), the ratios of
    the first target to each other one and to the reference, and the first's serial p50."""
    names = [t["name"] for t in document["targets"]]
    first, others = names[0], names[1:]
    reference = document.get("reference")
    goal = document.get("goal_ratio")
    head = ["shape", *[f"{n} req/s" for n in names]]
    head += [f"x {o}" for o in others]
    if reference:
        head += [f"{reference['name']} req/s (recorded)", f"x {reference['name']}"]
    head.append(f"{first} serial p50 ms")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for shape in document["runs"][first]:
        rps = {n: [r["rps"] for r in document["runs"][n][shape]] for n in names}
        cells = [shape, *[_span(rps[n]) for n in names]]
        for other in others:
            ratios = [a / b for a, b in zip(rps[first], rps[other], strict=True) if b]
            cells.append(_span(ratios, 1) if ratios else "n/a")
        if reference:
            recorded = reference["shapes"].get(shape)
            cells.append(f"{recorded:,}" if recorded else "n/a")
            if recorded:
                ratios = [value / recorded for value in rps[first]]
                verdict = ""
                if goal:
                    verdict = " met" if min(ratios) >= goal else " **not met**"
                cells.append(_span(ratios, 1) + verdict)
            else:
                cells.append("n/a")
        cells.append(str(document["serial_p50_ms"][first].get(shape, "n/a")))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _load(values: list[float]) -> str:
    return "/".join(f"{value:.2f}" for value in values)


def record(document: dict[str, Any], markdown: str) -> Path:
    machine = document["machine"]
    names = [t["name"] for t in document["targets"]]
    section = [
        "",
        f"## {document['date']} · side by side ({', '.join(names)})",
        "",
        f"- Machine: {machine['cores']} cores ({machine['cpu']}); load average (1/5/15 min) "
        f"before {_load(document['load_before'])}, after {_load(document['load_after'])}",
        f"- Commit: `{document['commit']}`",
        f"- Command: `{document['command']}`",
        f"- Load generator: {document['load_generator']}; {document['connections']} connections, "
        f"{document['duration_s']} s per run, {document['rounds']} rounds, alternating",
        "",
        markdown,
        "",
    ]
    with report.RESULTS_MD.open("a", encoding="utf-8") as out:
        out.write("\n".join(section))
    return report.RESULTS_MD


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.compare",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--target", action="append", required=True, help="NAME=URL (repeat)")
    parser.add_argument("--shapes", action="append", required=True, help="NAME=FILE (repeat)")
    parser.add_argument("--header", action="append", help="'NAME=Header: value' (repeat)")
    parser.add_argument("--var", action="append", help="VAR=value for {VAR} in every shapes file")
    parser.add_argument("--only", type=lambda v: set(v.split(",")), help="shapes, comma-separated")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20, help="seconds per run")
    parser.add_argument("--serial-duration", type=float, default=5, help="0 skips the serial run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between runs")
    parser.add_argument("--reference", help="recorded figures to compare with (JSON)")
    parser.add_argument("--goal", type=float, help="the ratio each shape should reach")
    parser.add_argument("--load-generator", choices=("auto", "wrk", "asyncio"), default="auto")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--record", action="store_true", help="append to bench/RESULTS.md")
    options = parser.parse_args(argv)
    document = asyncio.run(run(options))
    markdown = table(document)
    print(markdown)
    if options.json:
        options.json.write_text(json.dumps(document, indent=2))
    if options.record:
        print(f"Appended to {record(document, markdown)}")


if __name__ == "__main__":
    main()
