"""Connects every domain's hook subscriptions (see `takt.core.hooks`): run once at start-up by
whatever runs services: `create_app`, the CLI's commands, the demo loader. Running it again
changes nothing."""

from __future__ import annotations

from takt.blockers import subscriptions as blockers
from takt.delivery import subscriptions as delivery
from takt.deployments import subscriptions as deployments
from takt.incidents import subscriptions as incidents
from takt.items import subscriptions as items
from takt.readiness import subscriptions as readiness
from takt.sprints import subscriptions as sprints
from takt.workflow import subscriptions as workflow


def connect() -> None:
    workflow.connect()
    items.connect()
    sprints.connect()
    blockers.connect()
    delivery.connect()
    readiness.connect()
    deployments.connect()
    incidents.connect()
