"""How delivery joins lower domains at start-up: its pull-request source of stand-up drafts
(`takt.standups.drafts.register_source`)."""

from __future__ import annotations

from takt.delivery.drafts import SOURCE
from takt.standups.drafts import register_source


def connect() -> None:
    register_source(SOURCE)
