"""What webhooks teach: pull requests with their state, reviewers, timestamps and review rounds
(worked by hand), links to items, the events in the items' history, the automation, and the
lists that read it all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.config import Settings
from takt.core.db import Database
from takt.core.time import utcnow
from tests.delivery.support import (
    fixture,
    github_pr,
    github_review,
    inbox,
    link_repository,
    process_inbox,
    send_github,
)
from tests.support import Account, team

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def items(client: AsyncClient, who: Account, *titles: str) -> list[str]:
    keys = []
    for title in titles:
        created = await client.post(
            "/api/v1/projects/API/items", json={"title": title}, headers=who.headers
        )
        assert created.status_code == 201
        keys.append(created.json()["key"])
    return keys


async def deliver(
    client: AsyncClient,
    db: Database,
    settings: Settings,
    repository: dict[str, Any],
    *sent: tuple[str, dict[str, Any]],
) -> None:
    for event, payload in sent:
        response = await send_github(client, repository, event, payload)
        assert response.status_code == 202, response.text
    await process_inbox(db, settings)
    failed = [(d.event, d.reason) for d in await inbox(db) if d.state not in ("processed",)]
    assert not failed, failed


async def pull_requests(client: AsyncClient, who: Account, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/v1/projects/API/pull-requests", params=params, headers=who.headers
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def status_of(client: AsyncClient, who: Account, key: str) -> str:
    response = await client.get(f"/api/v1/items/{key}", headers=who.headers)
    name: str = response.json()["status"]["name"]
    return name


async def enable_automation(client: AsyncClient, admin: Account) -> None:
    response = await client.patch(
        "/api/v1/projects/API",
        json={"settings": {"review_automation": True}},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["settings"]["review_automation"] is True


async def test_a_pull_request_links_the_items_its_branch_title_and_body_name(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    one, two, three, four = await items(client, people["ada"], "One", "Two", "Three", "Four")
    await team_other_project(app, db, client)
    repository = await link_repository(client, people["ada"])
    opened = github_pr(
        "opened",
        opened=at(0),
        title=f"{one.lower()}: refunds (not xAPI-3, not API-30)",
        branch=f"feature/{two}_refunds",
        body=f"Also fixes {four}. And OTH-1, of another project, and API-999, of no item.",
    )
    await deliver(client, db, settings, repository, ("pull_request", opened))
    (pr,) = await pull_requests(client, people["bob"])
    assert pr["item_keys"] == sorted([one, two, four])
    assert pr["state"] == "open"
    assert pr["number"] == 2
    assert pr["author"] == {"login": "Codertocat", "user": None, "is_bot": False}
    assert pr["opened_at"] == pr["ready_at"] == z(at(0))
    assert pr["size"] == {"additions": 1, "deletions": 1, "changed_files": 1, "commits": 1}
    assert [r["login"] for r in pr["reviewers"]] == ["octocat"]
    assert pr["reviewers"][0]["requested"] is True
    for key, expected in ((one, 1), (three, 0)):
        response = await client.get(
            f"/api/v1/items/{key}/pull-requests", headers=people["vic"].headers
        )
        assert response.status_code == 200
        assert len(response.json()["data"]) == expected
    history = await client.get(f"/api/v1/items/{one}/history", headers=people["bob"].headers)
    opened_events = [e for e in history.json()["data"] if e["type"] == "pull_request.opened"]
    assert len(opened_events) == 1
    assert opened_events[0]["data"]["item_key"] == one
    assert opened_events[0]["data"]["number"] == 2
    hidden = await client.get(f"/api/v1/items/{one}/pull-requests", headers=people["sam"].headers)
    assert hidden.status_code == 404


async def team_other_project(app: FastAPI, db: Database, client: AsyncClient) -> None:
    """Project OTH with an item OTH-1 (keys of another project link nothing here)."""
    from tests.support import make_project, make_user

    owner = await make_user(app, db, "olga")
    await make_project(db, owner, "OTH")
    created = await client.post(
        "/api/v1/projects/OTH/items", json={"title": "Other"}, headers=owner.headers
    )
    assert created.status_code == 201


def lifecycle() -> list[tuple[str, dict[str, Any]]]:
    """A pull request's life, worked by hand: opened ready at 0 h with octocat asked to
    review; changes requested at 2 h; octocat asked again at 5 h; approved at 8 h; merged at
    10 h."""
    return [
        ("pull_request", github_pr("opened", opened=at(0), title="API-1 refunds")),
        (
            "pull_request_review",
            github_review(
                "changes_requested", review_id=1, reviewer="octocat", at=at(2), opened=at(0)
            ),
        ),
        (
            "pull_request",
            github_pr(
                "review_requested",
                opened=at(0),
                updated=at(5),
                requested="octocat",
                title="API-1 refunds",
            ),
        ),
        (
            "pull_request_review",
            github_review("approved", review_id=2, reviewer="octocat", at=at(8), opened=at(0)),
        ),
        (
            "pull_request",
            github_pr(
                "closed",
                opened=at(0),
                updated=at(10),
                merged_at=at(10),
                title="API-1 refunds",
                reviewers=(),
            ),
        ),
    ]


async def test_a_review_cycle_gives_the_timestamps_and_rounds_worked_by_hand(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    (key,) = await items(client, people["ada"], "Refunds")
    repository = await link_repository(client, people["ada"])
    steps = lifecycle()
    seen = []
    for step in steps:
        await deliver(client, db, settings, repository, step)
        (pr,) = await pull_requests(client, people["ada"])
        seen.append((pr["state"], pr["waiting_since"], pr["review_rounds"]))
    assert seen == [
        ("open", z(at(0)), 0),
        ("changes_requested", None, 0),
        ("changes_requested", z(at(5)), 1),
        ("approved", None, 1),
        ("merged", None, 1),
    ]
    assert pr["first_review_at"] == z(at(2))
    assert pr["approved_at"] == z(at(8))
    assert pr["merged_at"] == z(at(10))
    assert pr["reviewers"] == [
        {"login": "octocat", "user": None, "requested": False, "verdict": "approved"}
    ]
    history = await client.get(f"/api/v1/items/{key}/history", headers=people["bob"].headers)
    types = [e["type"] for e in history.json()["data"] if e["type"].startswith("pull_request")]
    assert types == [
        "pull_request.opened",
        "pull_request.review_submitted",
        "pull_request.review_requested",
        "pull_request.review_submitted",
        "pull_request.merged",
    ]
    merged = history.json()["data"][-1]
    assert merged["data"]["approved"] is True
    assert merged["data"]["state"] == "merged"


@pytest.mark.parametrize("order", [(4, 3, 2, 1, 0), (1, 0, 4, 2, 3), (2, 4, 0, 3, 1)])
async def test_deliveries_arriving_out_of_order_give_the_same_pull_request(
    order: tuple[int, ...], app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    await items(client, people["ada"], "Refunds")
    repository = await link_repository(client, people["ada"])
    steps = lifecycle()
    await deliver(client, db, settings, repository, *(steps[i] for i in order))
    (pr,) = await pull_requests(client, people["ada"])
    got = {
        k: pr[k]
        for k in (
            "state",
            "ready_at",
            "first_review_at",
            "approved_at",
            "merged_at",
            "review_rounds",
            "waiting_since",
            "item_keys",
            "title",
        )
    }
    assert got == {
        "state": "merged",
        "ready_at": z(at(0)),
        "first_review_at": z(at(2)),
        "approved_at": z(at(8)),
        "merged_at": z(at(10)),
        "review_rounds": 1,
        "waiting_since": None,
        "item_keys": ["API-1"],
        "title": "API-1 refunds",
    }


async def test_drafts_wait_for_nobody_and_are_ready_when_marked_so(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    await deliver(
        client,
        db,
        settings,
        repository,
        ("pull_request", github_pr("opened", opened=at(0), draft=True)),
    )
    (pr,) = await pull_requests(client, people["ada"])
    assert (pr["state"], pr["ready_at"], pr["waiting_since"]) == ("draft", None, None)
    # A comment by the author before it is ready is no first review.
    early = github_review("commented", review_id=5, reviewer="octocat", at=at(1), opened=at(0))
    early["pull_request"]["draft"] = True
    await deliver(client, db, settings, repository, ("pull_request_review", early))
    ready = github_pr("ready_for_review", opened=at(0), updated=at(3))
    await deliver(client, db, settings, repository, ("pull_request", ready))
    (pr,) = await pull_requests(client, people["ada"])
    assert (pr["state"], pr["ready_at"], pr["waiting_since"]) == ("open", z(at(3)), z(at(3)))
    assert pr["first_review_at"] is None  # the only review came before it was ready
    back = github_pr("converted_to_draft", opened=at(0), updated=at(4), draft=True)
    await deliver(client, db, settings, repository, ("pull_request", back))
    (pr,) = await pull_requests(client, people["ada"])
    assert (pr["state"], pr["ready_at"], pr["waiting_since"]) == ("draft", z(at(3)), None)


async def test_a_dismissed_review_withdraws_its_verdict(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    approve = github_review("approved", review_id=9, reviewer="octocat", at=at(1), opened=at(0))
    await deliver(
        client,
        db,
        settings,
        repository,
        ("pull_request", github_pr("opened", opened=at(0))),
        ("pull_request_review", approve),
    )
    (pr,) = await pull_requests(client, people["ada"])
    assert pr["state"] == "approved"
    dismissed = github_review(
        "dismissed", review_id=9, reviewer="octocat", at=at(1), opened=at(0), action="dismissed"
    )
    await deliver(client, db, settings, repository, ("pull_request_review", dismissed))
    (pr,) = await pull_requests(client, people["ada"])
    assert pr["state"] == "open"
    assert pr["reviewers"][0]["verdict"] == "dismissed"
    merged = github_pr("closed", opened=at(0), updated=at(3), merged_at=at(3))
    await deliver(client, db, settings, repository, ("pull_request", merged))
    events = await client.get(
        "/api/v1/projects/API/events",
        params={"types": "pull_request.merged"},
        headers=people["ada"].headers,
    )
    assert events.json()["data"][0]["data"]["approved"] is False


async def test_closed_and_reopened(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    await deliver(
        client,
        db,
        settings,
        repository,
        ("pull_request", github_pr("opened", opened=at(0))),
        ("pull_request", github_pr("closed", opened=at(0), updated=at(1), closed_at=at(1))),
    )
    (pr,) = await pull_requests(client, people["ada"])
    assert (pr["state"], pr["closed_at"], pr["merged_at"]) == ("closed", z(at(1)), None)
    await deliver(
        client,
        db,
        settings,
        repository,
        ("pull_request", github_pr("reopened", opened=at(0), updated=at(2))),
    )
    (pr,) = await pull_requests(client, people["ada"])
    assert (pr["state"], pr["closed_at"]) == ("open", None)
    types = [
        e["type"]
        for e in (
            await client.get("/api/v1/projects/API/events", headers=people["ada"].headers)
        ).json()["data"]
    ]
    assert [t for t in types if t.startswith("pull_request")] == [
        "pull_request.opened",
        "pull_request.closed",
        "pull_request.reopened",
    ]


async def test_the_automation_is_off_by_default(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    (key,) = await items(client, people["ada"], "Refunds")
    before = await status_of(client, people["ada"], key)
    repository = await link_repository(client, people["ada"])
    await deliver(client, db, settings, repository, *lifecycle())
    assert await status_of(client, people["ada"], key) == before


async def test_the_automation_moves_items_to_review_then_done_as_the_items_own_change(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    await enable_automation(client, people["ada"])
    key, done_key, cancelled_key = await items(client, people["ada"], "Refunds", "Done", "Dropped")
    for k, status in ((done_key, "Done"), (cancelled_key, "Cancelled")):
        moved = await client.patch(
            f"/api/v1/items/{k}", json={"status": status}, headers=people["ada"].headers
        )
        assert moved.status_code == 200
    repository = await link_repository(client, people["ada"])
    title = f"{key} {done_key} {cancelled_key} refunds"
    opened = github_pr("opened", opened=at(0), title=title)
    await deliver(client, db, settings, repository, ("pull_request", opened))
    assert await status_of(client, people["ada"], key) == "In Review"
    assert await status_of(client, people["ada"], done_key) == "Done"  # never backwards
    assert await status_of(client, people["ada"], cancelled_key) == "Cancelled"
    history = (
        await client.get(f"/api/v1/items/{key}/history", headers=people["ada"].headers)
    ).json()["data"]
    move = [e for e in history if e["type"] == "item.updated"][-1]
    assert (
        move["changes"]["status"] == ["Backlog", "In Review"]
        or move["changes"]["status"][1] == "In Review"
    )
    assert move["actor"]["id"] == "takt-automation"
    merged = github_pr("closed", opened=at(0), updated=at(2), merged_at=at(2), title=title)
    await deliver(client, db, settings, repository, ("pull_request", merged))
    assert await status_of(client, people["ada"], key) == "Done"
    assert await status_of(client, people["ada"], cancelled_key) == "Cancelled"
    # A new pull request naming the done item doesn't take it back to review.
    again = github_pr("opened", number=3, opened=at(3), title=f"{key} follow-up")
    await deliver(client, db, settings, repository, ("pull_request", again))
    assert await status_of(client, people["ada"], key) == "Done"


async def test_an_item_named_later_is_moved_when_the_title_changes(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    await enable_automation(client, people["ada"])
    (key,) = await items(client, people["ada"], "Refunds")
    repository = await link_repository(client, people["ada"])
    await deliver(
        client, db, settings, repository, ("pull_request", github_pr("opened", opened=at(0)))
    )
    edited = github_pr("edited", opened=at(0), updated=at(1), title=f"{key} refunds")
    await deliver(client, db, settings, repository, ("pull_request", edited))
    assert await status_of(client, people["ada"], key) == "In Review"
    history = (
        await client.get(f"/api/v1/items/{key}/history", headers=people["ada"].headers)
    ).json()["data"]
    assert "pull_request.linked" in [e["type"] for e in history]


def numbers(found: list[dict[str, Any]]) -> list[int]:
    return sorted(pr["number"] for pr in found)


async def test_filters_state_author_reviewer_item_and_waiting(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    (key,) = await items(client, people["ada"], "Refunds")
    repository = await link_repository(client, people["ada"])
    now = utcnow().replace(microsecond=0)
    old = github_pr(
        "opened",
        number=10,
        opened=now - timedelta(hours=30),
        author="alice",
        reviewers=("carol",),
        title=f"{key} old",
    )
    fresh = github_pr(
        "opened", number=11, opened=now - timedelta(hours=2), author="bobby", reviewers=("dave",)
    )
    draft = github_pr(
        "opened",
        number=12,
        opened=now - timedelta(hours=50),
        draft=True,
        author="alice",
        reviewers=(),
    )
    await deliver(
        client,
        db,
        settings,
        repository,
        ("pull_request", old),
        ("pull_request", fresh),
        ("pull_request", draft),
    )
    ada = people["ada"]
    assert numbers(await pull_requests(client, ada)) == [10, 11, 12]
    assert numbers(await pull_requests(client, ada, state="draft")) == [12]
    assert numbers(await pull_requests(client, ada, author="ALICE")) == [10, 12]
    assert numbers(await pull_requests(client, ada, reviewer="dave")) == [11]
    assert numbers(await pull_requests(client, ada, item=key)) == [10]
    assert numbers(await pull_requests(client, ada, waiting_for_review_hours=24)) == [10]
    assert numbers(await pull_requests(client, ada, waiting_for_review_hours=1)) == [10, 11]
    unknown = await client.get(
        "/api/v1/projects/API/pull-requests", params={"item": "API-99"}, headers=ada.headers
    )
    assert unknown.status_code == 422
    bad = await client.get(
        "/api/v1/projects/API/pull-requests", params={"state": "weird"}, headers=ada.headers
    )
    assert bad.status_code == 422
    # Pages of one follow each other without repeats.
    page = await client.get(
        "/api/v1/projects/API/pull-requests", params={"limit": 1}, headers=ada.headers
    )
    seen = [page.json()["data"][0]["number"]]
    while page.json()["next_cursor"]:
        page = await client.get(
            "/api/v1/projects/API/pull-requests",
            params={"limit": 1, "cursor": page.json()["next_cursor"]},
            headers=ada.headers,
        )
        seen.append(page.json()["data"][0]["number"])
    assert seen == [11, 10, 12]  # latest opened first


async def test_a_linked_identity_makes_pull_requests_and_reviews_a_members(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    await deliver(
        client, db, settings, repository, ("pull_request", github_pr("opened", opened=at(0)))
    )
    linked = await client.put(
        "/api/v1/users/me/identities/github",
        json={"login": "codertocat"},
        headers=people["bob"].headers,
    )
    assert linked.status_code == 200
    assert linked.json()["login"] == "codertocat"
    (pr,) = await pull_requests(client, people["ada"])
    assert pr["author"]["user"]["username"] == "bob"
    assert [p["number"] for p in await pull_requests(client, people["ada"], author="bob")] == [2]
    taken = await client.put(
        "/api/v1/users/me/identities/github",
        json={"login": "Codertocat"},
        headers=people["vic"].headers,
    )
    assert taken.status_code == 409
    assert taken.json()["code"] == "identity-taken"
    mine = await client.get("/api/v1/users/me/identities", headers=people["bob"].headers)
    assert [i["login"] for i in mine.json()["data"]] == ["codertocat"]
    gone = await client.delete("/api/v1/users/me/identities/github", headers=people["bob"].headers)
    assert gone.status_code == 204
    (pr,) = await pull_requests(client, people["ada"])
    assert pr["author"]["user"] is None
    again = await client.delete("/api/v1/users/me/identities/github", headers=people["bob"].headers)
    assert again.status_code == 404


async def test_pushes_record_commits_once_and_link_them(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    (key,) = await items(client, people["ada"], "Refunds")
    repository = await link_repository(client, people["ada"])
    push = fixture("github", "push.with-new-branch.json")
    push["commits"][0]["message"] = f"Fix refunds ({key.lower()})\n\nLonger text."
    second = dict(push["commits"][0], id="a" * 40, message="No key here")
    push["commits"].append(second)
    push["forced"] = True
    await deliver(client, db, settings, repository, ("push", push))
    await deliver(
        client, db, settings, repository, ("push", push)
    )  # another delivery, same commits
    history = (
        await client.get(f"/api/v1/items/{key}/history", headers=people["ada"].headers)
    ).json()["data"]
    pushed = [e for e in history if e["type"] == "commit.pushed"]
    assert len(pushed) == 1
    assert pushed[0]["data"]["message"] == f"Fix refunds ({key.lower()})"
    assert pushed[0]["data"]["forced"] is True
    assert pushed[0]["data"]["branch"] == "master"
    log = (
        await client.get(
            "/api/v1/projects/API/events",
            params={"types": "commit.pushed"},
            headers=people["ada"].headers,
        )
    ).json()["data"]
    assert sorted(e["data"]["item_key"] or "-" for e in log) == ["-", key]
    # A tag push and a deleted branch record nothing.
    tag = fixture("github", "push.json")
    await deliver(client, db, settings, repository, ("push", tag))
    log_after = (
        await client.get(
            "/api/v1/projects/API/events",
            params={"types": "commit.pushed"},
            headers=people["ada"].headers,
        )
    ).json()["data"]
    assert len(log_after) == 2


async def test_gitlab_merge_requests_approvals_and_notes(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    from tests.delivery.support import send_gitlab

    people = await team(app, db)
    (key,) = await items(client, people["ada"], "Viewport")
    repository = await link_repository(client, people["ada"], "gitlab", "gitlabhq/gitlab-test")
    opened = fixture("gitlab", "merge_request.json")
    opened["object_attributes"].update(title=f"{key}: MS-Viewport", author_id=1)
    approved = fixture("gitlab", "merge_request.json")
    approved["object_attributes"].update(
        action="approved",
        updated_at="2013-12-03 19:23:34 UTC",
        title=f"{key}: MS-Viewport",
        author_id=51,
    )
    approved["user"] = {"id": 7, "name": "Rev", "username": "reviewer"}
    merged = fixture("gitlab", "merge_request.json")
    merged["object_attributes"].update(
        action="merge",
        state="merged",
        updated_at="2013-12-03T20:23:34Z",
        title=f"{key}: MS-Viewport",
    )
    for event, payload in (
        ("Merge Request Hook", opened),
        ("Merge Request Hook", approved),
        ("Merge Request Hook", merged),
    ):
        assert (await send_gitlab(client, repository, event, payload)).status_code == 202
    await process_inbox(db, settings)
    assert [d.state for d in await inbox(db)] == ["processed"] * 3
    (pr,) = await pull_requests(client, people["ada"])
    assert pr["number"] == 1
    assert pr["provider"] == "gitlab"
    assert pr["author"]["login"] == "user1"
    assert pr["state"] == "merged"
    assert pr["item_keys"] == [key]
    assert pr["first_review_at"] == pr["approved_at"] == "2013-12-03T19:23:34Z"
    assert pr["merged_at"] == "2013-12-03T20:23:34Z"
