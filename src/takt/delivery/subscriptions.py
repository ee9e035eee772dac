"""How delivery joins lower domains at start-up: its pull-request source of stand-up drafts
(`takt.standups.drafts.register_source`) and the pull-request summary every item answer shows
(`takt.items.pull_request_directory`)."""

from __future__ import annotations

from typing import Any

from takt.delivery import repository as repo
from takt.delivery.drafts import SOURCE
from takt.items import pull_request_directory
from takt.items.pull_request_directory import ItemIdColumn
from takt.standups.drafts import register_source


class PullRequests:
    """Items' pull-request lookup (`takt.items.pull_request_directory.PullRequestDirectory`),
    answered from this domain's repository."""

    def states(self, item_id: ItemIdColumn) -> Any:
        return repo.pull_request_states_of(item_id)


PULL_REQUESTS = PullRequests()


def connect() -> None:
    register_source(SOURCE)
    pull_request_directory.provide(PULL_REQUESTS)
