"""The side-by-side harness (bench.compare): shapes expand into the requests each server gets, and
the table reads the ratios the way issue 19 states them. Never throughput: that is bench's."""

from __future__ import annotations

import json
from pathlib import Path

from bench.compare import expand, redacted, table

SHAPES = Path(__file__).parents[2] / "bench" / "shapes"


def test_a_patch_shape_changes_every_row_it_touches_and_keeps_writers_apart() -> None:
    shape = {
        "method": "patch",
        "path": "/api/v1/items/{project}-{n}",
        "n": [1, "{items}"],
        "body": {"title": "Renamed {n} {flip}"},
    }
    requests = expand(shape, {"project": "P003", "items": "10"}, lanes=4)

    assert len(requests) == 20  # each of the 10 items twice: a, then b
    assert {r.method for r in requests} == {"PATCH"}
    assert {r.path for r in requests} == {f"/api/v1/items/P003-{n}" for n in range(1, 11)}
    bodies = [json.loads(r.body)["title"] for r in requests]
    assert bodies[:2] == ["Renamed 1 a", "Renamed 1 b"]
    # A row belongs to one lane only, so two connections never race on it.
    lanes_of: dict[str, set[int]] = {}
    for request in requests:
        lanes_of.setdefault(request.path, set()).add(request.lane)
    assert all(len(lanes) == 1 for lanes in lanes_of.values())
    assert {lane for lanes in lanes_of.values() for lane in lanes} == {0, 1, 2, 3}


def test_a_read_shape_without_n_is_one_request() -> None:
    requests = expand({"path": "/api/v1/projects/{project}"}, {"project": "P001"}, lanes=2)
    assert [(r.method, r.path, r.body) for r in requests] == [("GET", "/api/v1/projects/P001", "")]


def test_the_table_gives_ratios_per_round_against_the_other_server_and_the_record() -> None:
    reference = json.loads((SHAPES / "taiga-2026-11.json").read_text())
    document = {
        "targets": [{"name": "takt"}, {"name": "other"}],
        "runs": {
            "takt": {"list": [{"rps": 1750.0}, {"rps": 2100.0}]},
            "other": {"list": [{"rps": 35.0}, {"rps": 30.0}]},
        },
        "serial_p50_ms": {"takt": {"list": 1.9}},
        "reference": reference,
        "goal_ratio": 50,
    }

    rendered = table(document).splitlines()

    assert rendered[0].startswith("| shape | takt req/s | other req/s | x other |")
    # 1750/35 = 50.0 and 2100/30 = 70.0 live; against the recorded 35: 50.0 to 60.0, met.
    assert rendered[2] == "| list | 1,750-2,100 | 30-35 | 50.0-70.0 | 35 | 50.0-60.0 met | 1.9 |"


def test_takts_shapes_file_names_the_five_shapes_of_the_comparison() -> None:
    takt = json.loads((SHAPES / "takt.json").read_text())
    reference = json.loads((SHAPES / "taiga-2026-11.json").read_text())
    assert (
        set(takt["shapes"])
        == set(reference["shapes"])
        == {
            "list",
            "item",
            "project",
            "patch",
            "create",
        }
    )


def test_the_recorded_command_never_holds_a_credential() -> None:
    argv = ["--target", "t=http://x", "--header", "t=Authorization: Bearer abc.def", "--goal", "50"]
    argv += ["--header=u=X-Api-Key: s3cret"]
    shown = " ".join(redacted(argv))
    assert "abc.def" not in shown
    assert "s3cret" not in shown
    assert "--header 't=Authorization: $HEADER'" in shown
    assert "--header='u=X-Api-Key: $HEADER'" in shown
    assert "--goal 50" in shown
