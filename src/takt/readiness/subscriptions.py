"""How readiness joins lower domains at start-up: it answers the sprint review's release lookup
(`takt.sprints.release_directory`) from deployments' tables, since sprints sit below
deployments and readiness above them."""

from __future__ import annotations

from typing import Any

from takt.items.pull_request_directory import ItemIdColumn
from takt.readiness import repository as repo
from takt.sprints import release_directory


class Releases:
    """Sprints' release lookup (`takt.sprints.release_directory.ReleaseDirectory`), answered
    from this domain's repository."""

    def in_production_since(self, item_id: ItemIdColumn) -> Any:
        return repo.in_production_since(item_id)


RELEASES = Releases()


def connect() -> None:
    release_directory.provide(RELEASES)
