"""`q=` through the API: names that don't exist, sprints by name, OR and parentheses, the board's
sprint, and dates and numbers at the edges of their ranges (never a 5xx)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from takt.core.bounds import FIRST_DATE, LAST_DATE
from takt.core.db import Database
from takt.items.query import MAX_CLAUSES, MAX_DEPTH, MAX_ESTIMATE
from tests.support import Account, make_project, make_user, new_item, team

ITEMS = "/api/v1/projects/API/items"


async def _sprint(client: AsyncClient, who: Account, name: str, key: str = "API") -> str:
    response = await client.post(
        f"/api/v1/projects/{key}/sprints", json={"name": name}, headers=who.headers
    )
    assert response.status_code == 201, response.text
    sprint_id: str = response.json()["id"]
    return sprint_id


async def _backlog(client: AsyncClient, people: dict[str, Account]) -> dict[str, str]:
    ada = people["ada"]
    await client.post("/api/v1/projects/API/labels", json={"name": "api"}, headers=ada.headers)
    march = await _sprint(client, ada, "Sprint 4 (March)")
    april = await _sprint(client, ada, "April")
    await new_item(client, ada, type="epic", title="Payments", priority="low")  # API-1
    await new_item(  # API-2
        client, ada, type="bug", title="Crash", priority="low", sprint_id=march, estimate=100
    )
    await new_item(  # API-3
        client,
        ada,
        type="story",
        title="Checkout",
        priority="high",
        labels=["api"],
        sprint_id=april,
        due_date="9000-12-31",
        estimate=0.5,
        assignee="bob",
    )
    await new_item(  # API-4
        client, ada, type="story", title="Refunds", priority="low", due_date="1970-01-01"
    )
    await new_item(client, ada, type="task", title="Docs", priority="urgent", estimate=0)  # API-5
    return {"march": march, "april": april}


async def _keys(client: AsyncClient, who: Account, q: str) -> list[str]:
    response = await client.get(ITEMS, params={"q": q, "sort": "key"}, headers=who.headers)
    assert response.status_code == 200, (q, response.text)
    return [item["key"] for item in response.json()["data"]]


async def _refused(client: AsyncClient, who: Account, q: str) -> dict[str, object]:
    response = await client.get(ITEMS, params={"q": q}, headers=who.headers)
    assert response.status_code == 400, (q, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert body["code"] == "invalid-query", q
    assert f"(at position {body['position']})" in str(body["detail"])
    return body


@pytest.mark.parametrize(
    ("q", "position"),
    [
        ('status:"Not A Status"', 7),
        ("label:nope", 6),
        ("-label:nope", 7),
        ("assignee:zed", 9),
        ("assignee:sam", 9),  # an account, but not one of the project's people
        ("parent:API-99", 7),
        ("parent:WEB-1", 7),  # an item of another project
        ("sprint:Nope", 7),
        ('type:bug OR (type:story sprint:"Sprint 9")', 31),
        ("sprint:3f2b8c1e-9d4a-4b7e-8f00-1234567890ab", 7),
    ],
)
async def test_unknown_name_is_400_at_its_position_not_an_empty_list(
    client: AsyncClient, app: FastAPI, db: Database, q: str, position: int
) -> None:
    people = await team(app, db)
    await _backlog(client, people)
    web_owner = await make_user(app, db, "wendy")
    await make_project(db, web_owner, "WEB")
    await new_item(client, web_owner, key="WEB")
    body = await _refused(client, people["ada"], q)
    assert body["position"] == position
    assert "in this project" in str(body["detail"])


async def test_an_account_outside_the_project_reads_like_no_account(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    stranger = await _refused(client, people["ada"], "assignee:sam")
    nobody = await _refused(client, people["ada"], "assignee:zzz")
    assert str(stranger["detail"]).replace("sam", "zzz") == nobody["detail"]


async def test_another_projects_sprint_is_unknown(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await _backlog(client, people)
    other = await make_user(app, db, "wendy")
    await make_project(db, other, "WEB")
    web_sprint = await _sprint(client, other, "April", key="WEB")
    await _refused(client, people["ada"], f"sprint:{web_sprint}")


async def test_sprint_by_name_or_id(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await team(app, db)
    sprints = await _backlog(client, people)
    ada = people["ada"]
    assert await _keys(client, ada, 'sprint:"Sprint 4 (March)"') == ["API-2"]
    assert await _keys(client, ada, 'sprint:"sprint 4 (march)"') == ["API-2"]
    assert await _keys(client, ada, "sprint:april") == ["API-3"]
    assert await _keys(client, ada, f"sprint:{sprints['march']}") == ["API-2"]
    assert await _keys(client, ada, 'sprint:april sprint:"Sprint 4 (March)"') == ["API-2", "API-3"]
    assert await _keys(client, ada, "-sprint:april") == ["API-1", "API-2", "API-4", "API-5"]


async def test_or_binds_looser_than_and(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await team(app, db)
    await _backlog(client, people)
    ada = people["ada"]
    cases = {
        "type:bug OR (type:story priority:>=high)": ["API-2", "API-3"],
        "type:bug OR type:story priority:>=high": ["API-2", "API-3"],
        "type:bug OR type:story AND priority:>=high": ["API-2", "API-3"],
        "(type:bug OR type:story) priority:>=high": ["API-3"],
        "(type:bug OR type:story) AND priority:low": ["API-2", "API-4"],
        "-(type:bug OR type:story)": ["API-1", "API-5"],
        "type:epic OR label:api OR estimate:0": ["API-1", "API-3", "API-5"],
        "(type:epic OR (priority:urgent OR due:none)) -type:story": ["API-1", "API-2", "API-5"],
        "(crash OR checkout) -(label:api)": ["API-2"],
        "type:bug OR assignee:bob OR sprint:none type:story": ["API-2", "API-3", "API-4"],
        "(label:api OR label:api)": ["API-3"],
    }
    for q, expected in cases.items():
        assert await _keys(client, ada, q) == expected, q


async def test_facets_count_an_or_query(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await team(app, db)
    await _backlog(client, people)
    response = await client.get(
        ITEMS,
        params={"q": "type:bug OR (label:api OR checkout)", "facets": "type,label,assignee"},
        headers=people["ada"].headers,
    )
    assert response.status_code == 200, response.text
    facets = response.json()["facets"]
    assert facets["type"] == {"bug": 1, "story": 1}
    assert facets["label"] == {"api": 1}
    assert facets["assignee"] == {"bob": 1, "none": 1}


@pytest.mark.parametrize(
    ("q", "position", "message"),
    [
        ("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), MAX_DEPTH, "levels of parentheses"),
        (" OR ".join(["type:bug"] * (MAX_CLAUSES + 1)), 12 * MAX_CLAUSES, "terms"),
        ("type:bug OR", 11, "expected a term after OR"),
        ("(type:bug", 0, "unclosed '('"),
        ("type:bug)", 8, "unmatched ')'"),
    ],
)
async def test_nesting_and_term_limits_are_400(
    client: AsyncClient, app: FastAPI, db: Database, q: str, position: int, message: str
) -> None:
    ada = (await team(app, db))["ada"]
    body = await _refused(client, ada, q)
    assert body["position"] == position
    assert message in str(body["detail"])


async def test_dates_and_numbers_at_their_bounds(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await _backlog(client, people)
    ada = people["ada"]
    everything = ["API-1", "API-2", "API-3", "API-4", "API-5"]
    cases = {
        "created:9000-12-31": [],
        "created:>9000-12-31": [],
        "created:<=9000-12-31": everything,
        "updated:<9000-12-31": everything,
        "created:1970-01-01": [],
        "created:<1970-01-01": [],
        "created:>=1970-01-01": everything,
        "created:>-10000d": everything,
        "created:<+100000d": everything,
        "created:today": everything,
        "updated:>=-0d": everything,
        "due:9000-12-31": ["API-3"],
        "due:>9000-12-31": [],
        "due:>=9000-12-31": ["API-3"],
        "due:1970-01-01": ["API-4"],
        "due:<1970-01-01": [],
        "due:<=1970-01-01": ["API-4"],
        "due:>today": ["API-3"],
        "due:none": ["API-1", "API-2", "API-5"],
        "-due:none": ["API-3", "API-4"],
        "-due:<today": ["API-1", "API-2", "API-3", "API-5"],
        "estimate:100": ["API-2"],
        f"estimate:{MAX_ESTIMATE}": [],
        "estimate:>=100.000000000000": ["API-2"],
        "estimate:>=1000.000000000000": [],
        "estimate:0": ["API-5"],
        "estimate:0.5": ["API-3"],
        "estimate:<1": ["API-3", "API-5"],
        "estimate:none": ["API-1", "API-4"],
        "-estimate:>0": ["API-1", "API-4", "API-5"],
        "key:API-999999999": [],
    }
    for q, expected in cases.items():
        assert await _keys(client, ada, q) == expected, q


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("created:9999-12-31", "outside 1970-01-01 to 9000-12-31"),
        ("updated:<0001-01-01", "outside 1970-01-01 to 9000-12-31"),
        ("due:>1969-12-31", "outside 1970-01-01 to 9000-12-31"),
        ("due:9001-01-01", "outside 1970-01-01 to 9000-12-31"),
        ("created:-100000d", "from today is outside 1970-01-01 to 9000-12-31"),
        ("created:-9999999d", "from today is outside 1970-01-01 to 9000-12-31"),
        ("due:>+9999999d", "from today is outside 1970-01-01 to 9000-12-31"),
        ("created:0000-12-31", "not a real date"),
        ("created:10000-01-01", "not a date"),
        ("due:-99999999d", "not a date"),
        ("estimate:1000.001", "at most 1000"),
        ("estimate:99999999999999999999", "not an estimate"),
        ("estimate:1e308", "not an estimate"),
        ("estimate:-1", "not an estimate"),
        ("estimate:>none", "compares with nothing"),
    ],
)
async def test_out_of_range_dates_and_numbers_are_400(
    client: AsyncClient, app: FastAPI, db: Database, q: str, message: str
) -> None:
    ada = (await team(app, db))["ada"]
    body = await _refused(client, ada, q)
    assert message in str(body["detail"]), body


async def test_board_refuses_an_unknown_sprint(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    sprints = await _backlog(client, people)
    other = await make_user(app, db, "wendy")
    await make_project(db, other, "WEB")
    web_sprint = await _sprint(client, other, "April", key="WEB")
    ada = people["ada"]
    board = "/api/v1/projects/API/board"
    for unknown in ("no-such-sprint", web_sprint):
        response = await client.get(board, params={"sprint_id": unknown}, headers=ada.headers)
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "not-found"
    found = await client.get(board, params={"sprint_id": sprints["march"]}, headers=ada.headers)
    assert found.status_code == 200
    shown = [item["key"] for column in found.json()["columns"] for item in column["items"]]
    assert shown == ["API-2"]


# Dates and numbers at and around the edges of their ranges, and values past them.
_edge_days = (
    st.sampled_from([date.min, date.max, FIRST_DATE, LAST_DATE, date(2000, 2, 29)])
    | st.dates(FIRST_DATE - timedelta(3), FIRST_DATE + timedelta(3))
    | st.dates(LAST_DATE - timedelta(3), LAST_DATE + timedelta(3))
    | st.dates()
)
_day_text = st.one_of(
    _edge_days.map(date.isoformat),
    st.integers(-9_999_999, 9_999_999).map(lambda n: f"{n:+d}d"),
    st.sampled_from(["today", "none", "0000-01-01", "9999-12-32", "99999-01-01", "-0d", "+0d"]),
)
_number_text = st.one_of(
    st.sampled_from(["0", "1000", "1000.0", "1000.000000000001", "999.999", "none", "1e308"]),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(min_value=0, max_value=2000, places=3).map(str),
)
_edge_queries = st.one_of(
    st.tuples(
        st.sampled_from(["created", "updated", "due"]),
        st.sampled_from([":", ":>", ":>=", ":<", ":<=", ":-"]),
        _day_text,
    ),
    st.tuples(
        st.sampled_from(["estimate", "priority", "key", "parent"]),
        st.sampled_from([":", ":>", ":>=", ":<", ":<="]),
        _number_text | st.integers(0, 10**12).map(lambda n: f"API-{n}"),
    ),
).map(lambda parts: "".join(parts))


def _generate(strategy: st.SearchStrategy[str], count: int) -> list[str]:
    """`count` examples from `strategy` (HTTP calls need the test's event loop, so hypothesis only
    draws here and the test sends them; a failure names the query)."""
    drawn: list[str] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(value: str) -> None:
        drawn.append(value)

    draw()
    return drawn


async def test_dates_and_numbers_at_any_edge_never_5xx(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await _backlog(client, people)
    ada = people["ada"]
    far = (date.today() + timedelta(days=1)).isoformat()
    edges = [
        f"{name}:{op}{day}"
        for name in ("created", "due")
        for op in ("", ">", "<=")
        for day in ("1970-01-01", "9000-12-31", "9999-12-31", "0001-01-01")
    ]
    queries = [f"created:{far} OR due:>-10000d", *edges, *_generate(_edge_queries, 250)]
    for q in queries:
        response = await client.get(ITEMS, params={"q": q}, headers=ada.headers)
        assert response.status_code in (200, 400), (q, response.status_code, response.text)
        if response.status_code == 400:
            assert response.json()["code"] == "invalid-query", q
