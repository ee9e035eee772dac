"""The stand-up config: defaults, who may change it, what it accepts."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.core.db import Database
from takt.core.events import Event
from tests.standups.kit import CONFIG, ok, use_settings
from tests.support import make_project, make_user, team


async def test_a_project_without_a_config_runs_on_defaults(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    config = ok(await client.get(CONFIG, headers=people["vic"].headers))
    assert [q["id"] for q in config["questions"]] == ["yesterday", "today", "blockers"]
    assert {q["kind"] for q in config["questions"]} == {"text"}
    assert config["weekdays"] == ["mon", "tue", "wed", "thu", "fri"]
    assert config["follows_working_days"] is True
    assert config["cutoff"] == "10:00"
    assert config["time_zone"] == "UTC"
    assert config["participants"] is None
    assert config["share_answers_in_events"] is False
    assert config["version"] == 0


async def test_default_weekdays_follow_the_project_working_days(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await use_settings(client, people["ada"], working_days=["sun", "mon", "tue", "wed", "thu"])
    config = ok(await client.get(CONFIG, headers=people["bob"].headers))
    assert config["weekdays"] == ["mon", "tue", "wed", "thu", "sun"]


async def test_admin_replaces_the_config_and_an_event_records_it(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    body = {
        "questions": [
            {"id": "done", "text": "What did you finish?"},
            {"id": "on_track", "text": "On track?", "kind": "yes_no"},
        ],
        "weekdays": ["mon", "wed", "fri"],
        "cutoff": "09:30",
        "participants": [people["bob"].id],
        "share_answers_in_events": True,
    }
    put = await client.put(CONFIG, json=body, headers=people["ada"].headers)
    config = ok(put)
    assert put.headers["ETag"] == '"v1"'
    assert config["questions"][1] == {"id": "on_track", "text": "On track?", "kind": "yes_no"}
    assert config["questions"][0]["kind"] == "text"
    assert config["weekdays"] == ["mon", "wed", "fri"]
    assert config["follows_working_days"] is False
    assert config["participants"] == [people["bob"].id]
    assert ok(await client.get(CONFIG, headers=people["vic"].headers)) == config
    async with db.transaction(write=False) as session:
        events = list(
            await session.scalars(select(Event).where(Event.type == "standup.config_updated"))
        )
    assert len(events) == 1
    assert events[0].data["cutoff"] == "09:30"
    assert events[0].actor_id == people["ada"].id


async def test_put_replaces_everything_left_out_goes_back_to_defaults(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    ok(await client.put(CONFIG, json={"cutoff": "11:00", "weekdays": ["mon"]}, headers=ada.headers))
    again = ok(await client.put(CONFIG, json={}, headers=ada.headers))
    assert again["cutoff"] == "10:00"
    assert again["follows_working_days"] is True
    assert again["version"] == 2


async def test_members_and_viewers_read_but_only_admins_write(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    for name in ("bob", "vic"):
        assert (await client.put(CONFIG, json={}, headers=people[name].headers)).status_code == 403
    assert (await client.get(CONFIG, headers=people["sam"].headers)).status_code == 404
    assert (await client.put(CONFIG, json={}, headers=people["sam"].headers)).status_code == 404


async def test_a_stale_if_match_is_412(client: AsyncClient, app: FastAPI, db: Database) -> None:
    ada = (await team(app, db))["ada"]
    headers = {**ada.headers, "If-Match": '"v0"'}
    assert (await client.put(CONFIG, json={}, headers=headers)).status_code == 200
    assert (await client.put(CONFIG, json={}, headers=headers)).status_code == 412
    current = {**ada.headers, "If-None-Match": '"v1"'}
    assert (await client.get(CONFIG, headers=current)).status_code == 304


async def test_bad_configs_are_422_with_pointers(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    question = {"id": "q", "text": "?"}
    cases = [
        ({"questions": []}, "/questions"),
        ({"questions": [{**question, "id": f"q{n}"} for n in range(11)]}, "/questions"),
        ({"questions": [question, question]}, "/questions"),
        ({"questions": [{"id": "Bad Id", "text": "?"}]}, "/questions/0/id"),
        ({"questions": [{**question, "kind": "scale"}]}, "/questions/0/kind"),
        ({"cutoff": "24:00"}, "/cutoff"),
        ({"cutoff": "9:30"}, "/cutoff"),
        ({"weekdays": []}, "/weekdays"),
        ({"weekdays": ["mon", "mon"]}, "/weekdays"),
        ({"participants": [people["vic"].id]}, "/participants/0"),
        ({"participants": [people["bob"].id, people["sam"].id]}, "/participants/1"),
        ({"share_answers_in_events": "yes"}, "/share_answers_in_events"),
        ({"colour": "red"}, "/colour"),
    ]
    for body, pointer in cases:
        response = await client.put(CONFIG, json=body, headers=ada.headers)
        assert response.status_code == 422, (body, response.text)
        assert pointer in [e["pointer"] for e in response.json()["errors"]], (body, response.text)


async def test_an_instance_admin_who_is_not_a_member_may_configure(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    root = await make_user(app, db, "root", admin=True)
    owner = await make_user(app, db, "owner")
    await make_project(db, owner, "OPS")
    url = "/api/v1/projects/OPS/standup-config"
    assert (await client.put(url, json={}, headers=root.headers)).status_code == 200
